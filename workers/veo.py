"""Veo video (``google-genai``): ``models.generate_videos`` with a prompt, an optional
first frame (the first image reference) and last frame (the second), then polling the
long-running operation and downloading the file.

Wire: ``POST {base}/v1beta/models/{model}:predictLongRunning`` → an operation name;
``GET {base}/v1beta/{operation name}`` until ``done``; the video's URI names a file
fetched with ``GET {base}/v1beta/files/{id}:download?alt=media``.

The tier is the model: ``veo-3.1-generate-preview`` (standard) or
``veo-3.1-fast-generate-preview`` (fast). Veo always makes a soundtrack: the Gemini API
cannot turn it off with an API key, so ``generateAudio`` defaults to true and false is
refused. The poster frame and probing are the job's ``store_output`` step.
"""

from __future__ import annotations

import math
import time
from typing import Any

from workers import prices
from workers.base import (
    Capabilities,
    CostEstimate,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    ModelSpec,
    Operation,
    ParamSpec,
    ProviderError,
    Retired,
    RunContext,
    check,
)
from workers.cloud import CloudProvider, drop_none, error, first, image_payload
from workers.google_common import (
    LIST_TIMEOUT_S,
    ModelContext,
    list_model_ids,
    make_client,
    map_google_error,
    operation_error,
)
from workers.omni import OMNI, OMNI_EXPECTED_S, OMNI_MODEL, run_omni

DURATIONS = (4, 6, 8)
FRAMES, ASSETS = "frames", "assets"
MAX_FRAMES, MAX_ASSETS = 2, 3  # first + last frame; "up to three reference images" (Veo page)
PARAMS = (
    ParamSpec("negativePrompt", "str", None, help="What the video should not show"),
    ParamSpec(
        "references",
        "choice",
        FRAMES,
        choices=(FRAMES, ASSETS),
        help="Image references as the first and last frame, or as up to 3 reference images "
        "of what the video should show",
    ),
    ParamSpec(
        "generateAudio",
        "bool",
        True,
        help="Veo always makes a soundtrack; it can't be turned off with an API key",
    ),
)


CHECKED = "2026-11-30"
VEO_PAGE = "https://ai.google.dev/gemini-api/docs/veo (720p, 1080p or 4k; 8 s at 1080p/4k)"
# Reportedly shut down on 2026-10-22 (docs.apiyi.com/en/live/2026-10/veo-3-1-preview-retired,
# quoting Google's deprecations page, which names gemini-omni-1.1-flash as the replacement).
# Google's own stored pages do not confirm it: the ids stay offered, a 404 names the
# replacement, and the live model list hides them once the service stops listing them.
RETIRED_REPORT = "secondary: https://docs.apiyi.com/en/live/2026-10/veo-3-1-preview-retired.md"


def _model(model_id: str, label: str) -> ModelSpec:
    return ModelSpec(
        id=model_id,
        label=label,
        media_kind="video",
        operations=(Operation.GENERATE, Operation.DERIVE, Operation.REFINE),
        max_references=MAX_ASSETS,  # frames mode takes 2: first frame, then last frame
        reference_kinds=("image",),
        sizes=("720p", "1080p", "4k"),
        default_size="720p",
        aspect_ratios=("16:9", "9:16"),
        default_aspect_ratio="16:9",
        min_duration_s=4.0,
        max_duration_s=8.0,
        default_duration_s=8.0,
        params=PARAMS,
        source=VEO_PAGE,
        checked=CHECKED,
    )


VEO_STANDARD = _model("veo-3.1-generate-preview", "Veo 3.1 (standard)")
VEO_FAST = _model("veo-3.1-fast-generate-preview", "Veo 3.1 Fast")

CAPABILITIES = Capabilities(
    provider="veo",
    label="Google video (Gemini Omni, Veo)",
    models=(OMNI_MODEL, VEO_STANDARD, VEO_FAST),
    needs_key=True,
    retired=(
        Retired(VEO_STANDARD.id, OMNI, "2026-10-22", RETIRED_REPORT, CHECKED, confirmed=False),
        Retired(VEO_FAST.id, OMNI, "2026-10-22", RETIRED_REPORT, CHECKED, confirmed=False),
    ),
)


class VeoProvider(CloudProvider):
    """Video clips from Veo (see the module docstring)."""

    name = "veo"
    CAPS = CAPABILITIES
    LIST_FAMILY = ("veo-", "gemini-omni")
    DEFAULT_TIMEOUT_S = 60.0

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        timeout_s: float | None = None,
        poll_s: float = 10.0,
        max_wait_s: float = 15 * 60.0,
        expected_s: float = 90.0,
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout_s=timeout_s)
        self.poll_s = max(0.01, float(poll_s))
        self.max_wait_s = float(max_wait_s)
        self.expected_s = max(1.0, float(expected_s))
        self._interactions_obj: Any = None

    def _validate(self, request: GenerationRequest) -> None:
        if request.model == OMNI:
            return
        if request.duration_s is not None:
            check(
                request.duration_s in DURATIONS,
                f"Veo makes clips of {', '.join(map(str, DURATIONS))} seconds",
            )
        if self._mode(request) == FRAMES:
            check(
                len(request.references) <= MAX_FRAMES,
                f"Veo takes {MAX_FRAMES} frames (first and last); for up to {MAX_ASSETS} "
                "reference images choose references: assets",
            )
        seconds = self._duration(request)
        check(
            self._resolution(request) == "720p" or seconds == 8,
            f"Veo makes {self._resolution(request)} clips of 8 seconds only",
        )
        check(
            request.params.get("generateAudio", True) is True,
            "Veo can't turn its soundtrack off (generateAudio: false is not available with "
            "an API key); leave it on and mute the clip afterwards",
        )

    def _mode(self, request: GenerationRequest) -> str:
        return str(request.params.get("references") or FRAMES)

    def _duration(self, request: GenerationRequest) -> int:
        if request.duration_s is None:
            return 8
        return int(request.duration_s)

    def _resolution(self, request: GenerationRequest) -> str:
        return request.size or "720p"

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        if request.model == OMNI:
            seconds = float(request.duration_s or OMNI_EXPECTED_S)
            return prices.estimate(self.name, OMNI, seconds, request.size or "720p")
        return prices.estimate(self.name, request.model, float(self._duration(request)))

    def listed_models(self) -> list[str]:
        return self.call_mapped(
            "listing the models",
            lambda: list_model_ids(
                make_client(self._api_key, self.base_url, min(self.timeout_s, LIST_TIMEOUT_S))
            ),
        )

    def _make_client(self) -> Any:
        return make_client(self._api_key, self.base_url, self.timeout_s)

    def _map_error(self, exc: Exception, request: GenerationRequest | None) -> ProviderError | None:
        where = None if request is None else ModelContext(self.CAPS, request.model)
        return map_google_error(exc, self.name, where)

    def _interactions(self) -> Any:
        """The SDK's Interactions client, its own retry loop off (the queue retries)."""
        with self._client_lock:
            if self._interactions_obj is None:
                client = make_client(self._api_key, self.base_url, self.timeout_s)
                interactions = client.interactions
                config = getattr(interactions, "sdk_configuration", None)
                if config is not None:
                    config.retry_config = None
                # keep the client too: it closes its connections when collected
                self._interactions_obj = (client, interactions)
            return self._interactions_obj[1]

    def _call(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        from google.genai import types

        if request.model == OMNI:
            return run_omni(self.name, self._interactions(), request, context)

        context.progress(0.01, "Preparing the request")
        images = []
        for ref in request.references[:MAX_ASSETS]:
            data, mime = image_payload(ref)
            images.append((ref.variant_id, types.Image(image_bytes=data, mime_type=mime), mime))
        assets = images if self._mode(request) == ASSETS else []
        frames = [] if assets else images[:MAX_FRAMES]
        negative = request.params.get("negativePrompt") or None
        aspect = request.aspect_ratio or "16:9"
        config = types.GenerateVideosConfig(
            number_of_videos=1,
            duration_seconds=self._duration(request),
            resolution=self._resolution(request),
            aspect_ratio=aspect,
            negative_prompt=negative,
            last_frame=frames[1][1] if len(frames) > 1 else None,
            reference_images=[
                types.VideoGenerationReferenceImage(
                    image=image, reference_type=types.VideoGenerationReferenceType.ASSET
                )
                for _vid, image, _mime in assets
            ]
            or None,
        )
        source = types.GenerateVideosSource(
            prompt=request.prompt, image=frames[0][1] if frames else None
        )
        sent = drop_none(
            {
                "api": "models.generateVideos",
                "number_of_videos": 1,
                "duration_seconds": self._duration(request),
                "resolution": self._resolution(request),
                "aspect_ratio": aspect,
                "negative_prompt": negative,
                "generate_audio": True,
                "first_frame": {"variant_id": frames[0][0], "mime_type": frames[0][2]}
                if frames
                else None,
                "last_frame": {"variant_id": frames[1][0], "mime_type": frames[1][2]}
                if len(frames) > 1
                else None,
                "reference_images": [
                    {"variant_id": vid, "mime_type": mime, "type": "asset"}
                    for vid, _image, mime in assets
                ]
                or None,
            }
        )
        client = self.client()
        context.check_cancelled()
        context.progress(0.03, "Sending to Veo")
        op = client.models.generate_videos(model=request.model, source=source, config=config)
        op = self._wait(client, op, context)
        return self._output(client, request, op, sent, context)

    def _wait(self, client: Any, op: Any, context: RunContext) -> Any:
        started = time.monotonic()
        while not op.done:
            elapsed = time.monotonic() - started
            if elapsed > self.max_wait_s:
                raise error(
                    ErrorKind.PROVIDER_DOWN,
                    f"veo did not finish within {self.max_wait_s / 60:g} minutes ({op.name})",
                )
            context.progress(self._fraction(op, elapsed), "Veo is rendering")
            context.sleep(self.poll_s)  # raises CANCELLED when the job is cancelled
            op = client.operations.get(op)
        context.check_cancelled()
        return op

    def _fraction(self, op: Any, elapsed: float) -> float:
        meta = op.metadata or {}
        pct = meta.get("progressPercent") if isinstance(meta, dict) else None
        if isinstance(pct, int | float):
            return 0.05 + 0.85 * min(1.0, max(0.0, pct / 100))
        return 0.05 + 0.85 * (1 - math.exp(-elapsed / self.expected_s))

    def _output(
        self,
        client: Any,
        request: GenerationRequest,
        op: Any,
        sent: dict[str, Any],
        context: RunContext,
    ) -> GenerationOutput:
        if op.error:
            raise operation_error(self.name, op.error)
        response = op.response or op.result
        sample = first((response.generated_videos or ()) if response else ())
        if sample is None or sample.video is None:
            reasons = (response.rai_media_filtered_reasons if response else None) or []
            if reasons or (response is not None and response.rai_media_filtered_count):
                why = "; ".join(reasons) or "no reason given"
                raise error(ErrorKind.SAFETY_BLOCKED, f"veo filtered the video for safety: {why}")
            raise error(
                ErrorKind.MALFORMED,
                f"veo finished without a video and without a reason ({op.name}); retry",
            )
        video = sample.video
        context.progress(0.92, "Downloading the video")
        data = video.video_bytes or client.files.download(file=video)
        context.check_cancelled()
        context.progress(0.99, "Downloaded")
        return GenerationOutput(
            mime=video.mime_type or "video/mp4",
            ext="mp4",
            data=bytes(data),
            provider_metadata=drop_none(
                {
                    "operation": op.name,
                    "video_uri": video.uri,
                    "rai_media_filtered_count": response.rai_media_filtered_count,
                }
            ),
            provenance={
                "provider": self.name,
                "model": request.model,
                "operation": op.name,
                "request": sent,
            },
            units=float(self._duration(request)),
            unit="second",
        )
