"""Media as Claude sees it: an image downscaled to a long edge of at most
:data:`IMAGE_LONG_EDGE` as a base64 image block, a video as a few such frames, audio
as a text description (metadata and a coarse loudness profile)."""

from __future__ import annotations

import base64
import io
from pathlib import Path
from typing import Any

from PIL import Image

from studio.assistant.models import IMAGE_LONG_EDGE, IMAGE_MAX_BYTES, VIDEO_FRAMES
from studio.core.handlers.common import media_file
from studio.core.space import Space
from studio.media.images import open_image

MAX_SOURCE_PIXELS = 100_000_000  # refuse decompression bombs before decoding


def _fit(img: Image.Image) -> Image.Image:
    img = img.copy() if img.mode in ("RGB", "RGBA", "L") else img.convert("RGBA")
    if max(img.size) > IMAGE_LONG_EDGE:
        img.thumbnail((IMAGE_LONG_EDGE, IMAGE_LONG_EDGE), Image.Resampling.LANCZOS)
    return img


def encode(img: Image.Image) -> dict[str, Any]:
    """An image block of ``img``: long edge ≤ IMAGE_LONG_EDGE, under IMAGE_MAX_BYTES."""
    img = _fit(img)
    alpha = img.mode == "RGBA"
    for quality in (88, 75, 60, 45):
        buf = io.BytesIO()
        if alpha:
            img.save(buf, "PNG", optimize=True)
        else:
            img.convert("RGB").save(buf, "JPEG", quality=quality)
        data = buf.getvalue()
        if len(data) <= IMAGE_MAX_BYTES:
            break
        alpha = False  # a PNG too big for the limit goes as JPEG
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": "image/png" if alpha else "image/jpeg",
            "data": base64.b64encode(data).decode("ascii"),
        },
    }


def _text(text: str) -> dict[str, Any]:
    return {"type": "text", "text": text}


def blocks_for(space: Space, variant_id: str) -> list[dict[str, Any]]:
    """What to send for one variant: a caption and its pictures, or a description."""
    d = space.variant_detail(variant_id)
    v = d.row
    asset = space.asset(v.asset_id)
    prompt = d.recipe.get("prompt") or d.recipe.get("original_name") or ""
    caption = f"Variant {variant_id} of {asset.name!r} ({asset.media_kind})"
    if prompt:
        caption += f", prompt: {prompt!r}"
    if v.status != "completed" or not v.media_path:
        return [_text(f"{caption}: no media yet (status {v.status}).")]
    path = media_file(space.media_dir, v.media_path)
    try:
        if asset.media_kind == "image":
            ext = path.suffix.lstrip(".").lower()
            with path.open("rb") as f, open_image(f, ext, MAX_SOURCE_PIXELS) as img:
                img.load()
                return [_text(caption), encode(img)]
        if asset.media_kind == "video":
            frames = video_frames(path, v.duration_ms)
            return [_text(f"{caption}, {len(frames)} frames:"), *(encode(f) for f in frames)]
        return [_text(f"{caption}: {audio_description(path, d)}")]
    except Exception as exc:  # any media fault: say so in words, the chat goes on
        return [_text(f"{caption}: its media could not be read ({type(exc).__name__}).")]


def video_frames(
    path: Path, duration_ms: int | None, count: int = VIDEO_FRAMES
) -> list[Image.Image]:
    """``count`` frames spread over the video (decoded, then downscaled)."""
    import av

    out: list[Image.Image] = []
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        total = (duration_ms or 0) / 1000
        marks = [total * (i + 0.5) / count for i in range(count)] if total > 0 else [0.0]
        for mark in marks:
            if stream.time_base and mark > 0:
                container.seek(int(mark / stream.time_base), stream=stream)
            for frame in container.decode(stream):
                out.append(_fit(frame.to_image()))
                break
    return out


def audio_description(path: Path, d: Any) -> str:
    """Audio in words: length, format and how its loudness moves over time."""
    from studio.media.waveform import waveform_peaks

    v = d.row
    parts = [f"{(v.duration_ms or 0) / 1000:.1f} s", v.mime or "audio"]
    if d.size_bytes:
        parts.append(f"{d.size_bytes // 1024} KiB")
    try:
        _mins, maxs, rms = waveform_peaks(path, v.duration_ms).columns(8)
        levels = " ".join(f"{float(x):.2f}" for x in rms)
        parts.append(f"loudness (RMS, 8 equal parts): {levels}; peak {float(maxs.max()):.2f}")
    except Exception:  # no waveform: the metadata still says something
        pass
    return ", ".join(parts)
