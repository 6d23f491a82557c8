"""``studio convert``: a variant's media written in another format (images with Pillow,
audio and video with PyAV, which bundles FFmpeg's encoders), into ``exports/`` or a
chosen place, with its provenance embedded (see :mod:`studio.core.exports`). The space
is only read: a conversion is a file outside it."""

from __future__ import annotations

import secrets
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, BinaryIO

from studio.core.errors import InvalidStateError, StorageError, ValidationError
from studio.core.exports import made_by_a_model, provenance_doc
from studio.core.space import Space
from studio.media.provenance import ProvenanceError, write_with_provenance, xmp_packet
from studio.media.structure import metadata_cuts, pillow_view


@dataclass(frozen=True, slots=True)
class Target:
    kind: str
    mime: str
    ext: str
    container: str
    codec: str = ""
    audio_codec: str = ""


TARGETS: dict[str, Target] = {
    "png": Target("image", "image/png", "png", "PNG"),
    "jpeg": Target("image", "image/jpeg", "jpg", "JPEG"),
    "webp": Target("image", "image/webp", "webp", "WEBP"),
    "avif": Target("image", "image/avif", "avif", "AVIF"),
    "tiff": Target("image", "image/tiff", "tiff", "TIFF"),
    "wav": Target("audio", "audio/wav", "wav", "wav", "pcm_s16le"),
    "mp3": Target("audio", "audio/mpeg", "mp3", "mp3", "libmp3lame"),
    "flac": Target("audio", "audio/flac", "flac", "flac", "flac"),
    "ogg": Target("audio", "audio/ogg", "ogg", "ogg", "libopus"),
    "mp4": Target("video", "video/mp4", "mp4", "mp4", "libx264", "aac"),
    "webm": Target("video", "video/webm", "webm", "webm", "libvpx-vp9", "libopus"),
}
MAX_PIXELS = 200_000_000
DEFAULT_QUALITY = 90

PROGRESS_TOTAL = 1000
ConvertProgress = Callable[[int, int, str], None]
"""``(done, total, what)``: ``done`` of ``total`` (:data:`PROGRESS_TOTAL`, or 0 while
the length is unknown) and what is being done, e.g. ``frame 120 of 250`` or
``sound 4.2 of 10.0 s``. Called when either changes, from the converting thread."""


def _no_progress(_done: int, _total: int, _what: str) -> None:
    pass


class _Meter:
    """Turns positions in the media into :data:`ConvertProgress` calls: a video's frames
    (the first pass, ``share`` of the whole) then its sound (the rest), or the sound of
    an audio file (all of it)."""

    EVERY = 0.1
    """Seconds between two calls that change only the text."""

    def __init__(self, progress: ConvertProgress) -> None:
        self._progress = progress
        self._last: tuple[int, str] | None = None
        self._at = -1.0

    def report(
        self, base: float, share: float, fraction: float | None, what: str, *, last: bool = False
    ) -> None:
        if fraction is None:
            done, total = 0, 0
        else:
            done = int(PROGRESS_TOTAL * (base + share * min(1.0, max(0.0, fraction))))
            total = PROGRESS_TOTAL
        now = time.monotonic()
        if self._last is not None:
            if (done, what) == self._last:
                return
            if done == self._last[0] and not last and now - self._at < self.EVERY:
                return
        self._last, self._at = (done, what), now
        self._progress(done, total, what)


def _seconds(container: Any, stream: Any) -> float | None:
    """The length of ``stream`` (or of the whole ``container``) in seconds, if known."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base)
    if container.duration:
        return container.duration / 1_000_000  # AV_TIME_BASE
    return None


@dataclass(frozen=True, slots=True)
class ConvertOptions:
    to: str
    quality: int | None = None
    """1–100 for lossy targets (JPEG, WebP, AVIF; audio/video: maps to bit rate / CRF)."""
    max_size: int | None = None
    """Longest side in pixels (images and video); never upscales."""


@dataclass(frozen=True, slots=True)
class Converted:
    path: Path
    mime: str
    size_bytes: int


def _check(options: ConvertOptions, kind: str) -> Target:
    target = TARGETS.get(options.to)
    if target is None:
        raise ValidationError(f"cannot convert to {options.to!r} (try: {', '.join(TARGETS)})")
    if target.kind != kind:
        raise ValidationError(
            f"an {kind} cannot be converted to {options.to} (an {target.kind} format)"
        )
    if options.quality is not None and not 1 <= options.quality <= 100:
        raise ValidationError("the quality must be from 1 to 100")
    if options.max_size is not None and not 1 <= options.max_size <= 65_535:
        raise ValidationError("the size limit must be from 1 to 65535 pixels")
    return target


def convert_variant(
    space: Space,
    variant_id: str,
    options: ConvertOptions,
    *,
    out: Path | None,
    exports: Path,
    progress: ConvertProgress = _no_progress,
) -> Converted:
    detail = space.variant_detail(variant_id)
    row = detail.row
    if row.status != "completed" or not row.media_path:
        raise InvalidStateError(f"the variant {variant_id} has no finished media to convert")
    asset = space.asset(row.asset_id)
    target = _check(options, asset.media_kind)
    name = f"{asset.slug}-{variant_id}.{target.ext}"
    if out is None:
        dest = exports / space.slug / name
    elif out.is_dir():
        dest = out / name
    else:
        dest = out
    if dest.exists():
        raise StorageError(f"{dest} already exists; choose another name")
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {dest.parent}: {exc.strerror or exc}") from exc
    src = space.media_dir / row.media_path
    doc = provenance_doc(space, variant_id, now_ms=space.clock())
    doc["converted"] = {"from": row.mime, "to": target.mime}
    generated = made_by_a_model(space, variant_id)
    work = Path(tempfile.mkdtemp(prefix=".convert-", dir=dest.parent))
    try:
        tmp = work / f"{secrets.token_hex(4)}.{target.ext}"
        if target.kind == "image":
            size = _convert_image(src, tmp, target, options, xmp_packet(doc, generated=generated))
        elif target.kind == "audio":
            size = None
            _convert_audio(src, tmp, target, options, _Meter(progress))
        else:
            size = _convert_video(src, tmp, target, options, _Meter(progress))
        write_with_provenance(tmp, dest, target.mime, doc, generated=generated, size=size)
    except ProvenanceError as exc:
        raise StorageError(f"could not write {dest.name}: {exc}") from exc
    except OSError as exc:
        raise StorageError(f"could not convert {variant_id}: {exc.strerror or exc}") from exc
    except (ValueError, RuntimeError) as exc:  # Pillow's and FFmpeg's refusals
        raise StorageError(f"could not convert {variant_id}: {str(exc)[:200]}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return Converted(dest, target.mime, dest.stat().st_size)


def _convert_image(
    src: Path, dest: Path, target: Target, options: ConvertOptions, xmp: bytes
) -> tuple[int, int]:
    from PIL import Image, ImageOps

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    with open(src, "rb") as raw, Image.open(_pillow_view(raw, src)) as opened:
        opened.seek(0)
        im: Any = ImageOps.exif_transpose(opened)
        if options.max_size is not None:
            im.thumbnail((options.max_size, options.max_size), Image.Resampling.LANCZOS)
        quality = options.quality or DEFAULT_QUALITY
        save: dict[str, Any] = {}
        if target.container == "JPEG":
            im = im.convert("RGB")
            save = {"quality": quality, "optimize": True}
        elif target.container in ("WEBP", "AVIF"):
            if im.mode not in ("RGB", "RGBA"):
                im = im.convert(
                    "RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB"
                )
            save = {"quality": quality}
            if target.container == "AVIF":
                save["xmp"] = xmp  # embedded at encoding: no chunk surgery for AVIF
        elif target.container == "TIFF":
            save = {"compression": "tiff_lzw", "tiffinfo": {700: xmp}}
        elif im.mode not in ("1", "L", "LA", "P", "RGB", "RGBA", "I", "I;16"):
            im = im.convert("RGBA")
        im.save(dest, target.container, **save)
        return (im.width, im.height)


def _pillow_view(raw: BinaryIO, src: Path) -> BinaryIO:
    """The file without the metadata too large for Pillow to read (see
    :func:`studio.media.structure.check_image`): a 50 MB text chunk, say."""
    hidden, patches = metadata_cuts(raw, src.suffix.lower().lstrip("."))
    return pillow_view(raw, hidden, patches)


def _bit_rate(quality: int | None, low: int, high: int) -> int:
    q = DEFAULT_QUALITY if quality is None else quality
    return int(low + (high - low) * (q - 1) / 99)


def _convert_audio(
    src: Path, dest: Path, target: Target, options: ConvertOptions, meter: _Meter
) -> None:
    import av

    with av.open(str(src)) as inp:
        if not inp.streams.audio:
            raise ValueError("the file has no audio stream")
        with av.open(str(dest), "w", format=target.container) as out:
            st, resampler = _audio_stream(inp, out, target.codec, options)
            _pump_audio(inp, out, st, resampler, meter, 0.0, 1.0)


def _audio_stream(inp: Any, out: Any, codec: str, options: ConvertOptions) -> tuple[Any, Any]:
    """The output audio stream for ``inp``'s first audio stream, and its resampler (every
    stream must exist before the first packet is written)."""
    import av

    ins = inp.streams.audio[0]
    rate = 48000 if codec in ("libopus", "aac") else (ins.codec_context.sample_rate or 44100)
    layout = "stereo" if (ins.codec_context.channels or 2) >= 2 else "mono"
    st = out.add_stream(codec, rate=rate, layout=layout)
    if codec in ("libmp3lame", "libopus", "aac"):
        st.codec_context.bit_rate = _bit_rate(options.quality, 64_000, 320_000)
    frame_size = st.codec_context.frame_size or None
    resampler = av.AudioResampler(
        format=st.codec_context.format, layout=layout, rate=rate, frame_size=frame_size
    )
    return st, resampler


def _pump_audio(
    inp: Any, out: Any, st: Any, resampler: Any, meter: _Meter, base: float, share: float
) -> None:
    ins = inp.streams.audio[0]
    length = _seconds(inp, ins)
    total = f" of {length:.1f} s" if length else " s"
    at = 0.0
    for frame in inp.decode(ins):
        if frame.time is not None:
            at = frame.time
            meter.report(base, share, at / length if length else None, f"sound {at:.1f}{total}")
        frame.pts = None
        for f in resampler.resample(frame):
            out.mux(st.encode(f))
    for f in resampler.resample(None):
        out.mux(st.encode(f))
    out.mux(st.encode(None))
    end = length or at
    meter.report(base, share, 1.0 if length else None, f"sound {end:.1f}{total}", last=True)


def _even(n: float) -> int:
    return max(2, int(n) // 2 * 2)


VIDEO_SHARE = 0.9
"""Of a video's conversion, what its frames take (its sound, encoded after, the rest)."""


def _convert_video(
    src: Path, dest: Path, target: Target, options: ConvertOptions, meter: _Meter
) -> tuple[int, int]:
    import av

    with av.open(str(src)) as inp:
        if not inp.streams.video:
            raise ValueError("the file has no video stream")
        vin = inp.streams.video[0]
        w: float = vin.codec_context.width
        h: float = vin.codec_context.height
        if options.max_size is not None and max(w, h) > options.max_size:
            scale = options.max_size / max(w, h)
            w, h = w * scale, h * scale
        width, height = _even(w), _even(h)
        rate = vin.average_rate or Fraction(25)
        length = _seconds(inp, vin)
        frames = vin.frames or (round(length * rate) if length else 0)
        share = VIDEO_SHARE if inp.streams.audio else 1.0
        of = f" of {frames}" if frames else ""
        with av.open(str(dest), "w", format=target.container) as out:
            vs: Any = out.add_stream(target.codec, rate=rate)
            vs.width, vs.height, vs.pix_fmt = width, height, "yuv420p"
            crf = str(int(51 - 41 * ((options.quality or DEFAULT_QUALITY) - 1) / 99))
            vs.codec_context.options = (
                {"crf": crf, "b": "0", "deadline": "realtime", "cpu-used": "8"}
                if target.codec == "libvpx-vp9"
                else {"crf": crf, "preset": "veryfast"}
            )
            done = 0
            for n, frame in enumerate(inp.decode(vin)):
                meter.report(0.0, share, n / frames if frames else None, f"frame {n + 1}{of}")
                done = n + 1
                f = frame.reformat(width=width, height=height, format="yuv420p")
                f.pts = n
                f.time_base = 1 / Fraction(rate)
                out.mux(vs.encode(f))
            out.mux(vs.encode(None))
        meter.report(0.0, share, 1.0 if frames else None, f"frame {done}{of}", last=True)
        if inp.streams.audio:  # a second pass for the sound: the streams stay independent
            _add_audio(src, dest, target, options, meter)
        return (width, height)


def _add_audio(
    src: Path, dest: Path, target: Target, options: ConvertOptions, meter: _Meter
) -> None:
    """Mux ``dest``'s video with ``src``'s audio, re-encoded, into a new ``dest``."""
    import av

    both = dest.with_name(f"with-audio-{dest.name}")
    with (
        av.open(str(dest)) as video,
        av.open(str(src)) as inp,
        av.open(str(both), "w", format=target.container) as out,
    ):
        vs = out.add_stream_from_template(video.streams.video[0])
        st, resampler = _audio_stream(inp, out, target.audio_codec, options)
        for packet in video.demux(video.streams.video[0]):
            if packet.dts is None:
                continue
            packet.stream = vs
            out.mux(packet)
        _pump_audio(inp, out, st, resampler, meter, VIDEO_SHARE, 1.0 - VIDEO_SHARE)
    both.replace(dest)


__all__ = [
    "PROGRESS_TOTAL",
    "TARGETS",
    "ConvertOptions",
    "ConvertProgress",
    "Converted",
    "convert_variant",
]
