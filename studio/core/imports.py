"""Importing files from disk into a space.

Per file: the source is opened once and copied (hashed as it goes) into a staging
folder, and that copy is probed and its previews rendered there (nothing is written to
the space yet, so a refused file leaves no row); then ``variant:upload`` creates the
``uploading`` variant, the staged original and previews are renamed into place, and
``variant:complete`` points the row at the whole files. A failure after
the row exists turns the variant ``failed`` with the reason.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.holders import is_holder_id
from studio.core.layout import GRID_STEP as GRID_STEP
from studio.core.layout import grid_position as grid_position
from studio.core.space import Space
from studio.media import MediaError, MediaLimits, fsync_dir, probe, render_previews
from studio.media.metadata import read_generation_info
from studio.media.names import printable_name
from studio.media.source import stage_source

log = logging.getLogger(__name__)

STAGING = ".staging"
INTERRUPTED_AFTER_MS = 15 * 60 * 1000


@dataclass(frozen=True, slots=True)
class Imported:
    path: Path
    asset_id: str
    variant_id: str
    undo: tuple[c.Command, ...]

    @property
    def display_path(self) -> str:
        """The path as printable text (file names may hold bytes that are not UTF-8)."""
        return printable_name(self.path)


@dataclass(frozen=True, slots=True)
class Refused:
    path: Path
    reason: str

    @property
    def display_path(self) -> str:
        return printable_name(self.path)

    def line(self) -> str:
        return f"{self.display_path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: tuple[Imported, ...]
    refused: tuple[Refused, ...]

    @property
    def undo(self) -> tuple[c.Command, ...]:
        return tuple(cmd for item in reversed(self.imported) for cmd in item.undo)


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
    """Import each file; one that can't be imported becomes a ``Refused`` line with one
    clear sentence, and never stops the others."""
    limits = limits or MediaLimits()
    imported: list[Imported] = []
    refused: list[Refused] = []
    staging_root = space.staging_dir()  # this holder's own: recovery leaves it alone
    for path in paths:
        stage = staging_root / space.new_id()
        try:
            try:  # never its parents: a space deleted meanwhile must stay deleted
                stage.mkdir()
            except FileNotFoundError:
                raise space._gone_error() from None
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
        except Exception as exc:  # a bug in a decoder must cost one file, not the batch
            log.debug("importing %r failed unexpectedly", path, exc_info=True)
            refused.append(Refused(Path(path), unexpected_reason(exc)))
        else:
            imported.append(result)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    report = ImportReport(tuple(imported), tuple(refused))
    if imported:
        n = len(imported)
        space.remember(actor, report.undo, f"Import {n} file{'s' if n != 1 else ''}")
    return report


UNEXPECTED = "the file could not be imported because of an unexpected error"
NO_MEMORY = "the file needs more memory to decode than we have"


def unexpected_reason(exc: BaseException) -> str:
    if isinstance(exc, MemoryError):
        return NO_MEMORY
    if isinstance(exc, OSError):
        return f"{UNEXPECTED} ({printable_name(exc.strerror or type(exc).__name__)})"
    return f"{UNEXPECTED} ({type(exc).__name__})"


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
    # Everything below reads our private copy, taken from one open descriptor: what
    # is probed is exactly what is stored and hashed.
    try:
        staged = stage_source(path, stage, limits)
    except OSError as exc:  # writing the staging copy failed (disk full…)
        raise _ImportFailed(f"could not copy the file: {exc.strerror or exc}") from exc
    info = probe(staged.path, limits)
    previews = render_previews(staged.path, info, stage, limits=limits)
    made = read_generation_info(staged.path, info.mime)  # never raises
    x, y = grid_position(index, count, origin)
    begun = space.apply(
        c.BeginUpload(
            media_kind=c.MediaKindName(info.kind.value),
            original_name=printable_name(path.name),
            asset_id=into,
            type=type_,
            x=x,
            y=y,
            source=made.recipe_fields() if made is not None else {},
        ),
        actor,
        record=False,  # the whole import is one entry in the undo history
    )
    aid, vid = begun.created["asset_id"], begun.created["variant_id"]
    slug = space.asset(aid).slug
    rel_dir = PurePosixPath(slug) / vid
    dest = space.media_dir / rel_dir
    try:
        try:  # the asset's folder, then the variant's: never the media folder itself
            dest.parent.mkdir(exist_ok=True)
            dest.mkdir(exist_ok=True)
        except FileNotFoundError:  # the space was deleted or moved meanwhile
            raise space._gone_error() from None
        place_file(staged.path, dest / f"original.{info.ext}")
        rel_thumb = rel_poster = None
        if previews.thumb is not None:
            place_file(previews.thumb, dest / "thumb.webp")
            rel_thumb = str(rel_dir / "thumb.webp")
        if previews.poster is not None:
            place_file(previews.poster, dest / "poster.webp")
            rel_poster = str(rel_dir / "poster.webp")
        fsync_dir(dest)
        space.apply(
            c.CompleteVariant(
                variant_id=vid,
                media_path=str(rel_dir / f"original.{info.ext}"),
                mime=info.mime,
                size_bytes=staged.size_bytes,
                sha256=staged.sha256,
                width=info.width,
                height=info.height,
                duration_ms=info.duration_ms,
                thumb_path=rel_thumb,
                poster_path=rel_poster,
                generation_provenance=made.provenance_json() if made is not None else {},
            ),
            Actor.system(),
        )
    except Exception as exc:  # the row exists: it must not stay 'uploading'
        if isinstance(exc, OSError):
            code, reason = "STORAGE_ERROR", f"could not copy the file: {exc.strerror or exc}"
        elif isinstance(exc, StudioError):
            code, reason = "STORAGE_ERROR", exc.message
        else:
            code, reason = "IMPORT_FAILED", unexpected_reason(exc)
        try:
            space.apply(c.FailVariant(vid, code, reason), Actor.system())
        except StudioError:
            pass  # deleted meanwhile: nothing to mark
        shutil.rmtree(dest, ignore_errors=True)  # the variant's own folder: no row uses it
        if isinstance(exc, (OSError, StudioError)):
            raise _ImportFailed(reason) from exc
        raise  # import_files reports it as unexpected, with its traceback in the log
    return Imported(path, aid, vid, begun.inverse)


def place_file(src: Path, dest: Path) -> None:
    """Move a whole, fsync'd staging file to its final place (same file system)."""
    os.replace(src, dest)


class _ImportFailed(StudioError):
    pass


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
                if space.holder_alive(child.name) is False:
                    shutil.rmtree(child, ignore_errors=True)
            elif child.stat().st_mtime * 1000 < cutoff_ms:
                shutil.rmtree(child, ignore_errors=True)  # from before holders
        except OSError:
            pass


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
