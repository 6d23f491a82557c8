"""render_previews(): thumbnails, video posters and audio waveforms as WebP files, each
thumbnail with its small tiers (64 and 16 px) stored beside it."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from studio.media.files import atomic_writer, fsync_dir, temp_path
from studio.media.images import PIL_ERRORS, decoding, make_thumbnail, open_image
from studio.media.kinds import (
    DEFAULT_LIMITS,
    MediaError,
    MediaInfo,
    MediaKind,
    MediaLimits,
    Previews,
)
from studio.media.probe import (
    check_video_frame,
    guard_video_stream,
    open_container,
    picture_streams,
    probe_with_audio,
)
from studio.media.sniff import open_media, unreadable
from studio.media.waveform import Peaks, render_waveform, stream_peaks, waveform_peaks

if TYPE_CHECKING:
    import av.container
    from av.audio.stream import AudioStream
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream
    from PIL import Image

__all__ = [
    "POSTER_BOX",
    "POSTER_NAME",
    "THUMB_BOX",
    "THUMB_NAME",
    "TIERS",
    "probe_and_render",
    "render_previews",
    "tier_image",
    "tier_name",
    "tier_paths",
]

THUMB_BOX = 512
POSTER_BOX = 1920
THUMB_NAME = "thumb.webp"
POSTER_NAME = "poster.webp"
THUMB_QUALITY = 80  # Pillow's WebP default
POSTER_QUALITY = 85
# libwebp's effort 0..6 (Pillow's default 4). Measured here (2026-12-01, a 512² photo
# thumbnail): 4 takes ~21 ms, 1 ~6 ms, for a file within a few per cent of the size.
WEBP_METHOD = 1
POSTER_AT = 0.10  # fraction of the duration where the poster frame is taken
_MAX_FRAMES_TO_TARGET = 400  # decode at most this far past the seek point

TIERS = (64, 16)
"""Small tiers stored beside every thumbnail (longest side in pixels): the canvas's
far-zoom level of detail reads these instead of decoding the 512 px thumbnail."""


def tier_name(tier: int) -> str:
    """``thumb.64.webp``: the file of one small tier, in the thumbnail's folder."""
    return f"thumb.{tier}.webp"


def tier_paths(thumb: str) -> list[str]:
    """The small tiers' paths (same style as ``thumb``, a relative or absolute posix
    path of a ``thumb.webp``), smallest last; empty for any other name."""
    path = PurePosixPath(thumb)
    if path.name != THUMB_NAME:
        return []
    return [str(path.with_name(tier_name(t))) for t in TIERS]


def probe_and_render(
    path: Path,
    out_dir: Path,
    *,
    limits: MediaLimits = DEFAULT_LIMITS,
    sync_dir: bool = True,
    in_place: bool = False,
    sync: bool = True,
) -> tuple[MediaInfo, Previews]:
    """:func:`~studio.media.probe` then :func:`render_previews`, with one FFmpeg open
    per audio or video file: the waveform is decoded inside the probe's open (which
    proves the stream decodes, as the probe's first-frame check does), and a video's
    poster frame is sought and decoded in it (the probe's first frame when the clip is
    short or cannot seek). A plain PCM WAV is read with numpy instead (no FFmpeg open:
    :mod:`studio.media.wav`). ``in_place``, ``sync``: see :func:`render_previews`."""
    from studio.media.wav import probe_pcm_wav

    wav = probe_pcm_wav(path, limits)
    if wav is not None:
        info, samples = wav
        previews = render_previews(
            path,
            info,
            out_dir,
            limits=limits,
            peaks=samples,
            sync_dir=sync_dir,
            in_place=in_place,
            sync=sync,
        )
        return info, previews

    def peaks(
        container: av.container.InputContainer, stream: AudioStream, ms: int | None
    ) -> Peaks | Image.Image:
        return stream_peaks(container, stream, ms, max_ms=limits.max_duration_ms)

    def poster(
        container: av.container.InputContainer,
        stream: VideoStream,
        first: VideoFrame,
        ms: int | None,
    ) -> Peaks | Image.Image:
        return _poster_in(container, stream, first, ms, limits.video_pixels)

    info, made = probe_with_audio(path, limits, peaks, poster)
    return info, render_previews(
        path,
        info,
        out_dir,
        limits=limits,
        peaks=made if isinstance(made, Peaks) else None,
        poster=None if made is None or isinstance(made, Peaks) else made,
        sync_dir=sync_dir,
        in_place=in_place,
        sync=sync,
    )


def render_previews(
    path: Path,
    info: MediaInfo,
    out_dir: Path,
    *,
    limits: MediaLimits = DEFAULT_LIMITS,
    peaks: Peaks | None = None,
    poster: Image.Image | None = None,
    sync_dir: bool = True,
    in_place: bool = False,
    sync: bool = True,
) -> Previews:
    """Write ``thumb.webp`` (and ``poster.webp`` for video) into ``out_dir``, and the
    thumbnail's small tiers (``thumb.64.webp``, ``thumb.16.webp``).

    ``info`` is what ``probe`` returned for ``path``. Images: thumbnail fitting
    512x512, never upscaled, alpha kept, EXIF orientation applied (a JPEG is decoded
    at the smallest scale that still covers 512 px). Video: poster from ~10% in (or
    the first frame), at most 1920 on its longest side, and a thumbnail of it. Audio:
    a 512x256 waveform (of ``peaks`` when given, already decoded). ``poster``: a video's
    poster already decoded (by :func:`probe_and_render`). Thumbnail and
    poster are written temp -> fsync -> rename, then ``out_dir`` is synced (unless
    ``sync_dir`` is False: the caller moves the files out and syncs their folder); the
    tiers, made from the thumbnail, are written temp -> rename (no fsync: a torn tier
    after a power cut reads as missing and the canvas uses the thumbnail).
    ``in_place``: ``out_dir`` is private staging (its files are moved into place
    later): every file is written once under its name, no temporary and rename.
    ``sync=False``: thumbnail and poster are not fsync'd either; the caller syncs
    them before anything points at them.

    This is the expensive call (it decodes the pixels or the whole audio
    stream); run it off the UI thread. Raises MediaError ``corrupt`` if the
    media does not decode, ``bomb`` if the file grew past ``limits`` since it
    was probed, ``unreadable`` if it vanished. Errors writing ``out_dir`` are
    raised as OSError.
    """
    poster_path = None
    if info.kind is MediaKind.IMAGE:
        thumb = _image_thumbnail(path, info, limits)
        out_dir.mkdir(parents=True, exist_ok=True)
    elif info.kind is MediaKind.VIDEO:
        if poster is None:
            poster = _video_poster(path, info, limits)
        thumb = poster.copy()
        thumb.thumbnail((THUMB_BOX, THUMB_BOX))
        out_dir.mkdir(parents=True, exist_ok=True)
        poster_path = _save_webp(poster, out_dir / POSTER_NAME, POSTER_QUALITY, in_place, sync)
    else:
        if peaks is None:
            peaks = waveform_peaks(path, info.duration_ms, max_ms=limits.max_duration_ms)
        thumb = render_waveform(peaks)
        out_dir.mkdir(parents=True, exist_ok=True)
    return save_thumbnail(
        thumb, out_dir, poster=poster_path, sync_dir=sync_dir, in_place=in_place, sync=sync
    )


def save_thumbnail(
    thumb: Image.Image,
    out_dir: Path,
    *,
    poster: Path | None = None,
    sync_dir: bool = True,
    in_place: bool = False,
    sync: bool = True,
) -> Previews:
    """Write ``thumb`` (already fitted in the 512 px box) as ``thumb.webp`` and its small
    tiers, as :func:`render_previews` does (for a picture still in memory: no decode)."""
    thumb_path = _save_webp(thumb, out_dir / THUMB_NAME, THUMB_QUALITY, in_place, sync)
    tiers = _save_tiers(thumb, out_dir, in_place)
    if sync_dir:
        fsync_dir(out_dir)
    return Previews(thumb=thumb_path, poster=poster, tiers=tiers)


def _save_webp(
    im: Image.Image, dest: Path, quality: int, in_place: bool = False, sync: bool = True
) -> Path:
    if in_place:
        with open(dest, "xb") as f:
            im.save(f, "WEBP", quality=quality, method=WEBP_METHOD)
            if sync:
                f.flush()
                os.fsync(f.fileno())
        return dest
    with atomic_writer(dest, sync_dir=False, sync=sync) as f:
        im.save(f, "WEBP", quality=quality, method=WEBP_METHOD)
    return dest


def _save_tiers(thumb: Image.Image, out_dir: Path, in_place: bool = False) -> tuple[Path, ...]:
    out: list[Path] = []
    im = thumb
    for tier in TIERS:
        im = tier_image(im, tier)
        dest = out_dir / tier_name(tier)
        if in_place:
            im.save(dest, "WEBP", quality=THUMB_QUALITY, method=WEBP_METHOD)
            out.append(dest)
            continue
        tmp = temp_path(dest)
        try:
            im.save(tmp, "WEBP", quality=THUMB_QUALITY, method=WEBP_METHOD)
            os.replace(tmp, dest)
        except BaseException:
            with contextlib.suppress(OSError):
                tmp.unlink()
            raise
        out.append(dest)
    return tuple(out)


def tier_image(im: Image.Image, tier: int) -> Image.Image:
    """``im`` fitted in ``tier`` x ``tier`` (never upscaled; a new image). Whole factors
    are taken off by averaging blocks of pixels (``reduce``), which costs about half a
    resize from the thumbnail's size; only what is left (a thumbnail that is no multiple
    of the tier) is resampled, on the already small picture."""
    factor = max(im.size) // tier
    out = im.reduce(factor) if factor >= 2 and im.mode in ("RGB", "RGBA", "L", "LA") else im
    if out is im:
        out = im.copy()
    out.thumbnail((tier, tier))
    return out


def _image_thumbnail(path: Path, info: MediaInfo, limits: MediaLimits) -> Image.Image:
    with open_media(path) as f:
        im = open_image(f, info.ext, limits.max_pixels, limits.max_decoded_bytes)
        try:
            with decoding(im.size):
                thumb = make_thumbnail(im, THUMB_BOX)
        except MediaError:
            im.close()
            raise
        except PIL_ERRORS as exc:
            im.close()
            if isinstance(exc, OSError) and getattr(exc, "errno", None):
                raise unreadable(exc, path) from exc
            raise MediaError("corrupt", "the image is truncated or corrupt") from exc
        if thumb is not im:
            im.close()
        return thumb


# --------------------------------------------------------------------------- video


def _video_poster(path: Path, info: MediaInfo, limits: MediaLimits) -> Image.Image:
    import av  # lazy: PyAV is heavy, and the CLI starts without it

    max_pixels = limits.video_pixels
    frame: VideoFrame | None = None
    try:
        if info.duration_ms and info.duration_ms >= 500:
            with open_container(path, "video", max_pixels) as container:
                frame = _frame_near(container, POSTER_AT * info.duration_ms / 1000, max_pixels)
        if frame is None:  # short clip, or seeking failed: the first frame will do
            with open_container(path, "video", max_pixels) as container:
                frame = _frame_near(container, None, max_pixels)
        if frame is None:
            raise _corrupt_video()
        return _poster_image(frame)
    except av.FFmpegError as exc:
        raise _corrupt_video() from exc


def _poster_in(
    container: av.container.InputContainer,
    stream: VideoStream,
    first: VideoFrame,
    duration_ms: int | None,
    max_pixels: int,
) -> Image.Image:
    """The poster from the container the probe opened (and checked): the frame at
    :data:`POSTER_AT` of ``duration_ms``, or ``first`` (the probe's first frame) for a
    short clip or one that cannot seek."""
    import av  # lazy: PyAV is heavy, and the CLI starts without it

    frame: VideoFrame | None = None
    try:
        if duration_ms and duration_ms >= 500:
            frame = _frame_near(container, POSTER_AT * duration_ms / 1000, max_pixels, stream)
        return _poster_image(first if frame is None else frame)
    except av.FFmpegError as exc:
        raise _corrupt_video() from exc


def _corrupt_video() -> MediaError:
    return MediaError("corrupt", "the video is truncated or corrupt")


def _poster_image(frame: VideoFrame) -> Image.Image:
    """The frame at most :data:`POSTER_BOX` on its longest side, turned upright.
    Scaled in FFmpeg, straight from the decoded picture to the poster size."""
    scale = min(1.0, POSTER_BOX / max(frame.width, frame.height, 1))
    image = frame.to_image(
        width=max(1, round(frame.width * scale)), height=max(1, round(frame.height * scale))
    )
    image = _rotate(image, frame)
    image.thumbnail((POSTER_BOX, POSTER_BOX))
    return image


def _frame_near(
    container: av.container.InputContainer,
    seconds: float | None,
    max_pixels: int,
    probed: VideoStream | None = None,
) -> VideoFrame | None:
    """The first frame at or after ``seconds`` (None: the very first frame); of
    ``probed`` when given (a stream the probe checked and began decoding)."""
    import av  # lazy: PyAV is heavy, and the CLI starts without it

    if probed is None:
        streams = picture_streams(container)
        if not streams:
            return None
        stream: VideoStream = streams[0]
        guard_video_stream(stream, max_pixels)
        stream.thread_type = "AUTO"
    else:
        stream = probed
    start = (
        float(stream.start_time * stream.time_base)
        if stream.start_time and stream.time_base
        else 0.0
    )
    target: float | None = None
    if seconds is not None and stream.time_base:
        target = start + seconds
        try:
            container.seek(int(target / stream.time_base), stream=stream, backward=True)
        except av.FFmpegError:
            return None
    last: VideoFrame | None = None
    for n, packet in enumerate(container.demux(stream)):
        for frame in packet.decode():
            check_video_frame(frame, max_pixels)
            last = frame
            if target is None or frame.time is None or frame.time >= target - 1e-3:
                return frame
        if n > _MAX_FRAMES_TO_TARGET and last is not None:
            return last
    for frame in stream.decode(None):
        check_video_frame(frame, max_pixels)
        return frame
    return last


def _rotate(image: Image.Image, frame: VideoFrame) -> Image.Image:
    """Apply the display matrix (phones record sideways and say so in metadata)."""
    from PIL import Image

    try:
        angle = round(float(frame.rotation or 0)) % 360
    except (AttributeError, TypeError, ValueError):
        return image
    method = {
        90: Image.Transpose.ROTATE_90,  # both count counterclockwise
        180: Image.Transpose.ROTATE_180,
        270: Image.Transpose.ROTATE_270,
    }.get(angle)
    return image.transpose(method) if method is not None else image
