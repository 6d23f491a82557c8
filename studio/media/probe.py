"""probe(): what a file is, and proof that it really is that."""

from __future__ import annotations

import errno
import stat
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar, cast

from studio.media.containers import check_container
from studio.media.images import (
    PIL_ERRORS,
    decoding,
    exif_orientation,
    open_image,
    oriented_size,
)
from studio.media.kinds import (
    ACCEPTED_FORMATS_TEXT,
    DEFAULT_LIMITS,
    MIME_BY_EXT,
    MediaError,
    MediaInfo,
    MediaKind,
    MediaLimits,
    human_bytes,
    human_count,
    human_duration,
)
from studio.media.sniff import open_media, read_isobmff, sniff, unreadable
from studio.media.structure import META_TOTAL_MAX, check_image

if TYPE_CHECKING:
    import av.container
    from av.audio.stream import AudioStream
    from av.video.frame import VideoFrame
    from av.video.stream import VideoStream

__all__ = ["AudioSink", "VideoSink", "probe", "probe_with_audio"]

_ISO_FAMILY = ("mp4", "mov", "m4a")
_MAX_PACKETS_FOR_FIRST_FRAME = 600
# A WAV's header says everything FFmpeg needs; its default probe reads 5 MB of samples
# (~50 ms a file, measured 2026-12-01) that the waveform decodes again anyway.
_WAV_PROBESIZE = 32 * 1024

T = TypeVar("T")
AudioSink = Callable[["av.container.InputContainer", "AudioStream", "int | None"], T]
"""Called by :func:`probe_with_audio` with the open container, its first audio stream
and the duration the headers claim (checked against the limits); it decodes the stream
(the proof that it decodes) and returns what it made of it."""


VideoSink = Callable[["av.container.InputContainer", "VideoStream", "VideoFrame", "int | None"], T]
"""Called by :func:`probe_with_audio` for a video, inside the probe's own FFmpeg open,
with the container, its video stream, the first frame the probe decoded (the proof
that it decodes) and the duration; what it returns (a poster) comes back with the
probe's answer: one open per video for probe, poster and thumbnail."""


def probe(path: Path, limits: MediaLimits = DEFAULT_LIMITS) -> MediaInfo:
    """Identify ``path`` by content and check that it decodes.

    Order: size limit (stat) -> sniff -> header (dimensions, duration) -> limits
    -> decode evidence. Images: complete-file structure checks for PNG/JPEG
    (chunk CRCs, markers to EOI) and a first-frame decode for the others; the
    full JPEG/PNG pixel decode is left to ``render_previews``. Audio: the first
    audio frame decodes. Video: a video stream exists and its first frame decodes.

    Raises MediaError with code empty / too_large / unsupported / corrupt / bomb /
    unreadable.
    """
    return probe_with_audio(path, limits)[0]


def probe_with_audio(
    path: Path,
    limits: MediaLimits = DEFAULT_LIMITS,
    audio_sink: AudioSink[T] | None = None,
    video_sink: VideoSink[T] | None = None,
) -> tuple[MediaInfo, T | None]:
    """:func:`probe`, and for an audio file ``audio_sink``'s result: the stream is
    decoded by the sink inside the probe's own FFmpeg open (one open per file; the sink
    replaces the first-frame check); for a video ``video_sink``'s, called once the
    video passed every check. ``None`` for images, or without a sink."""
    size = _checked_size(path, limits)
    kind, _mime, ext = sniff(path)
    if kind is MediaKind.IMAGE:
        return _probe_image(path, ext, size, limits), None
    return _probe_av(path, kind, ext, size, limits, audio_sink, video_sink)


def _checked_size(path: Path, limits: MediaLimits) -> int:
    try:
        st = path.stat()
    except OSError as exc:
        raise unreadable(exc, path) from exc
    if stat.S_ISDIR(st.st_mode):
        raise unreadable(IsADirectoryError(errno.EISDIR, "Is a directory", str(path)), path)
    if not stat.S_ISREG(st.st_mode):
        raise MediaError("unreadable", "it is not a regular file (a device, pipe or socket)")
    check_size(st.st_size, limits)
    return st.st_size


def check_size(size: int, limits: MediaLimits) -> None:
    """Refuse an empty file or one over ``limits.max_bytes``."""
    if size == 0:
        raise MediaError("empty", "the file is empty")
    if size > limits.max_bytes:
        raise MediaError(
            "too_large",
            f"the file is {human_bytes(size)}, over the {human_bytes(limits.max_bytes)} "
            "import limit",
        )


def _check_duration(what: str, duration_ms: int | None, limits: MediaLimits) -> None:
    if duration_ms is not None and duration_ms > limits.max_duration_ms:
        raise MediaError(
            "too_large",
            f"the {what} is {human_duration(duration_ms)} long, "
            f"over the {human_duration(limits.max_duration_ms)} limit",
        )


# --------------------------------------------------------------------------- images


def _probe_image(path: Path, ext: str, size: int, limits: MediaLimits) -> MediaInfo:
    with open_media(path) as f:
        try:
            # Structure first: Pillow reads metadata whole when it opens a file, so
            # metadata, frame and canvas bounds must hold before it does.
            facts = check_image(
                f, ext, size, max_pixels=limits.max_pixels, max_frames=limits.max_frames
            )
            f.seek(0)
        except OSError as exc:
            raise unreadable(exc, path) from exc
        im = open_image(
            f, ext, limits.max_pixels, limits.max_decoded_bytes, facts.hidden, facts.patches
        )
        try:
            if ext not in ("png", "jpg"):  # their full decode is left to render_previews
                try:
                    with decoding(im.size):
                        im.load()  # first frame only
                except PIL_ERRORS as exc:
                    if isinstance(exc, OSError) and getattr(exc, "errno", None):
                        raise unreadable(exc, path) from exc
                    raise MediaError("corrupt", "the image is truncated or corrupt") from exc
            width, height = oriented_size(im.size, exif_orientation(im, ext, facts.exif))
        except OSError as exc:
            raise unreadable(exc, path) from exc
        finally:
            im.close()
    _check_duration("animation", facts.duration_ms, limits)
    return MediaInfo(MediaKind.IMAGE, MIME_BY_EXT[ext], ext, size, width, height, facts.duration_ms)


# --------------------------------------------------------------------------- audio / video


def open_container(
    path: Path, what: str, max_pixels: int = DEFAULT_LIMITS.video_pixels, *, ext: str = ""
) -> av.container.InputContainer:
    """Open with FFmpeg. Its stream probing may decode a picture (a video frame, cover
    art in an audio file): its decoders refuse any picture over ``max_pixels`` then
    (the stream's size stays unknown: 0x0) instead of allocating it. A file sniffed as
    WAV (``ext``) is probed from its header only."""
    import av

    options = {"max_pixels": str(max_pixels)}
    if ext == "wav":
        options["probesize"] = str(_WAV_PROBESIZE)
    try:
        return av.open(str(path), mode="r", metadata_errors="ignore", options=options)
    except av.FFmpegError as exc:
        raise MediaError("corrupt", f"the {what} is truncated or corrupt") from exc
    except OSError as exc:
        raise unreadable(exc, path) from exc


def video_bomb(width: int, height: int, max_pixels: int) -> MediaError:
    if width * height:
        return MediaError(
            "bomb",
            f"the video is {width}\u00d7{height} pixels, "
            f"over the {human_count(max_pixels)} pixel safety limit",
        )
    return MediaError(
        "bomb",
        "the video's picture size can't be read: it is damaged or over the "
        f"{human_count(max_pixels)} pixel safety limit",
    )


def guard_video_stream(stream: VideoStream, max_pixels: int) -> None:
    """Refuse a stream whose pictures are over ``max_pixels`` before decoding any, and
    make its decoder refuse a later picture that grows past it."""
    ctx = stream.codec_context
    if ctx is None:
        raise MediaError("unsupported", "the video uses a codec we can't decode")
    width, height = ctx.width or 0, ctx.height or 0
    if not width * height or width * height > max_pixels:
        raise video_bomb(width, height, max_pixels)
    ctx.options = {**ctx.options, "max_pixels": str(max_pixels)}


def check_video_frame(frame: VideoFrame, max_pixels: int) -> None:
    if frame.width * frame.height > max_pixels:
        raise video_bomb(frame.width, frame.height, max_pixels)


def picture_streams(container: av.container.InputContainer) -> list[VideoStream]:
    """Real video streams: cover art (an attached picture) does not count."""
    import av

    return [
        s
        for s in container.streams.video
        if not (s.disposition & av.stream.Disposition.attached_pic)
    ]


def _probe_av(
    path: Path,
    kind: MediaKind,
    ext: str,
    size: int,
    limits: MediaLimits,
    audio_sink: AudioSink[T] | None = None,
    video_sink: VideoSink[T] | None = None,
) -> tuple[MediaInfo, T | None]:
    what = "video" if kind is MediaKind.VIDEO else "audio"
    if ext in _ISO_FAMILY:
        with open_media(path) as f:
            iso = read_isobmff(f)
        if iso.truncated:
            raise MediaError("corrupt", f"the {what} is truncated or corrupt")
        if iso.meta_bytes > META_TOTAL_MAX:  # sample tables FFmpeg turns into an index
            raise MediaError(
                "bomb",
                f"the {what} file's index (moov/moof boxes) is over the "
                f"{META_TOTAL_MAX // 1024**2} MiB safety limit",
            )
    if ext in ("flac", "wav", "webm"):
        with open_media(path) as f:
            try:
                check_container(f, ext, size, what)
            except OSError as exc:
                raise unreadable(exc, path) from exc
    container = open_container(path, what, limits.video_pixels, ext=ext)
    made: T | None = None
    with container:
        videos = picture_streams(container)
        audios = list(container.streams.audio)
        if ext in _ISO_FAMILY:  # the streams, not the brand, settle MP4 vs M4A
            if videos:
                kind, ext = MediaKind.VIDEO, ("mov" if ext == "mov" else "mp4")
            elif audios:
                kind, ext = MediaKind.AUDIO, "m4a"
        if kind is MediaKind.VIDEO:
            if not videos:
                label = {"webm": "an audio-only WebM file", "m4a": "an M4A file"}
                what_it_is = label.get(ext, f"an {ext.upper()} file")
                raise MediaError(
                    "unsupported",
                    f"it is {what_it_is} with no video stream, which we can't import "
                    f"(we take {ACCEPTED_FORMATS_TEXT})",
                )
            guard_video_stream(videos[0], limits.video_pixels)
            if video_sink is not None:  # it decodes on: FFmpeg's threads, set before opening
                videos[0].thread_type = "AUTO"
            frame = cast("VideoFrame", _first_frame(container, videos[0], "video"))
            check_video_frame(frame, limits.video_pixels)
            width, height = oriented_size((frame.width, frame.height), _rotation(frame))
            duration = _duration_ms(container, videos[0])
            _check_duration("video", duration, limits)
            info = MediaInfo(kind, MIME_BY_EXT[ext], ext, size, width, height, duration)
            if video_sink is not None:
                made = video_sink(container, videos[0], frame, duration)
            return info, made
        if not audios:
            raise MediaError("corrupt", "the audio file has no audio stream we can find")
        duration = _duration_ms(container, audios[0])
        if audio_sink is None:
            _first_frame(container, audios[0], "audio")
        else:
            _check_duration("audio", duration, limits)  # before decoding all of it
            made = audio_sink(container, audios[0], duration)
    if duration is None:
        duration = _mutagen_duration_ms(path, ext)
    _check_duration("audio", duration, limits)
    return MediaInfo(kind, MIME_BY_EXT[ext], ext, size, None, None, duration), made


def _rotation(frame: VideoFrame) -> int:
    """6 (EXIF 'rotate 90') when the display matrix turns the picture sideways, else 1."""
    try:
        angle = int(frame.rotation or 0)
    except (AttributeError, TypeError, ValueError):
        angle = 0
    return 6 if angle % 180 else 1


def _first_frame(
    container: av.container.InputContainer, stream: VideoStream | AudioStream, what: str
) -> object:
    """Decode until the first frame of ``stream``; raise MediaError if none comes."""
    import av

    ctx = stream.codec_context
    if ctx is None:
        raise MediaError("unsupported", f"the {what} uses a codec we can't decode")
    try:
        for n, packet in enumerate(container.demux(stream)):
            for frame in packet.decode():
                return frame
            if n >= _MAX_PACKETS_FOR_FIRST_FRAME:
                break
        for frame in stream.decode(None):  # flush: a short file may hold one delayed frame
            return frame
    except av.FFmpegError as exc:
        raise MediaError("corrupt", f"the {what} is truncated or corrupt") from exc
    raise MediaError("corrupt", f"the {what} is truncated or corrupt (nothing decodes)")


def _duration_ms(
    container: av.container.InputContainer, stream: VideoStream | AudioStream
) -> int | None:
    if stream.duration is not None and stream.time_base is not None and stream.duration > 0:
        return round(float(stream.duration * stream.time_base) * 1000)
    if container.duration is not None and container.duration > 0:
        return round(container.duration / 1000)  # AV_TIME_BASE is microseconds
    return None


_MUTAGEN_READERS: dict[str, tuple[tuple[str, str], ...]] = {
    "wav": (("mutagen.wave", "WAVE"),),
    "mp3": (("mutagen.mp3", "MP3"),),
    "flac": (("mutagen.flac", "FLAC"),),
    "m4a": (("mutagen.mp4", "MP4"),),
    "ogg": (("mutagen.oggvorbis", "OggVorbis"), ("mutagen.oggopus", "OggOpus")),
}


def _mutagen_duration_ms(path: Path, ext: str) -> int | None:
    """Fallback when FFmpeg can't tell the length (headerless or streamed files)."""
    import importlib

    for module, name in _MUTAGEN_READERS.get(ext, ()):
        try:
            reader = getattr(importlib.import_module(module), name)
            length = float(reader(path).info.length)
        except Exception:  # mutagen raises many types; a fallback must never fail the probe
            continue
        if length > 0:
            return round(length * 1000)
    return None
