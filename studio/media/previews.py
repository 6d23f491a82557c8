"""render_previews(): thumbnails, video posters and audio waveforms as WebP files."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from studio.media.files import atomic_writer, fsync_dir
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
)
from studio.media.sniff import open_media, unreadable
from studio.media.waveform import render_waveform, waveform_peaks

if TYPE_CHECKING:
    import av.container
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream
    from PIL import Image

__all__ = ["POSTER_BOX", "POSTER_NAME", "THUMB_BOX", "THUMB_NAME", "render_previews"]

THUMB_BOX = 512
POSTER_BOX = 1920
THUMB_NAME = "thumb.webp"
POSTER_NAME = "poster.webp"
THUMB_QUALITY = 80  # Pillow's WebP default
POSTER_QUALITY = 85
POSTER_AT = 0.10  # fraction of the duration where the poster frame is taken
_MAX_FRAMES_TO_TARGET = 400  # decode at most this far past the seek point


def render_previews(
    path: Path, info: MediaInfo, out_dir: Path, *, limits: MediaLimits = DEFAULT_LIMITS
) -> Previews:
    """Write ``thumb.webp`` (and ``poster.webp`` for video) into ``out_dir``.

    ``info`` is what ``probe`` returned for ``path``. Images: thumbnail fitting
    512x512, never upscaled, alpha kept, EXIF orientation applied. Video: poster
    from ~10% in (or the first frame), at most 1920 on its longest side, and a
    thumbnail of it. Audio: a 512x256 waveform. Each file is written atomically.

    This is the expensive call (it decodes the pixels or the whole audio
    stream); run it off the UI thread. Raises MediaError ``corrupt`` if the
    media does not decode, ``bomb`` if the file grew past ``limits`` since it
    was probed, ``unreadable`` if it vanished. Errors writing ``out_dir`` are
    raised as OSError.
    """
    if info.kind is MediaKind.IMAGE:
        thumb = _image_thumbnail(path, info, limits)
        out_dir.mkdir(parents=True, exist_ok=True)
        thumb_path = _save_webp(thumb, out_dir / THUMB_NAME, THUMB_QUALITY)
        fsync_dir(out_dir)
        return Previews(thumb=thumb_path, poster=None)

    if info.kind is MediaKind.VIDEO:
        poster = _video_poster(path, info, limits)
        thumb = poster.copy()
        thumb.thumbnail((THUMB_BOX, THUMB_BOX))
        out_dir.mkdir(parents=True, exist_ok=True)
        poster_path = _save_webp(poster, out_dir / POSTER_NAME, POSTER_QUALITY)
        thumb_path = _save_webp(thumb, out_dir / THUMB_NAME, THUMB_QUALITY)
        fsync_dir(out_dir)
        return Previews(thumb=thumb_path, poster=poster_path)

    peaks = waveform_peaks(path, info.duration_ms, max_ms=limits.max_duration_ms)
    picture = render_waveform(peaks)
    out_dir.mkdir(parents=True, exist_ok=True)
    thumb_path = _save_webp(picture, out_dir / THUMB_NAME, THUMB_QUALITY)
    fsync_dir(out_dir)
    return Previews(thumb=thumb_path, poster=None)


def _save_webp(im: Image.Image, dest: Path, quality: int) -> Path:
    with atomic_writer(dest, sync_dir=False) as f:
        im.save(f, "WEBP", quality=quality)
    return dest


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

    corrupt = MediaError("corrupt", "the video is truncated or corrupt")
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
            raise corrupt
        # Scale in FFmpeg, straight from the decoded picture to the poster size.
        scale = min(1.0, POSTER_BOX / max(frame.width, frame.height, 1))
        image = frame.to_image(
            width=max(1, round(frame.width * scale)), height=max(1, round(frame.height * scale))
        )
    except av.FFmpegError as exc:
        raise corrupt from exc
    image = _rotate(image, frame)
    image.thumbnail((POSTER_BOX, POSTER_BOX))
    return image


def _frame_near(
    container: av.container.InputContainer, seconds: float | None, max_pixels: int
) -> VideoFrame | None:
    """The first frame at or after ``seconds`` (None: the very first frame)."""
    import av  # lazy: PyAV is heavy, and the CLI starts without it

    streams = picture_streams(container)
    if not streams:
        return None
    stream: VideoStream = streams[0]
    guard_video_stream(stream, max_pixels)
    stream.thread_type = "AUTO"
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
