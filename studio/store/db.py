"""Opening SQLite files the one way Forge Studio does it, and migrating them."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from studio.store.schema import Migration

BUSY_TIMEOUT_MS = 5_000


class SchemaError(Exception):
    """The file is not ours, or was written by a newer Forge Studio."""


def connect(path: Path | str) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, NORMAL sync."""
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=False, timeout=BUSY_TIMEOUT_MS / 1000
    )
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    return conn


class Database:
    """One connection, used by one thread at a time (a lock serialises callers).

    Writes go through :meth:`write`, which opens ``BEGIN IMMEDIATE`` so that a second
    process waits on ``busy_timeout`` instead of failing half-way through.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            if self._depth:  # nested: joins the outer transaction
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
            except BaseException:
                self._depth = 0
                self.conn.execute("ROLLBACK")
                raise
            self._depth = 0
            self.conn.execute("COMMIT")

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        with self.lock:
            yield self.conn

    def close(self) -> None:
        with self.lock:
            self.conn.close()


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration],
    application_id: int,
    *,
    target: int | None = None,
    clock_ms: int = 0,
) -> int:
    """Bring ``conn`` up to ``target`` (default: the newest migration). Returns the version."""
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    current = schema_version(conn)
    if app_id not in (0, application_id) or (app_id == 0 and current != 0):
        raise SchemaError("this file is not a Forge Studio file")
    newest = migrations[-1].version if target is None else target
    if current > migrations[-1].version:
        raise SchemaError(
            f"this file was written by a newer Forge Studio (schema {current}, "
            f"this version knows up to {migrations[-1].version})"
        )
    for m in migrations:
        if m.version <= current or m.version > newest:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            if m.version == 1:
                conn.execute(f"PRAGMA application_id = {application_id}")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
                )
            for statement in _statements(m.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                (m.version, m.name, clock_ms),
            )
            conn.execute(f"PRAGMA user_version = {m.version}")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        current = m.version
    return current


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would auto-commit)."""
    out: list[str] = []
    buf = ""
    for part in sql.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        out.append(buf.strip())
    return out
