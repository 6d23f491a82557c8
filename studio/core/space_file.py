"""A space's SQLite file on disk: creating it whole, and opening only a file that is
whole and ours. Every refusal is one clear :class:`StorageError` and leaves the file as it
was (see ``tests/store/test_space_files.py``)."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from pathlib import Path

from studio.core.errors import StorageError
from studio.store.db import (
    Database,
    SchemaError,
    check_version,
    connect,
    connect_existing,
    file_uri,
    migrate,
    use_wal,
    verify_schema,
)
from studio.store.schema import SPACE_APPLICATION_ID, SPACE_MIGRATIONS

log = logging.getLogger(__name__)


def open_space_file(
    path: Path, media_dir: Path, *, space_id: str, slug: str, clock_ms: int
) -> Database:
    """Open the existing space file ``path`` of the space ``space_id`` (migrating an older
    schema), or refuse it. On a full or read-only disk a whole file may open read-only."""
    check_media_dir(media_dir)
    conn: sqlite3.Connection | None = None
    read_only: str | None = None
    try:
        conn = connect_existing(path, SPACE_APPLICATION_ID)
        version = check_version(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID)
        if version == 0:
            raise SchemaError("it was never set up as a space")
        verify_schema(conn, SPACE_MIGRATIONS[:version])
        stored = _meta_space_id(conn)
        if stored != space_id:
            raise SchemaError("it belongs to another space")
        use_wal(conn)
        migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID, clock_ms=clock_ms)
    except _FILE_FAULTS as exc:
        if conn is not None:
            conn.close()
        conn = _read_only_fallback(path, space_id, exc)
        if conn is None:
            raise StorageError(
                f"could not open the space file {path.name}: {_reason(exc)}"
            ) from exc
        read_only = f"the space {slug} can only be read for now: {_reason(exc)}"
        log.warning("%s", read_only)
    try:
        media_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        conn.close()
        raise StorageError(f"could not open the media folder {media_dir}: {exc}") from exc
    db = Database(conn, path)
    db.read_only_reason = read_only
    db.writes_refused = _replica_refusal(conn, slug)
    return db


def _replica_refusal(conn: sqlite3.Connection, slug: str) -> str | None:
    """Why a replica of a shared space refuses writes through the door (None: not one)."""
    try:
        row = conn.execute("SELECT value FROM sync_state WHERE key = 'replica_of'").fetchone()
    except sqlite3.Error:  # an older read-only file has no such table: not a replica
        return None
    if row is None:
        return None
    return (
        f"{slug} is a copy of a space shared by {row[0]}: changes go to that host "
        f"(`studio apply {slug} …` sends them there)"
    )


_FILE_FAULTS = (SchemaError, OSError, sqlite3.Error, UnicodeDecodeError)
"""What a missing, foreign, damaged, busy or full file can raise while we open it."""


def init_space_file(
    path: Path, *, space_id: str, slug: str, clock_ms: int, label: str | None = None
) -> None:
    """Write a new, fully set-up space file at ``path``, which must not exist. The file
    is complete on disk (checkpointed, fsynced) when this returns; on failure nothing is
    left at ``path``. ``label`` names the file in messages (default: its name)."""
    label = label or f"the space file {path.name}"
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    except FileExistsError:
        raise StorageError(f"{label} already exists") from None
    except OSError as exc:
        raise StorageError(f"could not create {label}: {_reason(exc)}") from exc
    os.close(fd)
    conn: sqlite3.Connection | None = None
    try:
        conn = connect(path, mode="rw")
        migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID, clock_ms=clock_ms)
        with Database(conn).write() as tx:
            tx.executemany(
                "INSERT INTO meta(key, value) VALUES (?, ?)",
                [("space_id", space_id), ("slug", slug)],
            )
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.close()
        conn = None
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    except _FILE_FAULTS as exc:
        if conn is not None:
            conn.close()
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise StorageError(f"could not create {label}: {_reason(exc)}") from exc


def _read_only_fallback(path: Path, space_id: str, exc: BaseException) -> sqlite3.Connection | None:
    """When a full, failing or read-only disk stops SQLite from making its WAL index, a
    whole space file whose log is empty can still be read (as an immutable file), so
    listing, showing and checking keep working. None where that would not be exact."""
    text = str(exc)
    disk = getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG, errno.EROFS)
    if not (disk or "disk I/O error" in text or "disk is full" in text or "readonly" in text):
        return None
    try:
        if os.path.getsize(f"{path}-wal") > 0:
            return None  # committed changes live only in the log
    except FileNotFoundError:
        pass
    except OSError:
        return None
    conn: sqlite3.Connection | None = None
    try:
        conn = sqlite3.connect(
            file_uri(path, "ro") + "&immutable=1",
            uri=True,
            isolation_level=None,
            check_same_thread=False,
        )
        version = check_version(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID)
        if version != SPACE_MIGRATIONS[-1].version:
            raise SchemaError("needs an upgrade")
        verify_schema(conn, SPACE_MIGRATIONS)
        if _meta_space_id(conn) != space_id:
            raise SchemaError("it belongs to another space")
    except _FILE_FAULTS:
        if conn is not None:
            conn.close()
        return None
    return conn


def check_media_dir(media_dir: Path) -> None:
    if media_dir.exists() and not media_dir.is_dir():
        raise StorageError(
            f"{media_dir} should be the space's media folder but is a file; "
            "move it away and try again"
        )


def _meta_space_id(conn: sqlite3.Connection) -> str | None:
    row = conn.execute("SELECT value FROM meta WHERE key = 'space_id'").fetchone()
    return None if row is None else str(row[0])


def _reason(exc: BaseException) -> str:
    """One readable line for a low-level fault (SQLite's message can be garbled bytes)."""
    if isinstance(exc, UnicodeDecodeError):
        return "the file is damaged (its schema is not readable)"
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if "disk is full" in text or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG):
        return "the disk is full"
    if "disk I/O error" in text:
        return "the disk refused a read or write (disk I/O error: is it full or failing?)"
    if isinstance(exc, sqlite3.DatabaseError) and "malformed" in text:
        return f"the file is damaged ({text})"
    if isinstance(exc, sqlite3.OperationalError) and ("locked" in text or "busy" in text):
        return "the space is busy (another Forge Studio is writing it); try again in a moment"
    return text
