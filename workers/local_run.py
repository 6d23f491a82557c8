"""The local provider's job bodies: one request in, one GenerationOutput out.

Split from :mod:`workers.local` so that importing the provider stays cheap; this
module pulls in numpy and Pillow (PyAV only when audio is decoded or video made).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from workers.base import (
    ASPECT_RATIOS,
    AudioType,
    GenerationOutput,
    GenerationRequest,
    Operation,
    aspect_dimensions,
)
from workers.local import (
    DEFAULT_IMAGE_SIZE,
    IMAGE_SIZES,
    VIDEO_ASPECTS,
    VIDEO_SIZES,
    audio_seconds,
    provenance,
)
from workers.local_audio import SR, Signal, encode_wav, parse_sfx, render_sfx
from workers.local_common import Tick, lookup, no_tick, stable_seed, sub_tick
from workers.local_image import (
    derive_image,
    encode_png,
    nearest_aspect,
    open_reference,
    palette_from_images,
    refine_image,
    render_scene,
)
from workers.local_prompt import SceneSpec, parse_image_ops, parse_scene


def _scene(request: GenerationRequest, refs: list[Any]) -> SceneSpec:
    comp = request.params.get("composition", "auto")
    spec = parse_scene(request.prompt, request.seed, None if comp == "auto" else comp)
    if refs and request.operation is Operation.GENERATE:  # style references
        spec = replace(spec, palette=palette_from_images(refs, spec.palette))
    return spec


def _scene_meta(spec: SceneSpec) -> dict[str, Any]:
    return {
        "palette": spec.palette.hex(),
        "palette_from": list(spec.palette.sources),
        "shapes": list(spec.shapes),
        "composition": spec.composition,
    }


def _open_references(request: GenerationRequest) -> list[Any]:
    """Reference images: refine reads only its source, at full size; style and
    derive references are scaled to what an output can show."""
    if request.operation is Operation.REFINE:
        return [open_reference(request.references[0].path)]
    limit = 512 if request.operation is Operation.GENERATE else 2048
    return [open_reference(r.path, limit) for r in request.references]


def run_image(request: GenerationRequest, tick: Tick = no_tick) -> GenerationOutput:
    refs = _open_references(request)
    tick(0.05, "Reading the prompt")
    meta: dict[str, Any] = {
        "model": request.model,
        "seed": request.seed,
        "operation": request.operation.value,
    }
    spec = _scene(request, refs)
    if request.operation is Operation.GENERATE:
        aspect = request.aspect_ratio or "1:1"
        width, height = aspect_dimensions(aspect, IMAGE_SIZES[request.size or DEFAULT_IMAGE_SIZE])
        img = render_scene(spec, width, height, tick=tick)
        meta |= _scene_meta(spec)
    elif request.operation is Operation.REFINE:
        src = refs[0]
        aspect = request.aspect_ratio or nearest_aspect(src.width, src.height, ASPECT_RATIOS)
        size = request.size or min(IMAGE_SIZES, key=lambda s: abs(IMAGE_SIZES[s] - max(src.size)))
        width, height = aspect_dimensions(aspect, IMAGE_SIZES[size])
        ops = parse_image_ops(request.prompt)
        img = refine_image(src, ops, width, height, tick)
        meta |= {
            "transforms": [op.label() for op in ops],
            "source": request.references[0].variant_id,
        }
    else:
        aspect = request.aspect_ratio or nearest_aspect(
            refs[0].width, refs[0].height, ASPECT_RATIOS
        )
        width, height = aspect_dimensions(aspect, IMAGE_SIZES[request.size or DEFAULT_IMAGE_SIZE])
        img, mode = derive_image(refs, spec, request.prompt, width, height, tick)
        meta |= _scene_meta(spec) | {"layout": mode, "references": len(refs)}
    tick(0.9, "Encoding PNG")
    meta |= {"width": width, "height": height, "aspect_ratio": aspect}
    return GenerationOutput(
        mime="image/png",
        ext="png",
        data=encode_png(img),
        picture=img,  # previews from the picture in memory, not a second decode
        provider_metadata=meta,
        provenance=provenance(request.model),
        units=1.0,
        unit="image",
    )


def synth(
    kind: AudioType, prompt: str, voice: str, seconds: float, seed: int, tick: Tick
) -> tuple[Signal, dict[str, Any]]:
    """Generated sound of one type, plus what explains it."""
    if kind is AudioType.MUSIC:
        from workers.local_music import parse_music, render_music

        spec = parse_music(prompt, seed)
        meta = {"key": spec.key, "tempo_bpm": spec.tempo, "lead": spec.lead, "drums": spec.drums,
                "progression": list(spec.progression)}  # fmt: skip
        return render_music(spec, seconds, tick), meta
    if kind is AudioType.SPEECH:
        from workers.local_voice import render_speech

        return render_speech(prompt, voice, seconds, seed, tick), {"voice": voice}
    if kind is AudioType.DIALOGUE:
        from workers.local_voice import dialogue_lines, render_dialogue

        speakers = list(dict.fromkeys(who for who, _ in dialogue_lines(prompt)))
        return render_dialogue(prompt, voice, seconds, seed, tick), {
            "voice": voice,
            "speakers": speakers,
        }
    kinds = parse_sfx(prompt)
    return render_sfx(kinds, seconds, stable_seed(prompt, seed), tick), {"effects": list(kinds)}


def run_audio(request: GenerationRequest, tick: Tick = no_tick) -> GenerationOutput:
    from workers.local_audio_edit import (
        clamp_seconds,
        combine,
        decode_audio,
        finish,
        parse_audio_ops,
        parse_mix_mode,
        refine_audio,
    )

    kind = request.audio_type or AudioType.SFX
    voice = str(request.params.get("voice", "mid"))
    channels = 2 if kind in (AudioType.MUSIC, AudioType.DIALOGUE) else 1
    seconds = audio_seconds(request)
    meta: dict[str, Any] = {"model": request.model, "seed": request.seed, "operation": request.operation.value,
                            "audio_type": kind.value}  # fmt: skip
    if request.operation is Operation.GENERATE:
        assert seconds is not None
        signal, extra = synth(
            kind, request.prompt, voice, seconds, request.seed, sub_tick(tick, 0.05, 0.9)
        )
        meta |= extra
    else:
        sources = []
        for i, ref in enumerate(request.references):
            sources.append(decode_audio(ref.path))
            tick(0.1 + 0.2 * (i + 1) / len(request.references), f"Decoded reference {i + 1}")
        if request.operation is Operation.REFINE:
            ops = parse_audio_ops(request.prompt)
            signal = refine_audio(
                sources[0], ops, stable_seed(request.prompt, request.seed), sub_tick(tick, 0.3, 0.9)
            )
            meta["transforms"] = list(ops)
        else:
            mode = parse_mix_mode(request.prompt)
            signal = combine(sources, mode)
            meta |= {"mix": mode, "references": len(sources)}
        seconds = seconds if seconds is not None else clamp_seconds(signal, 0.5, 120.0)
        if request.operation is Operation.DERIVE and request.prompt.strip():
            layer, extra = synth(kind, request.prompt, voice, seconds, request.seed, no_tick)
            mixed = finish(signal, 2, seconds) + 0.35 * finish(layer, 2, seconds)
            signal = mixed
            meta["layer"] = extra
    tick(0.95, "Writing WAV")
    out = finish(signal, channels, seconds)
    meta |= {"channels": channels, "sample_rate": SR, "seconds": round(out.shape[-1] / SR, 4)}
    return GenerationOutput(
        mime="audio/wav",
        ext="wav",
        data=encode_wav(out),
        provider_metadata=meta,
        provenance=provenance(request.model),
        units=round(seconds, 3),
        unit="second",
    )


def soundtrack(prompt: str, seed: int, seconds: float) -> tuple[Signal, dict[str, Any]]:
    """Music fitting the prompt, with its sound effects over it when it names any."""
    from workers.local_audio import SFX_WORDS
    from workers.local_audio_edit import finish
    from workers.local_music import parse_music, render_music

    spec = parse_music(prompt, seed)
    music = render_music(spec, seconds)
    meta: dict[str, Any] = {"key": spec.key, "tempo_bpm": spec.tempo}
    effects = lookup(SFX_WORDS, prompt)[:2]
    if effects:
        fx = render_sfx(tuple(effects), seconds, stable_seed(prompt, seed))
        music = finish(music * 0.6 + np.stack([fx, fx]) * 0.5, 2, seconds)
        meta["effects"] = effects
    return music, meta


def run_video(request: GenerationRequest, temp_dir: Path, tick: Tick = no_tick) -> GenerationOutput:
    from workers.local_video import (
        ZOOM,
        encode_mp4,
        frame_count,
        reference_frames,
        scene_frames,
        video_dimensions,
    )

    refs = [open_reference(r.path, 2048) for r in request.references]
    seconds = float(request.duration_s or 4.0)
    if request.aspect_ratio:
        aspect = request.aspect_ratio
    elif refs and request.operation is not Operation.GENERATE:
        aspect = nearest_aspect(refs[0].width, refs[0].height, VIDEO_ASPECTS)
    else:
        aspect = "16:9"
    width, height = video_dimensions(aspect, VIDEO_SIZES[request.size or "360p"])
    n = frame_count(seconds)
    spec = _scene(request, refs)
    meta: dict[str, Any] = {"model": request.model, "seed": request.seed, "operation": request.operation.value,
                            "width": width, "height": height, "fps": 24, "frames": n, "aspect_ratio": aspect}  # fmt: skip
    tick(0.05, "Setting the scene")
    if request.operation is Operation.GENERATE:
        frames = scene_frames(spec, width, height, n)
        meta |= _scene_meta(spec)
    elif request.operation is Operation.REFINE:
        ops = parse_image_ops(request.prompt)
        big = (round(width * ZOOM), round(height * ZOOM))
        refined = [refine_image(r, ops, *big) for r in refs]
        frames = reference_frames(refined, width, height, n, spec.seed, None)
        meta["transforms"] = [op.label() for op in ops]
    else:
        frames = reference_frames(refs, width, height, n, spec.seed, spec)
        meta |= _scene_meta(spec) | {"references": len(refs)}
    audio = None
    if request.params.get("audio", True):
        audio, meta["soundtrack"] = soundtrack(request.prompt, request.seed, n / 24)
        tick(0.15, "Soundtrack ready")
    path = temp_dir / f"local-{uuid.uuid4().hex}.mp4"

    def encode_tick(fraction: float, message: str = "") -> None:
        tick(0.15 + 0.85 * fraction, message)

    encode_mp4(path, width, height, n, frames, audio, encode_tick)
    return GenerationOutput(
        mime="video/mp4",
        ext="mp4",
        path=path,
        provider_metadata=meta,
        provenance=provenance(request.model),
        units=round(n / 24, 3),
        unit="second",
    )
