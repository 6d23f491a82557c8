"""Take a private copy of a user's file before anything else looks at it.

The source is opened exactly once (without blocking, so a FIFO cannot hang us),
checked to be a regular file *on the open descriptor*, sniffed, then copied from
that same descriptor into a staging file, and the copy hashed. Probing, previews and the
stored original all use that copy: a file swapped, grown or rewritten by someone
else after we opened it can't make us store bytes other than the ones we checked.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from studio.media.files import CopyLimitExceeded, atomic_copy_from
from studio.media.kinds import DEFAULT_LIMITS, MediaError, MediaLimits, human_bytes
from studio.media.probe import check_size
from studio.media.sniff import open_media, sniff_file, unreadable

__all__ = ["Staged", "stage_source"]


@dataclass(frozen=True, slots=True)
class Staged:
    """Our copy of a source file: where it is, its size and SHA-256."""

    path: Path
    size_bytes: int
    sha256: str


class _SourceReader:
    """Reads of the source that fail are the source's fault: MediaError, not OSError
    (which, out of the copy, means our staging side failed: disk full…)."""

    def __init__(self, f: io.BufferedReader, src: Path) -> None:
        self._f = f
        self._src = src

    def readinto(self, buf: bytearray) -> int:
        try:
            return self._f.readinto(buf)
        except OSError as exc:
            raise unreadable(exc, self._src) from exc

    def fileno(self) -> int:
        return self._f.fileno()


def stage_source(
    src: Path,
    stage_dir: Path,
    limits: MediaLimits = DEFAULT_LIMITS,
    *,
    sync: bool = True,
    in_place: bool = False,
) -> Staged:
    """Copy ``src`` into ``stage_dir`` (as ``source.<ext>``) if it looks like media we take.
    The copy's data is fsync'd (``sync=False``: by the caller, before it is placed); the
    staging folder is not (the copy is renamed out of it and its final folder synced).
    ``in_place``: ``stage_dir`` is this import's alone; the copy is written under its
    name at once (see :func:`~studio.media.files.atomic_writer`).

    Raises MediaError (unreadable, empty, too_large, unsupported) for the source;
    OSError for failures writing ``stage_dir`` (disk full…).
    """
    with open_media(src) as f:
        try:
            size = os.fstat(f.fileno()).st_size
        except OSError as exc:
            raise unreadable(exc, src) from exc
        check_size(size, limits)
        _kind, _mime, ext = sniff_file(f, src)  # refuse non-media before copying it
        try:
            f.seek(0)
        except OSError as exc:
            raise unreadable(exc, src) from exc
        dest = stage_dir / f"source.{ext}"
        try:
            copied, sha = atomic_copy_from(
                _SourceReader(f, src),
                dest,
                max_bytes=limits.max_bytes,
                sync_dir=False,
                sync=sync,
                in_place=in_place,
            )
        except CopyLimitExceeded as exc:
            raise MediaError(
                "too_large",
                f"the file grew past the {human_bytes(limits.max_bytes)} import limit "
                "while it was being read",
            ) from exc
    check_size(copied, limits)
    return Staged(dest, copied, sha)
