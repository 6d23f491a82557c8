"""Media files: what they are, whether they decode, previews, crash-safe copies.

No Qt, no global state. Importing this package is cheap: Pillow, PyAV, numpy
and mutagen are imported by the functions that need them.

- ``probe(path)`` -> MediaInfo, or MediaError with a code and one human sentence.
- ``render_previews(path, info, out_dir)`` -> Previews (the expensive call).
- ``atomic_copy`` / ``atomic_write_bytes`` / ``sha256_file`` / ``fsync_dir``.
"""

from studio.media.files import (
    atomic_copy,
    atomic_write_bytes,
    atomic_writer,
    fsync_dir,
    sha256_file,
)
from studio.media.kinds import (
    AUDIO_FORMATS,
    DEFAULT_LIMITS,
    IMAGE_FORMATS,
    MIME_BY_EXT,
    VIDEO_FORMATS,
    MediaError,
    MediaErrorCode,
    MediaInfo,
    MediaKind,
    MediaLimits,
    Previews,
)
from studio.media.previews import POSTER_NAME, THUMB_NAME, render_previews
from studio.media.probe import probe
from studio.media.sniff import sniff

__all__ = [
    "AUDIO_FORMATS",
    "DEFAULT_LIMITS",
    "IMAGE_FORMATS",
    "MIME_BY_EXT",
    "POSTER_NAME",
    "THUMB_NAME",
    "VIDEO_FORMATS",
    "MediaError",
    "MediaErrorCode",
    "MediaInfo",
    "MediaKind",
    "MediaLimits",
    "Previews",
    "atomic_copy",
    "atomic_write_bytes",
    "atomic_writer",
    "fsync_dir",
    "probe",
    "render_previews",
    "sha256_file",
    "sniff",
]
