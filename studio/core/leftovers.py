"""Files a killed import or job left in a space's media folder, found and swept.

A crash can leave three kinds of debris under ``media/<space>/``:

- temporary files of an atomic write (``.<name>.<random>.tmp``) that never got renamed;
- staging folders of an import (``.staging/<id>/``) that never finished;
- media in a variant folder (``<asset-slug>/<variant-id>/``) that no row points at: the
  variant row does not exist (its transaction never committed) or it ended ``failed``
  before ``variant:complete`` pointed at the files.

Only files untouched for ``older_than_ms`` count, so work in progress in this or
another process (which keeps writing, and whose variants are still ``uploading`` or
``processing``) is never taken. Files any variant row points at, deleted or not
(undo can bring it back), are never taken.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from studio.core.errors import StudioError
from studio.core.holders import is_holder_id
from studio.core.import_recovery import STAGING, finish_moves
from studio.core.reads import GilPause
from studio.core.space import Space

__all__ = [
    "SAFE_AGE_MS",
    "SWEEP_EVERY_MS",
    "Leftover",
    "find_leftovers",
    "sweep_leftovers",
    "sweep_leftovers_at_open",
]

log = logging.getLogger(__name__)

SAFE_AGE_MS = 60 * 60 * 1000  # an hour without a write: nobody is finishing this file
SWEEP_EVERY_MS = 6 * 60 * 60 * 1000  # at open, walk the media folder at most this often
_MARKER = ".swept"
_FINAL = ("completed", "failed")


@dataclass(frozen=True, slots=True)
class Leftover:
    path: Path
    reason: str

    def line(self, media_dir: Path) -> str:
        try:
            rel = self.path.relative_to(media_dir)
        except ValueError:
            rel = self.path
        return f"{rel}: {self.reason}"


def find_leftovers(space: Space, *, older_than_ms: int = SAFE_AGE_MS) -> list[Leftover]:
    """Every leftover file or staging folder, oldest rule first; nothing is changed."""
    return list(_leftovers(space, older_than_ms))


def sweep_leftovers(space: Space, *, older_than_ms: int = SAFE_AGE_MS) -> list[Leftover]:
    """Remove what :func:`find_leftovers` finds; return what was removed."""
    removed: list[Leftover] = []
    for item in _leftovers(space, older_than_ms):
        if item.path.parent.name == STAGING and is_holder_id(item.path.name):
            # a dead worker's staging can hold the only copy of a result whose commit a
            # power cut kept and whose move it took back: make that move first
            try:
                finish_moves(space, item.path)
            except (OSError, StudioError):  # not known to hold nothing: kept, not removed
                log.warning("could not look into %s; kept", item.path, exc_info=True)
                continue
        try:
            if item.path.is_dir() and not item.path.is_symlink():
                shutil.rmtree(item.path)
            else:
                item.path.unlink()
        except FileNotFoundError:
            continue  # someone else swept it
        except OSError:
            continue  # not ours to fight over; check will keep reporting it
        removed.append(item)
    for folder in {i.path.parent for i in removed}:
        if folder.parent.parent == space.media_dir and folder.parent.name != STAGING:
            with contextlib.suppress(OSError):
                folder.rmdir()  # a variant folder left empty
    return removed


def sweep_leftovers_at_open(
    space: Space, *, every_ms: int = SWEEP_EVERY_MS, older_than_ms: int = SAFE_AGE_MS
) -> list[Leftover]:
    """:func:`sweep_leftovers`, unless the media folder was swept less than ``every_ms``
    ago (walking a big media folder costs about a second per 50,000 variants)."""
    marker = space.media_dir / _MARKER
    now = space.clock()
    try:
        last = marker.stat().st_mtime_ns // 1_000_000
    except OSError:
        last = None
    if last is not None and 0 <= now - last < every_ms:
        return []
    try:
        removed = sweep_leftovers(space, older_than_ms=older_than_ms)
    except (OSError, sqlite3.Error):  # opening the space matters more than tidying it
        log.warning("could not sweep leftovers in %s", space.media_dir, exc_info=True)
        return []
    try:
        marker.touch()
        os.utime(marker, ns=(now * 1_000_000, now * 1_000_000))
    except OSError:
        pass  # a read-only media folder: sweep again next time
    return removed


# --------------------------------------------------------------------------- the walk


def _leftovers(space: Space, older_than_ms: int) -> Iterator[Leftover]:
    media = space.media_dir
    if not media.is_dir():
        return
    cutoff = space.clock() - older_than_ms
    referenced: set[str] = set()
    status: dict[str, str] = {}
    # a second of Python per 50,000 variants, beside the window opening the space: the
    # GIL goes to the window's thread every couple of milliseconds
    pause = GilPause()
    for row in pause.each(space.read.variant_files()):
        status[row.variant_id] = row.status
        referenced.update(p for p in (row.media_path, row.thumb_path, row.poster_path) if p)

    def old(entry: os.DirEntry[str]) -> bool:
        return _touched_ms(entry) < cutoff

    for top in _scan(media):
        if top.name == STAGING and top.is_dir(follow_symlinks=False):
            for stage in _scan(Path(top.path)):
                if is_holder_id(stage.name):  # a process's own staging: only once it is dead
                    dead = space.holder_alive(stage.name) is False
                    if dead and any(True for _ in _walk_files(Path(stage.path))):
                        yield Leftover(Path(stage.path), "work of a process that died (staging)")
                elif old(stage) and _newest_ms(Path(stage.path)) < cutoff:
                    yield Leftover(Path(stage.path), "an import that never finished (staging)")
            continue
        if not top.is_dir(follow_symlinks=False):
            if top.name.endswith(".tmp") and old(top):
                yield Leftover(Path(top.path), "an unfinished temporary file")
            continue
        for vdir in _scan(Path(top.path)):
            pause()
            if not vdir.is_dir(follow_symlinks=False):
                if vdir.name.endswith(".tmp") and old(vdir):
                    yield Leftover(Path(vdir.path), "an unfinished temporary file")
                continue
            st = status.get(vdir.name)
            settled = old(vdir)  # nothing was added or renamed in there lately
            for entry in _walk_files(Path(vdir.path)):
                rel = Path(entry.path).relative_to(media).as_posix()
                if rel in referenced or not old(entry):
                    continue
                if entry.name.endswith(".tmp"):
                    yield Leftover(Path(entry.path), "an unfinished temporary file")
                elif not settled:
                    continue
                elif st is None:
                    yield Leftover(
                        Path(entry.path), "a media file of a variant that does not exist"
                    )
                elif st == "failed":
                    yield Leftover(Path(entry.path), "a media file of a failed variant, unused")


def _scan(folder: Path) -> list[os.DirEntry[str]]:
    try:
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError:
        return []


def _walk_files(folder: Path, depth: int = 0) -> Iterator[os.DirEntry[str]]:
    for entry in _scan(folder):
        if entry.is_dir(follow_symlinks=False):
            if depth < 4:
                yield from _walk_files(Path(entry.path), depth + 1)
        else:
            yield entry


def _touched_ms(entry: os.DirEntry[str]) -> int:
    """When the entry last changed: content (mtime) or name/links (ctime: a rename or a
    new hard link keeps the old mtime but not the old ctime)."""
    try:
        st = entry.stat(follow_symlinks=False)
    except OSError:
        return 2**62  # gone or unreadable: never old
    return max(st.st_mtime_ns, st.st_ctime_ns) // 1_000_000


def _newest_ms(folder: Path) -> int:
    return max((_touched_ms(e) for e in _walk_files(folder)), default=0)
