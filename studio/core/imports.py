"""Importing files from disk into a space.

Per file: probe and render previews into a staging folder (nothing is written to the
space yet, so a refused file leaves no row), then ``variant:upload`` creates the
``uploading`` variant, the original is copied temp → fsync → rename next to its
previews, and ``variant:complete`` points the row at the whole files. A failure after
the row exists turns the variant ``failed`` with the reason.
"""

from __future__ import annotations

import math
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.space import Space
from studio.media import MediaError, MediaLimits, atomic_copy, fsync_dir, probe, render_previews

GRID_STEP = 280.0
STAGING = ".staging"
INTERRUPTED_AFTER_MS = 15 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Imported:
    path: Path
    asset_id: str
    variant_id: str
    undo: tuple[c.Command, ...]


@dataclass(frozen=True, slots=True)
class Refused:
    path: Path
    reason: str

    def line(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: tuple[Imported, ...]
    refused: tuple[Refused, ...]

    @property
    def undo(self) -> tuple[c.Command, ...]:
        return tuple(cmd for item in reversed(self.imported) for cmd in item.undo)


def grid_position(index: int, count: int, origin: tuple[float, float]) -> tuple[float, float]:
    """Where the ``index``-th of ``count`` new assets goes: a near-square grid."""
    cols = max(1, math.ceil(math.sqrt(count)))
    row, col = divmod(index, cols)
    return origin[0] + col * GRID_STEP, origin[1] + row * GRID_STEP


def import_files(
    space: Space,
    paths: Sequence[Path],
    actor: Actor,
    *,
    into: str | None = None,
    type_: str = "",
    origin: tuple[float, float] = (0.0, 0.0),
    limits: MediaLimits | None = None,
) -> ImportReport:
    limits = limits or MediaLimits()
    imported: list[Imported] = []
    refused: list[Refused] = []
    staging_root = space.media_dir / STAGING
    for path in paths:
        stage = staging_root / space.new_id()
        try:
            result = _import_one(
                space,
                Path(path),
                stage,
                actor,
                into,
                type_,
                origin,
                limits,
                len(imported),
                len(paths),
            )
        except (MediaError, StudioError) as exc:
            refused.append(Refused(Path(path), _reason(exc)))
        else:
            imported.append(result)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    return ImportReport(tuple(imported), tuple(refused))


def _reason(exc: Exception) -> str:
    if isinstance(exc, MediaError):
        return exc.message
    if isinstance(exc, StudioError):
        return exc.message
    return str(exc)  # pragma: no cover


def _import_one(
    space: Space,
    path: Path,
    stage: Path,
    actor: Actor,
    into: str | None,
    type_: str,
    origin: tuple[float, float],
    limits: MediaLimits,
    index: int,
    count: int,
) -> Imported:
    info = probe(path, limits)
    previews = render_previews(path, info, stage)
    x, y = grid_position(index, count, origin)
    begun = space.apply(
        c.BeginUpload(
            media_kind=c.MediaKindName(info.kind.value),
            original_name=path.name,
            asset_id=into,
            type=type_,
            x=x,
            y=y,
        ),
        actor,
    )
    aid, vid = begun.created["asset_id"], begun.created["variant_id"]
    slug = space.asset(aid).slug
    rel_dir = PurePosixPath(slug) / vid
    dest = space.media_dir / rel_dir
    try:
        dest.mkdir(parents=True, exist_ok=True)
        size, sha = atomic_copy(path, dest / f"original.{info.ext}")
        rel_thumb = rel_poster = None
        if previews.thumb is not None:
            os.replace(previews.thumb, dest / "thumb.webp")
            rel_thumb = str(rel_dir / "thumb.webp")
        if previews.poster is not None:
            os.replace(previews.poster, dest / "poster.webp")
            rel_poster = str(rel_dir / "poster.webp")
        fsync_dir(dest)
        space.apply(
            c.CompleteVariant(
                variant_id=vid,
                media_path=str(rel_dir / f"original.{info.ext}"),
                mime=info.mime,
                size_bytes=size,
                sha256=sha,
                width=info.width,
                height=info.height,
                duration_ms=info.duration_ms,
                thumb_path=rel_thumb,
                poster_path=rel_poster,
            ),
            Actor.system(),
        )
    except (OSError, StudioError) as exc:
        reason = (
            f"could not copy the file: {exc.strerror or exc}"
            if isinstance(exc, OSError)
            else exc.message
        )
        try:
            space.apply(c.FailVariant(vid, "STORAGE_ERROR", reason), Actor.system())
        except StudioError:
            pass  # deleted meanwhile: nothing to mark
        raise _ImportFailed(reason) from exc
    return Imported(path, aid, vid, begun.inverse)


class _ImportFailed(StudioError):
    pass


def recover_interrupted(space: Space, *, older_than_ms: int = INTERRUPTED_AFTER_MS) -> int:
    """Fail uploads a crash left half-done, and sweep old staging folders. Returns the
    number of variants marked failed.

    When no other process has the space open, every ``uploading`` variant is orphaned;
    otherwise only those untouched for ``older_than_ms`` are taken as such."""
    alone = space.alone()
    now = space.clock()
    cutoff = now + 1 if alone else now - older_than_ms
    stuck = space.query(
        "SELECT id FROM variants WHERE status = 'uploading' AND deleted_at IS NULL "
        "AND updated_at < ?",
        (cutoff,),
    )
    n = 0
    for (vid,) in stuck:
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
    staging = space.media_dir / STAGING
    if staging.is_dir():
        for child in staging.iterdir():
            try:
                if child.stat().st_mtime * 1000 < cutoff:
                    shutil.rmtree(child, ignore_errors=True)
            except OSError:
                pass
    return n


def _remove_temporaries(space: Space, variant_id: str) -> None:
    """Delete what an interrupted import left in its variant's folder (a half-written
    temporary, or a whole copy no row points at): ``studio check`` reports it otherwise."""
    rows = space.query(
        "SELECT a.slug, v.media_path, v.thumb_path, v.poster_path "
        "FROM variants v JOIN assets a ON a.id = v.asset_id WHERE v.id = ?",
        (variant_id,),
    )
    if not rows:
        return
    slug, *paths = rows[0]
    folder = space.media_dir / slug / variant_id
    try:
        if not any(paths):  # nothing points into the folder: all of it is debris
            shutil.rmtree(folder, ignore_errors=True)
        else:
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
    except OSError:
        pass
