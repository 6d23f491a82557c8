"""The offline provider: always available, no key, free and deterministic.

It makes real media without a network: prompt-shaped PNG pictures, synthesised
WAV sound (effects, music, a voice-like babble, dialogue) and H.264 MP4 clips.
The same request (seed included) gives the same bytes (PNG, WAV) or the same
decoded frames (MP4).

Importing this module is cheap: numpy, Pillow and PyAV load on first ``run``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from workers.base import (
    ASPECT_RATIOS,
    AudioType,
    Capabilities,
    CostEstimate,
    GenerationOutput,
    GenerationRequest,
    ModelSpec,
    Operation,
    ParamSpec,
    RunContext,
    check,
    validate_common,
)
from workers.local_common import Tick

ALL_OPS = (Operation.GENERATE, Operation.DERIVE, Operation.REFINE)
IMAGE_SIZES: Mapping[str, int] = {"512": 512, "1K": 1024, "2K": 2048}  # longest side
DEFAULT_IMAGE_SIZE = "1K"
VIDEO_SIZES: Mapping[str, int] = {"360p": 360, "480p": 480, "720p": 720}
VIDEO_ASPECTS = ("16:9", "9:16", "1:1", "4:3")
MAX_PROMPT = 20_000
VERSION = "1"

IMAGE_MODEL = ModelSpec(
    id="local-image",
    label="Local image",
    media_kind="image",
    operations=ALL_OPS,
    max_references=14,
    sizes=tuple(IMAGE_SIZES),
    default_size=DEFAULT_IMAGE_SIZE,
    aspect_ratios=ASPECT_RATIOS,
    default_aspect_ratio="1:1",
    params=(
        ParamSpec(
            "composition",
            "choice",
            "auto",
            choices=("auto", "centered", "thirds", "scattered"),
            help="Where shapes go; auto reads the prompt",
        ),
    ),
)
AUDIO_MODEL = ModelSpec(
    id="local-audio",
    label="Local audio",
    media_kind="audio",
    operations=ALL_OPS,
    max_references=4,
    min_duration_s=0.5,
    max_duration_s=120.0,
    default_duration_s=4.0,
    audio_types=(AudioType.SFX, AudioType.MUSIC, AudioType.SPEECH, AudioType.DIALOGUE),
    reference_kinds=("audio", "video"),  # a clip's soundtrack can be a source
    params=(
        ParamSpec("voice", "choice", "mid", choices=("low", "mid", "high"), help="Voice pitch"),
    ),
)
VIDEO_MODEL = ModelSpec(
    id="local-video",
    label="Local video",
    media_kind="video",
    operations=ALL_OPS,
    max_references=2,
    sizes=tuple(VIDEO_SIZES),
    default_size="360p",
    aspect_ratios=VIDEO_ASPECTS,
    default_aspect_ratio="16:9",
    min_duration_s=1.0,
    max_duration_s=10.0,
    default_duration_s=4.0,
    params=(ParamSpec("audio", "bool", True, help="Include a soundtrack (AAC)"),),
    reference_kinds=("image",),  # first frame / subject, then last-frame target
)
CAPABILITIES = Capabilities(
    provider="local",
    label="Local (offline)",
    models=(IMAGE_MODEL, AUDIO_MODEL, VIDEO_MODEL),
    needs_key=False,
)
# Generate lengths when none is asked (speech and dialogue follow their text).
AUDIO_DEFAULT_S: Mapping[AudioType, float] = {AudioType.SFX: 2.0, AudioType.MUSIC: 15.0}


def provenance(model: str) -> dict[str, Any]:
    return {"provider": "local", "model": model, "version": VERSION}


def ticker(context: RunContext, lo: float, hi: float) -> Tick:
    """A :data:`Tick` mapping a renderer's [0, 1] onto [lo, hi] of the job's
    progress, checking for cancellation on every call."""

    def tick(fraction: float, message: str = "") -> None:
        context.check_cancelled()
        context.progress(lo + (hi - lo) * min(1.0, max(0.0, fraction)), message)

    return tick


def audio_seconds(request: GenerationRequest) -> float | None:
    """The output length for a request, or None when the references decide it."""
    if request.duration_s is not None:
        return float(request.duration_s)
    if request.operation is not Operation.GENERATE:
        return None
    kind = request.audio_type or AudioType.SFX
    if kind in AUDIO_DEFAULT_S:
        return AUDIO_DEFAULT_S[kind]
    from workers.local_voice import dialogue_natural_seconds, natural_seconds

    natural = (
        dialogue_natural_seconds(request.prompt)
        if kind is AudioType.DIALOGUE
        else natural_seconds(request.prompt)
    )
    return min(120.0, max(0.5, round(natural + 0.25, 3)))


class LocalProvider:
    """Offline generation for images, audio and video (see the module docstring)."""

    name = "local"

    def __init__(self, latency_s: float = 0.0) -> None:
        self.latency_s = max(0.0, float(latency_s))

    def capabilities(self) -> Capabilities:
        return CAPABILITIES

    def validate(self, request: GenerationRequest) -> None:
        validate_common(CAPABILITIES, request)
        prompt = request.prompt.strip()
        check(len(request.prompt) <= MAX_PROMPT, f"the prompt is over {MAX_PROMPT} characters")
        if request.operation is Operation.GENERATE:
            check(bool(prompt), "a prompt is needed to generate")
        else:
            check(
                len(request.references) >= 1,
                f"{request.operation.value} needs at least one reference",
            )
        check(isinstance(request.seed, int), "the seed must be a whole number")

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        note = "Local and offline: free"
        if request.media_kind == "image":
            return CostEstimate(0.0, 1.0, "image", note)
        if request.media_kind == "video":
            return CostEstimate(0.0, float(request.duration_s or 4.0), "second", note)
        seconds = audio_seconds(request)
        if seconds is None:
            known = [r.duration_ms / 1000 for r in request.references if r.duration_ms]
            seconds = min(120.0, max(0.5, max(known, default=4.0)))
        return CostEstimate(0.0, round(seconds, 3), "second", note)

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        self.validate(request)
        context.check_cancelled()
        start = 0.0
        if self.latency_s > 0:
            start = 0.3
            steps = max(1, math.ceil(self.latency_s / 0.1))
            for i in range(steps):
                context.progress(start * i / steps, "Waiting for the local studio")
                context.sleep(self.latency_s / steps)
        tick = ticker(context, start, 1.0)
        tick(0.0, "Starting")
        if request.media_kind == "image":
            from workers.local_run import run_image

            output = run_image(request, tick)
        elif request.media_kind == "audio":
            from workers.local_run import run_audio

            output = run_audio(request, tick)
        else:
            from workers.local_run import run_video

            output = run_video(request, context.temp_dir, tick)
        context.progress(1.0, "Done")
        return output
