"""Recovering what interrupted imports left: their ``uploading`` rows failed, their
staging folders removed (after putting in place any job result whose committed move a
power cut took back). Apart from :mod:`studio.core.imports` (which re-exports it),
so that opening a space — the app's snapshot job does this on each open — does not
import the media libraries and the process pool an import needs."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path, PurePosixPath

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.holders import is_holder_id
from studio.core.space import Space

log = logging.getLogger(__name__)
STAGING = ".staging"
INTERRUPTED_AFTER_MS = 15 * 60 * 1000


def recover_interrupted(space: Space, *, older_than_ms: int = INTERRUPTED_AFTER_MS) -> int:
    """Fail uploads whose importing process died, and remove staging folders of dead
    holders. Returns the number of variants marked failed.

    Ownership decides, never a guess: an ``uploading`` variant records the holder that
    began it (``upload_owner``) and is failed only once that holder is dead; each
    holder stages under ``.staging/<holder-id>/``, removed only once it is dead. Rows
    and folders from before owners were recorded are taken as orphaned when no other
    holder is alive, or when untouched for ``older_than_ms``. Where liveness can't be
    known (no ``flock``), age alone decides."""
    alone = space.alone()
    now = space.clock()
    cutoff = now + 1 if alone else now - older_than_ms
    n = 0
    for vid, owner, updated_at in space.read.uploads():
        alive = space.holder_alive(owner) if owner is not None else None
        orphaned = (alive is False) or (alive is None and updated_at < cutoff)
        if not orphaned:
            continue
        try:
            space.apply(
                c.FailVariant(
                    vid, "IMPORT_INTERRUPTED", "the import was interrupted; import the file again"
                ),
                Actor.system(),
            )
            n += 1
        except StudioError:
            pass
        _remove_temporaries(space, vid)
    _sweep_staging(space, cutoff)
    return n


def _sweep_staging(space: Space, cutoff_ms: int) -> None:
    staging = space.media_dir / STAGING
    if not staging.is_dir():
        return
    for child in staging.iterdir():
        try:
            if is_holder_id(child.name):
                alive = space.holder_alive(child.name)
                if alive is not True:  # a live holder's committed moves are all made
                    finish_moves(space, child)
                if alive is False:
                    shutil.rmtree(child, ignore_errors=True)
            elif child.stat().st_mtime * 1000 < cutoff_ms:
                shutil.rmtree(child, ignore_errors=True)  # from before holders
        except OSError:
            pass


def finish_moves(space: Space, holder_dir: Path) -> int:
    """Put in place the results a power cut took back: ``job:complete`` moves a job's
    staged folder (``job-<id>-<attempt>``) to its variant's folder and syncs that move
    only after its commit, so the commit can outlive the move. A staged folder of the
    attempt that completed its job, whose variant points into a folder that is not
    there, is that move undone: it is redone here, then synced. Its files were whole
    and synced before the step. Returns how many were moved."""
    from studio.media.files import fsync_dir  # after a crash only: not on the open path

    n = 0
    for stage in holder_dir.iterdir():
        parts = stage.name.split("-")
        if len(parts) != 3 or parts[0] != "job" or not parts[2].isdigit():
            continue  # a scratch (.tmp) or extra (.xN) folder, or not a job's
        job = space.read.job_attempt(parts[1])
        if job is None or job.status != "succeeded" or job.attempts != int(parts[2]):
            continue
        rows = space.read.variant_files(job.variant_id)
        slug, media = (rows[0].asset_slug, rows[0].media_path) if rows else (None, None)
        if slug is None or media is None:
            continue
        rel = PurePosixPath(slug) / job.variant_id
        if PurePosixPath(media).parent != rel:
            continue
        dest = space.media_dir / rel
        if not (stage / PurePosixPath(media).name).is_file() or os.path.lexists(dest):
            continue  # not this result's folder, or the move did survive
        try:
            made = not dest.parent.is_dir()
            dest.parent.mkdir(exist_ok=True)
            os.replace(stage, dest)
            fsync_dir(dest.parent)
            if made:
                fsync_dir(space.media_dir)
            n += 1
        except OSError:
            log.warning("could not put the result of job %s in place", parts[1], exc_info=True)
    return n


def _remove_temporaries(space: Space, variant_id: str) -> None:
    """Delete what an interrupted import left in its variant's folder (a half-written
    temporary, or a whole copy no row points at): ``studio check`` reports it otherwise."""
    rows = space.read.variant_files(variant_id)
    if not rows or rows[0].asset_slug is None:
        return
    slug = rows[0].asset_slug
    paths = [rows[0].media_path, rows[0].thumb_path, rows[0].poster_path]
    folder = space.media_dir / slug / variant_id
    try:
        if not any(paths):  # nothing points into the folder: all of it is debris
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
    except OSError:
        pass
