"""``studio check``: is a space whole?

Reports (problems make the check fail; warnings do not):
- the database: integrity, foreign keys, JSON columns that do not parse, text that is
  not UTF-8;
- every file a variant points at: missing, wrong size or hash, previews that do not decode
  (on a joined space's replica, a file not fetched from its host yet is only a warning);
- the media folder: files and folders no row points to (what is left when rows were lost),
  and leftover temporary files;
- the tree and the queue: live assets inside a deleted one (deleting an asset takes its
  subtree) and queued or running jobs of deleted variants (deleting parks them).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any, TypeVar

from studio.core.leftovers import find_leftovers
from studio.core.space import Space
from studio.media import sha256_file
from studio.media.previews import tier_paths
from studio.store.db import DB_FAULTS

T = TypeVar("T")

JSON_COLUMNS: dict[str, tuple[str, tuple[str, ...]]] = {
    "assets": ("id", ("tags",)),
    "variants": ("id", ("recipe", "generation_provenance", "provider_metadata")),
    "changes": ("seq", ("payload", "events")),
}
"""Columns that hold JSON, by table: (key column, JSON columns)."""

PREVIEW_FORMATS = ["WEBP", "PNG", "JPEG"]
MAX_PREVIEW_BYTES = 32 * 1024 * 1024
MAX_PREVIEW_PIXELS = 8192 * 8192
MAX_MEDIA_ENTRIES = 2_000_000
"""The media walk stops (with a warning) after this many entries."""
TEMP_SUFFIXES = (".tmp", ".part", ".creating")
IGNORED_DIRS = frozenset({".staging"})
"""Owned by the import pipeline, which cleans it up itself."""
# Hidden files at the top of the media folder are Forge Studio's own bookkeeping (e.g.
# a sweep marker); only temporary files among them are reported.
BUSY_STATUSES = frozenset({"uploading", "pending", "processing"})


@dataclass(frozen=True)
class BrokenPreview:
    """A variant whose thumbnail or poster is missing or does not decode while its
    original is whole (size and sha256 checked): :mod:`studio.core.repair` can make
    them again from it."""

    variant_id: str
    media: str
    thumb: str | None
    poster: str | None


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_checked: int = 0
    variants_checked: int = 0
    broken_previews: list[BrokenPreview] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def check_space(space: Space, *, verify_hashes: bool = True) -> CheckReport:
    report = CheckReport()

    def phase(what: str, fn: Callable[[], T]) -> T | None:
        """Run one part of the check; a file too damaged for it is itself a problem."""
        try:
            return fn()
        except DB_FAULTS as exc:
            report.problems.append(f"database: could not check {what} ({_first(exc)})")
            return None

    integrity = phase(
        "integrity",
        lambda: [
            _text(row[0])
            for row in _rows(
                space, "SELECT CAST(integrity_check AS BLOB) FROM pragma_integrity_check"
            )
        ],
    )
    if integrity is not None and integrity != ["ok"]:
        report.problems += [f"database: {line}" for line in integrity]
    keys = phase("references", lambda: _rows(space, "PRAGMA foreign_key_check"))
    for table, rowid, parent, _fk in keys or []:
        report.problems.append(f"database: {table} row {rowid} points at a missing {parent} row")
    phase("JSON columns", lambda: _check_json(space, report))
    phase("the asset tree and the queue", lambda: _check_dead_links(space, report))
    found = phase("variants", lambda: _check_variants(space, report, verify_hashes))
    # debris of killed imports and jobs, old enough to be nobody's work: swept at the
    # next open, so a warning (the media walk below leaves these paths to it)
    leftovers = phase("leftovers", lambda: find_leftovers(space)) or []
    left = {_rel(item.path, space.media_dir) for item in leftovers}
    for item in leftovers:
        report.warnings.append(f"leftover {item.line(space.media_dir)}")
    if found is not None:
        _check_media_tree(space, report, *found, leftovers=left)
    return report


def _rows(space: Space, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with space.reading() as conn:
        return conn.execute(sql, args).fetchall()


def _rel(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def _check_json(space: Space, report: CheckReport) -> None:
    for table, (key, columns) in JSON_COLUMNS.items():
        casts = ", ".join(f"CAST({c} AS BLOB)" for c in columns)
        for row in _rows(space, f"SELECT CAST({key} AS BLOB), {casts} FROM {table}"):
            ident = _text(row[0])
            for column, raw in zip(columns, row[1:], strict=True):
                if raw is None:
                    continue
                try:
                    json.loads(bytes(raw).decode("utf-8"))
                except (UnicodeDecodeError, ValueError) as exc:
                    report.problems.append(
                        f"database: {table} {ident}: {column} is not valid JSON ({_first(exc)})"
                    )


def _check_dead_links(space: Space, report: CheckReport) -> None:
    """Live rows that hang off deleted ones: nothing shows them, nothing ends them."""
    for child, name, parent in _rows(
        space,
        "SELECT CAST(c.id AS BLOB), CAST(c.name AS BLOB), CAST(p.id AS BLOB) "
        "FROM assets c JOIN assets p ON p.id = c.parent_asset_id "
        "WHERE c.deleted_at IS NULL AND p.deleted_at IS NOT NULL ORDER BY c.id",
    ):
        report.problems.append(
            f"asset {_text(child)} ({_text(name)!r}) is live inside the deleted asset "
            f"{_text(parent)}"
        )
    for job, status, variant in _rows(
        space,
        "SELECT CAST(j.id AS BLOB), j.status, CAST(j.variant_id AS BLOB) FROM jobs j "
        "LEFT JOIN variants v ON v.id = j.variant_id LEFT JOIN assets a ON a.id = v.asset_id "
        "WHERE j.status IN ('queued', 'running') "
        "AND (v.deleted_at IS NOT NULL OR a.deleted_at IS NOT NULL) ORDER BY j.id",
    ):
        report.problems.append(
            f"job {_text(job)} is still {_text(status)} for the deleted variant {_text(variant)}"
        )


def _first(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:120]


def _check_variants(
    space: Space, report: CheckReport, verify_hashes: bool
) -> tuple[set[str], set[str], set[str], set[str]]:
    """Check every file a variant points at. Returns the referenced paths, the folders of
    variants still being filled, of failed variants, and of every variant row."""
    referenced: set[str] = set()
    busy_dirs: set[str] = set()
    failed_dirs: set[str] = set()
    live_dirs: set[str] = set()
    rows = _rows(
        space,
        "SELECT CAST(v.id AS BLOB), v.status, CAST(v.media_path AS BLOB), "
        "CAST(v.thumb_path AS BLOB), CAST(v.poster_path AS BLOB), v.sha256, v.size_bytes, "
        "CAST(a.slug AS BLOB) FROM variants v LEFT JOIN assets a ON a.id = v.asset_id "
        "ORDER BY v.id",
    )
    for raw_id, status, raw_media, raw_thumb, raw_poster, sha, size, raw_slug in rows:
        vid = _text(raw_id)
        report.variants_checked += 1
        paths: list[str | None] = []
        for raw in (raw_media, raw_thumb, raw_poster):
            if raw is None:
                paths.append(None)
                continue
            try:
                paths.append(bytes(raw).decode("utf-8"))
            except UnicodeDecodeError:
                report.problems.append(f"variant {vid}: a file path is not valid text")
                paths.append(None)
        media, thumb, poster = paths
        if raw_slug is not None:
            folder = f"{_text(raw_slug)}/{vid}"
            live_dirs.add(folder)
            if status in BUSY_STATUSES:
                busy_dirs.add(folder)
            elif status == "failed":
                failed_dirs.add(folder)
        if status == "completed" and not media:
            report.problems.append(f"variant {vid}: completed but has no media file")
        if thumb is not None:  # its small tiers: optional caches beside it, never checked
            referenced.update(str(PurePosixPath(t)) for t in tier_paths(thumb))
        original_ok = media is not None and verify_hashes
        broken_preview = False
        for rel in (media, thumb, poster):
            if rel is None:
                continue
            referenced.add(str(PurePosixPath(rel)))
            live_dirs.add(str(PurePosixPath(rel).parent))
            path = space.media_dir / rel
            report.files_checked += 1
            if not path.is_file():
                if space.is_replica and not path.is_symlink() and not path.exists():
                    # a joined space's media come from its host on demand
                    what = "original" if rel == media else "thumb" if rel == thumb else "poster"
                    fetch = f"studio fetch {space.slug}" + (
                        "" if what == "original" else f" --what {what}"
                    )
                    report.warnings.append(f"variant {vid}: {rel} not fetched yet (run {fetch})")
                else:
                    report.problems.append(f"variant {vid}: missing file {rel}")
                    original_ok = original_ok and rel != media
                    broken_preview = broken_preview or rel != media
                continue
            if rel == media and verify_hashes:
                if size is not None and path.stat().st_size != size:
                    report.problems.append(
                        f"variant {vid}: {rel} is {path.stat().st_size} bytes, expected {size}"
                    )
                    original_ok = False
                elif sha and sha256_file(path) != sha:
                    report.problems.append(f"variant {vid}: {rel} does not match its sha256")
                    original_ok = False
                elif not sha:
                    original_ok = False  # nothing says it is the file that was stored
            elif rel != media:
                reason = preview_fault(path)
                if reason is not None:
                    report.problems.append(f"variant {vid}: preview {rel} {reason}")
                    broken_preview = True
        if broken_preview and original_ok and status == "completed" and not space.is_replica:
            assert media is not None  # (original_ok says so)
            report.broken_previews.append(BrokenPreview(vid, media, thumb, poster))
        if status in ("uploading", "processing"):
            report.warnings.append(f"variant {vid} is still {status}")
    return referenced, busy_dirs, failed_dirs, live_dirs


def preview_fault(path: Path) -> str | None:
    """Why a thumbnail or poster does not decode, or None when it does (bounded: a
    preview is small, so a huge file or picture is itself a fault)."""
    from PIL import Image

    try:
        size = path.stat().st_size
        if size > MAX_PREVIEW_BYTES:
            return f"is {size} bytes, too large for a preview"
        with Image.open(path, formats=PREVIEW_FORMATS) as im:
            w, h = im.size
            if w * h > MAX_PREVIEW_PIXELS:
                return f"is {w}x{h} pixels, too large for a preview"
            im.load()
    except Exception as exc:  # Pillow raises many kinds for a damaged file
        return f"does not decode ({_first(exc)})"
    return None


def _check_media_tree(
    space: Space,
    report: CheckReport,
    referenced: set[str],
    busy_dirs: set[str],
    failed_dirs: set[str],
    live_dirs: set[str],
    *,
    leftovers: frozenset[str] | set[str] = frozenset(),
) -> None:
    """Files and folders under the media folder that no row points to (except the
    ``leftovers``, reported as such by the caller)."""
    root = space.media_dir
    if not root.is_dir():
        report.problems.append(f"media folder {root} is missing")
        return
    needed_dirs = {str(PurePosixPath(d)) for d in live_dirs}
    for d in list(needed_dirs):
        needed_dirs.update(str(p) for p in PurePosixPath(d).parents if str(p) != ".")
    reported: set[str] = set()
    for n, (rel, is_dir) in enumerate(_walk(root)):
        if n >= MAX_MEDIA_ENTRIES:
            report.warnings.append(f"media: stopped after {MAX_MEDIA_ENTRIES} entries")
            return
        path = PurePosixPath(rel)
        if any(str(p) in reported for p in path.parents):
            continue  # inside a folder already reported
        if rel in leftovers:
            continue
        if is_dir:
            if rel not in needed_dirs and not _all_left_over(root, rel, leftovers):
                reported.add(rel)
                report.problems.append(f"media: folder {rel} has no asset or variant row")
        elif space.is_replica and path.name.startswith(".") and path.name.endswith(".part"):
            report.warnings.append(f"media: {rel} is partly fetched (studio fetch resumes it)")
        elif path.name.endswith(TEMP_SUFFIXES):
            report.warnings.append(f"media: leftover temporary file {rel}")
        elif rel in referenced or str(path.parent) in busy_dirs:
            continue  # (a variant still being filled writes files before its row names them)
        elif str(path.parent) in failed_dirs:  # debris of a write that never completed
            report.warnings.append(f"media: {rel} is left over from a failed variant")
        else:
            report.problems.append(f"media: orphan file {rel} (no variant points to it)")


def _all_left_over(root: Path, rel: str, leftovers: frozenset[str] | set[str]) -> bool:
    """Is every file in the folder ``rel`` a known leftover (so the folder is one too)?"""
    if not leftovers:
        return False
    files = [
        (PurePosixPath(rel) / sub).as_posix() for sub, is_dir in _walk(root / rel) if not is_dir
    ]
    return bool(files) and all(f in leftovers for f in files)


def _walk(root: Path) -> Iterator[tuple[str, bool]]:
    """Every entry below ``root`` as (posix path relative to root, is a folder), folders
    before their content, without following symlinks."""
    for dirpath, dirnames, filenames in os.walk(root):
        base = PurePosixPath(Path(dirpath).relative_to(root).as_posix())
        top = base == PurePosixPath(".")
        dirnames[:] = sorted(d for d in dirnames if not (top and d in IGNORED_DIRS))
        for d in dirnames:
            yield str(base / d), True
        for f in sorted(filenames):
            if top and f.startswith(".") and not f.endswith(TEMP_SUFFIXES):
                continue
            yield str(base / f), False
