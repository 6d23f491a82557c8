"""The space file inside a ``.forgespace`` archive: the snapshot taken on export, and
the checks an extracted one must pass (whole, exactly our schema, agreeing with the
manifest) before it may become a space."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from studio.store.archive_manifest import COUNTED_TABLES, ArchiveError, Manifest, safe_media_path
from studio.store.archive_stream import fsync_path as _fsync
from studio.store.db import (
    DB_FAULTS,
    SchemaError,
    _reference_schema,
    check_header,
    file_uri,
    verify_schema,
)
from studio.store.schema import (
    REBUILD_SEARCH,
    SEARCH_TABLE,
    SPACE_APPLICATION_ID,
    SPACE_MIGRATIONS,
)

# --------------------------------------------------------------------------- snapshot


def snapshot(source: Path, dest: Path) -> None:
    """A consistent copy of the space file ``source`` at ``dest`` (which must not exist),
    taken with SQLite's online backup API on a read connection (writers keep going)."""
    try:
        src = sqlite3.connect(file_uri(source, "ro"), uri=True)
        try:
            dst = sqlite3.connect(dest)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # one plain file
            finally:
                dst.close()
        finally:
            src.close()
    except DB_FAULTS as exc:
        raise ArchiveError(f"could not read the space file {source.name}: {exc}") from exc


def _check_db(path: Path, label: str) -> sqlite3.Connection:
    """A connection to an archived (or snapshot) space file that is whole and ours."""
    try:
        check_header(path, SPACE_APPLICATION_ID)
        conn = sqlite3.connect(file_uri(path, "rw"), uri=True, isolation_level=None)
    except SchemaError as exc:
        raise ArchiveError(f"{label} holds no usable space file ({exc})") from exc
    except (OSError, *DB_FAULTS) as exc:
        raise ArchiveError(f"{label} holds no usable space file ({exc})") from exc
    try:
        check = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(5)")]
        if check != ["ok"]:
            raise ArchiveError(f"{label} holds a damaged space file ({check[0][:160]})")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if not 0 < version <= SPACE_MIGRATIONS[-1].version:
            raise ArchiveError(f"{label} holds a space file of unknown schema {version}")
        _check_schema(conn, version, label)
    except DB_FAULTS as exc:
        conn.close()
        raise ArchiveError(f"{label} holds a damaged space file ({str(exc)[:160]})") from exc
    except BaseException:
        conn.close()
        raise
    return conn


def _check_schema(conn: sqlite3.Connection, version: int, label: str) -> None:
    """Exactly the tables, indexes and triggers our migrations build: no other trigger,
    no view, nothing altered (a hostile file must not run code when the space is later written)."""
    try:
        verify_schema(conn, SPACE_MIGRATIONS[:version])
    except SchemaError as exc:
        raise ArchiveError(f"{label} holds a space file that is not ours ({exc})") from exc
    expected = {n.decode() for n in _reference_schema(tuple(SPACE_MIGRATIONS[:version]))}
    for kind, name in conn.execute("SELECT type, CAST(name AS BLOB) FROM sqlite_master"):
        text = bytes(name).decode("utf-8", "replace")
        if kind in ("table", "index", "trigger") and (
            text in expected or text.startswith("sqlite_")
        ):
            continue
        raise ArchiveError(f"{label} holds a space file that is not ours (extra {kind} {text!r})")


def _table_names(conn: sqlite3.Connection) -> set[str]:
    return {str(r[0]) for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}


def describe_snapshot(path: Path) -> tuple[int, dict[str, int], dict[str, str | None]]:
    """Schema version, row counts and every media file the snapshot's variants point at
    (path → the variant's SHA-256 for an original, None for a preview)."""
    conn = _check_db(path, path.name)
    try:
        return _describe(conn, path.name)
    except DB_FAULTS as exc:
        raise ArchiveError(f"could not read the snapshot ({exc})") from exc
    finally:
        conn.close()


def _describe(
    conn: sqlite3.Connection, label: str
) -> tuple[int, dict[str, int], dict[str, str | None]]:
    version = int(conn.execute("PRAGMA user_version").fetchone()[0])
    names = _table_names(conn)
    counts = {
        t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) if t in names else 0
        for t in COUNTED_TABLES
    }
    files: dict[str, str | None] = {}
    for media, thumb, poster, sha in conn.execute(
        "SELECT media_path, thumb_path, poster_path, sha256 FROM variants"
    ):
        for rel, digest in ((media, sha), (thumb, None), (poster, None)):
            if rel is None:
                continue
            safe = safe_media_path(rel)
            if safe is None:
                raise ArchiveError(
                    f"{label} is refused: a variant points outside the media folder "
                    f"({str(rel)[:80]!r})"
                )
            if files.get(safe) is None:
                files[safe] = digest if isinstance(digest, str) and digest else None
    return version, counts, files


def check_snapshot(path: Path, manifest: Manifest, label: str) -> None:
    """The extracted space file against the manifest: whole, our schema, the same counts,
    the same set of media files, each original's SHA-256 as its variant records it."""
    conn = _check_db(path, label)
    try:
        version, counts, files = _describe(conn, label)
    except DB_FAULTS as exc:
        raise ArchiveError(f"{label} holds a damaged space file ({str(exc)[:160]})") from exc
    finally:
        conn.close()
    if version != manifest.schema_version:
        raise ArchiveError(f"{label} is refused: its manifest does not match its space file")
    for table in COUNTED_TABLES:
        if counts[table] != manifest.counts[table]:
            raise ArchiveError(
                f"{label} is refused: its manifest says {manifest.counts[table]} {table} "
                f"but the space file holds {counts[table]}"
            )
    listed = {f.path: f for f in manifest.files}
    if set(listed) != set(files):
        missing = sorted(set(files) - set(listed))
        extra = sorted(set(listed) - set(files))
        what = f"lacks {missing[0]}" if missing else f"lists {extra[0]}, which no variant uses"
        raise ArchiveError(f"{label} is refused: its manifest {what}")
    for rel, sha in files.items():
        if sha is not None and listed[rel].sha256 != sha:
            raise ArchiveError(
                f"{label} is refused: {rel} does not match the SHA-256 its variant records"
            )


def stamp_identity(path: Path, *, space_id: str, slug: str) -> None:
    """Give an extracted space file its new identity (``meta``: id and slug; an archive
    of a joined space's replica becomes a space of its own)."""
    try:
        conn = sqlite3.connect(file_uri(path, "rw"), uri=True, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            for key, value in (("space_id", space_id), ("slug", slug)):
                # no UPSERT: its conflict policy would override the OR IGNORE of the
                # triggers that file changed rows (studio.store.schema, migration 7)
                if not conn.execute(
                    "UPDATE meta SET value = ? WHERE key = ?", (value, key)
                ).rowcount:
                    conn.execute("INSERT INTO meta(key, value) VALUES (?, ?)", (key, value))
            names = _table_names(conn)
            if SEARCH_TABLE in names:  # derived: made again from the checked rows
                for sql in REBUILD_SEARCH:
                    conn.execute(sql)
            if "sync_state" in names:
                # a new space of its own: not a replica of a host any more, and no peer's
                # mutation ids carry over to it
                conn.execute("DELETE FROM sync_state WHERE key = 'replica_of'")
                conn.execute("DELETE FROM peer_mutations")
            conn.execute("COMMIT")
        finally:
            conn.close()
        _fsync(path)
    except (OSError, *DB_FAULTS) as exc:
        raise ArchiveError(f"could not write the imported space file: {exc}") from exc
