"""The part of an import that needs no space: copy, hash, probe, previews, metadata.

``prepare_file`` runs in a worker process of :mod:`studio.media.pool` (or in the
caller's own, for a few files) and writes only into its staging folder; the importer
then creates the rows through the space's door and moves the whole files into place.
What crosses the process border is plain, picklable data: ``Prepared`` or ``Failed``,
never an exception (a worker's exception types need not survive pickling).

Nothing here waits for the disk: the files are written but not fsync'd. A worker that
waited in ``fsync`` would leave its core idle while it has pixels to decode; the
importing process syncs :attr:`Prepared.unsynced` on a few threads of its own before
any row points at them (:mod:`studio.core.imports`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.media.kinds import MediaError, MediaInfo, MediaLimits, Previews
from studio.media.metadata import read_generation_info
from studio.media.names import printable_name
from studio.media.previews import probe_and_render
from studio.media.source import Staged, stage_source

__all__ = ["Failed", "Prepared", "copy_failed", "prepare_file", "unexpected_reason"]

log = logging.getLogger(__name__)

UNEXPECTED = "the file could not be imported because of an unexpected error"
NO_MEMORY = "the file needs more memory to decode than we have"


@dataclass(frozen=True, slots=True)
class Prepared:
    """A staged copy with its previews, ready to be placed; what the file says about
    how it was made (``None``: nothing)."""

    staged: Staged
    info: MediaInfo
    previews: Previews
    recipe_fields: dict[str, Any] | None
    provenance: dict[str, Any]

    @property
    def unsynced(self) -> tuple[Path, ...]:
        """The files whose data must be fsync'd before a row points at them: the copy,
        the thumbnail and the poster (the small tiers never are: a torn tier reads as
        missing, and the canvas falls back to the thumbnail)."""
        return tuple(p for p in (self.staged.path, self.previews.thumb, self.previews.poster) if p)


@dataclass(frozen=True, slots=True)
class Failed:
    """Why a file can't be imported, in one sentence; ``unexpected``: a bug or a
    resource problem, not the file's fault (logged with ``detail``)."""

    reason: str
    unexpected: bool = False
    detail: str = ""


def copy_failed(exc: OSError) -> str:
    """The reason for a file whose copy could not be written or synced (disk full…)."""
    return f"could not copy the file: {exc.strerror or exc}"


def unexpected_reason(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return NO_MEMORY
    if isinstance(exc, OSError):
        return f"{UNEXPECTED} ({printable_name(exc.strerror or type(exc).__name__)})"
    return f"{UNEXPECTED} ({type(exc).__name__})"


def prepare_file(path: Path, stage: Path, limits: MediaLimits) -> Prepared | Failed:
    """Copy ``path`` into the existing folder ``stage`` and make everything an import
    stores from that copy (the source is opened once: what is probed is exactly what
    is stored and hashed). Nothing is fsync'd (:attr:`Prepared.unsynced`). Never
    raises."""
    try:
        try:
            staged = stage_source(path, stage, limits, sync=False, in_place=True)
        except OSError as exc:  # writing the staging copy failed (disk full…)
            return Failed(copy_failed(exc))
        # the staging folder is ours alone and never synced: its files are written
        # under their names at once and renamed into the variant's folder, which the
        # importer syncs before any row points at them
        info, previews = probe_and_render(
            staged.path, stage, limits=limits, sync_dir=False, in_place=True, sync=False
        )
        made = read_generation_info(staged.path, info.mime)  # never raises
    except MediaError as exc:
        return Failed(exc.message)
    except Exception as exc:  # a bug in a decoder must cost one file, not the batch
        log.debug("preparing %r failed unexpectedly", path, exc_info=True)
        return Failed(unexpected_reason(exc), unexpected=True, detail=repr(exc))
    return Prepared(
        staged,
        info,
        previews,
        made.recipe_fields() if made is not None else None,
        made.provenance_json() if made is not None else {},
    )
