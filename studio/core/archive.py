"""Whole spaces in and out as one ``.forgespace`` file (the zip itself:
:mod:`studio.store.archive`).

Export takes a consistent snapshot of the space file with SQLite's backup API (the space
may stay open and keep changing) and streams it with every media file into the archive.

Import is all or nothing. The archive is checked (structure, manifest) before anything
is written; it is then extracted into a hidden staging folder under ``spaces/`` with
every byte checked against the manifest's SHA-256, the space file checked against the
manifest's counts and files, and only then given a new id and slug, linked into place
and registered in the library. On any failure the staging folder is removed and the
library and the data folder are as they were. Importing the same archive twice makes
two spaces (each with its own id and slug): an archive is a copy, not an identity.
"""

from __future__ import annotations

import datetime
import os
import secrets
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from studio.clock import slugify, unique_slug
from studio.core.errors import ConflictError, StorageError
from studio.core.handlers.common import clean_text
from studio.core.protocol import PROTOCOL_VERSION
from studio.core.studio import Studio
from studio.media.files import fsync_dir
from studio.store.archive import (
    SUFFIX,
    ArchiveError,
    Manifest,
    Progress,
    SpaceIdentity,
    check_room,
    check_snapshot,
    open_archive,
    snapshot,
    stamp_identity,
    write_archive,
)
from studio.store.library import SpaceEntry

MAX_SLUG_ATTEMPTS = 20
STAGING_PREFIX = ".import-"
SNAPSHOT_PREFIX = ".export-"
STALE_WORK_S = 24 * 60 * 60
"""A staging folder untouched this long belongs to an import or export that died."""


def clear_stale_work(spaces_dir: Path, *, now: float | None = None) -> list[str]:
    """Remove what imports and exports killed long ago left under ``spaces/``."""
    now = time.time() if now is None else now
    removed: list[str] = []
    try:
        entries = list(os.scandir(spaces_dir))
    except OSError:
        return removed
    for e in entries:
        if not e.name.startswith((STAGING_PREFIX, SNAPSHOT_PREFIX)):
            continue
        try:
            if e.is_dir(follow_symlinks=False) and now - e.stat().st_mtime > STALE_WORK_S:
                shutil.rmtree(e.path, ignore_errors=True)
                removed.append(e.name)
        except OSError:
            pass
    return removed


def _quiet(done: int, total: int) -> None:
    pass


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    manifest: Manifest
    size_bytes: int


@dataclass(frozen=True, slots=True)
class ImportResult:
    entry: SpaceEntry
    manifest: Manifest


def default_export_path(studio: Studio, slug: str) -> Path:
    stamp = datetime.datetime.fromtimestamp(studio.clock() / 1000, tz=datetime.UTC)
    return studio.paths.exports_dir / f"{slug}-{stamp:%Y%m%dT%H%M%S}Z{SUFFIX}"


def export_space(
    studio: Studio, ref: str, dest: Path | None = None, *, progress: Progress = _quiet
) -> ExportResult:
    """Write the space ``ref`` to ``dest`` (default: ``exports/<slug>-<time>.forgespace``;
    a folder gets that name inside it). An existing file is never overwritten."""
    entry = studio.resolve(ref)
    if dest is None:
        dest = default_export_path(studio, entry.slug)
    elif dest.is_dir():
        dest = dest / default_export_path(studio, entry.slug).name
    if os.path.lexists(dest):
        raise ArchiveError(f"{dest} already exists; choose another file name")
    if not dest.parent.is_dir():
        raise ArchiveError(f"the folder {dest.parent} does not exist")
    source = studio.paths.home / entry.file
    clear_stale_work(studio.paths.spaces_dir)
    work = studio.paths.spaces_dir / f"{SNAPSHOT_PREFIX}{secrets.token_hex(6)}"
    try:
        work.mkdir()
        db = work / "space.db"
        snapshot(source, db)
        manifest = write_archive(
            db,
            studio.paths.space_media(entry.slug),
            dest,
            space=SpaceIdentity(entry.id, entry.slug, entry.name),
            protocol_version=PROTOCOL_VERSION,
            created_at=studio.clock(),
            progress=progress,
        )
    except OSError as exc:
        raise ArchiveError(f"could not export {entry.slug!r}: {exc.strerror or exc}") from exc
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ExportResult(dest, manifest, dest.stat().st_size)


def import_space(
    studio: Studio, file: Path, *, name: str | None = None, progress: Progress = _quiet
) -> ImportResult:
    """Bring the archive ``file`` in as a new space (new id and slug), named ``name`` or
    as the archived space was. Whole or not at all (see the module's docstring)."""
    if name is not None:
        name = clean_text(name, "space name")
    with open_archive(Path(file)) as reader:
        manifest = reader.manifest
        label = reader.label
        name = name or clean_text(manifest.space_name or "Imported space", "space name")
        check_room(studio.paths.home, reader.total_bytes)
        clear_stale_work(studio.paths.spaces_dir)
        stage = studio.paths.spaces_dir / f"{STAGING_PREFIX}{secrets.token_hex(6)}"
        try:
            stage.mkdir()
            db, media = stage / "space.db", stage / "media"
            media.mkdir()
            reader.extract(db, media, progress)
            check_snapshot(db, manifest, label)
            entry = _register(studio, name, db, media)
        except OSError as exc:
            raise ArchiveError(f"could not import {label}: {exc.strerror or exc}") from exc
        finally:
            shutil.rmtree(stage, ignore_errors=True)
    try:  # open once: migrates an older schema, and proves the space opens
        studio.open_space(entry.slug).close()
    except StorageError:
        _unregister(studio, entry)
        raise
    return ImportResult(entry, manifest)


def _slug_taken(studio: Studio, slug: str) -> bool:
    return (
        studio.library.slug_taken(slug)
        or os.path.lexists(studio.paths.space_db(slug))
        or os.path.lexists(studio.paths.space_media(slug))
    )


def _register(studio: Studio, name: str, db: Path, media: Path) -> SpaceEntry:
    """Give the staged space its id and slug, move it into place and list it; a slug
    another process takes meanwhile is skipped. On failure nothing stays in place."""
    space_id = studio.ids()
    base = slugify(name, fallback="space")
    for _ in range(MAX_SLUG_ATTEMPTS):
        slug = unique_slug(base, lambda s: _slug_taken(studio, s))
        entry = SpaceEntry(
            id=space_id,
            slug=slug,
            name=name,
            file=str(studio.paths.space_db(slug).relative_to(studio.paths.home)),
            created_at=studio.clock(),
            last_opened_at=None,
        )
        stamp_identity(db, space_id=space_id, slug=slug)
        final_db = studio.paths.home / entry.file
        final_media = studio.paths.space_media(slug)
        try:
            os.link(db, final_db)
        except FileExistsError:
            continue
        try:
            final_media.mkdir(exist_ok=False)
        except FileExistsError:
            final_db.unlink(missing_ok=True)
            continue
        try:
            for child in sorted(media.iterdir()):
                os.rename(child, final_media / child.name)
            fsync_dir(final_media)
            studio.library.add(entry)
        except ConflictError:
            _discard(final_db, final_media)
            continue
        except BaseException:
            _discard(final_db, final_media)
            raise
        fsync_dir(studio.paths.spaces_dir)
        return entry
    raise ConflictError(f"could not find a free file name for the space {name!r}; try again")


def _discard(db: Path, media: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal", ".lock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    shutil.rmtree(media, ignore_errors=True)


def _unregister(studio: Studio, entry: SpaceEntry) -> None:
    try:
        studio.library.remove(entry.id)
    except StorageError:
        pass
    _discard(studio.paths.home / entry.file, studio.paths.space_media(entry.slug))


__all__ = ["ArchiveError", "ExportResult", "ImportResult", "export_space", "import_space"]
