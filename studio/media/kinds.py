"""The media vocabulary: kinds, formats, limits, records and the one error type."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "ACCEPTED_FORMATS_TEXT",
    "AUDIO_FORMATS",
    "DEFAULT_LIMITS",
    "IMAGE_FORMATS",
    "MIME_BY_EXT",
    "VIDEO_FORMATS",
    "MediaError",
    "MediaErrorCode",
    "MediaInfo",
    "MediaKind",
    "MediaLimits",
    "Previews",
    "human_bytes",
    "human_count",
    "human_duration",
]


class MediaKind(enum.StrEnum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


IMAGE_FORMATS: tuple[str, ...] = ("png", "jpg", "webp", "gif", "bmp", "tiff")
AUDIO_FORMATS: tuple[str, ...] = ("wav", "mp3", "flac", "ogg", "m4a")
VIDEO_FORMATS: tuple[str, ...] = ("mp4", "mov", "webm")

MIME_BY_EXT: dict[str, str] = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "gif": "image/gif",
    "bmp": "image/bmp",
    "tiff": "image/tiff",
    "wav": "audio/wav",
    "mp3": "audio/mpeg",
    "flac": "audio/flac",
    "ogg": "audio/ogg",
    "m4a": "audio/mp4",
    "mp4": "video/mp4",
    "mov": "video/quicktime",
    "webm": "video/webm",
}

ACCEPTED_FORMATS_TEXT = (
    "PNG, JPEG, WebP, GIF, BMP, TIFF, WAV, MP3, FLAC, OGG, M4A, MP4, MOV and WebM"
)

MediaErrorCode = Literal["empty", "too_large", "unsupported", "corrupt", "bomb", "unreadable"]


class MediaError(Exception):
    """A file we refuse, with a machine code and one human sentence.

    ``str(err)`` is the sentence. It never contains a traceback or a library's
    internal wording; the original exception, if any, is kept as ``__cause__``
    for logs.
    """

    code: MediaErrorCode
    message: str

    def __init__(self, code: MediaErrorCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return self.message

    def __repr__(self) -> str:
        return f"MediaError({self.code!r}, {self.message!r})"

    def __reduce__(self) -> tuple[type[MediaError], tuple[MediaErrorCode, str]]:
        # Survives pickling (process pools) with both fields intact.
        return (type(self), (self.code, self.message))


@dataclass(frozen=True, slots=True)
class MediaLimits:
    """What one file may cost us. Every decoder path is held to these: pixels of any
    image, frame, canvas or video picture; frames of an animation; playing time of
    audio, video and animations (also the most audio decoded for a waveform); and
    the memory a full image decode takes."""

    max_bytes: int = 2 * 1024**3
    max_pixels: int = 89_478_485  # Pillow's default MAX_IMAGE_PIXELS
    max_duration_ms: int = 6 * 60 * 60 * 1000
    max_frames: int = 20_000
    max_decoded_bytes: int = 1024**3
    # A video decoder holds several pictures at once (reference frames, threads):
    # 8K (8192x4320) is the largest any video codec level we decode defines.
    max_video_pixels: int = 8192 * 4320

    @property
    def video_pixels(self) -> int:
        """The pixel limit of one video picture."""
        return min(self.max_pixels, self.max_video_pixels)


DEFAULT_LIMITS = MediaLimits()


@dataclass(frozen=True, slots=True)
class MediaInfo:
    """What a file is.

    ``width``/``height`` are the *displayed* size: EXIF orientation (images) and
    rotation metadata (video) are applied. ``duration_ms`` is set for audio,
    video and animated images.
    """

    kind: MediaKind
    mime: str
    ext: str
    size_bytes: int
    width: int | None
    height: int | None
    duration_ms: int | None


@dataclass(frozen=True, slots=True)
class Previews:
    thumb: Path | None
    poster: Path | None
    tiers: tuple[Path, ...] = ()  # the thumbnail's small tiers, largest first


# --------------------------------------------------------------------------- wording


def human_bytes(n: int) -> str:
    """``3.1 GiB``, ``2 GiB``, ``512 bytes`` (binary units, no needless ``.0``)."""
    if n < 1024:
        return "1 byte" if n == 1 else f"{n} bytes"
    value = float(n)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        value /= 1024
        if value < 1024 or unit == "TiB":
            break
    text = f"{value:.1f}".removesuffix(".0")
    return f"{text} {unit}"


def human_count(n: int) -> str:
    """``89 million``, ``1.5 million``, ``40,000``."""
    if n >= 10_000_000:
        return f"{round(n / 1_000_000)} million"
    if n >= 1_000_000:
        text = f"{n / 1_000_000:.1f}".removesuffix(".0")
        return f"{text} million"
    return f"{n:,}"


def human_duration(ms: int) -> str:
    """``6 hours``, ``7 h 3 min``, ``12 min``, ``45 s``."""
    total_s = ms // 1000
    hours, rem = divmod(total_s, 3600)
    minutes, seconds = divmod(rem, 60)
    if hours and not minutes:
        return "1 hour" if hours == 1 else f"{hours} hours"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min" if not seconds else f"{minutes} min {seconds} s"
    return f"{seconds} s"
