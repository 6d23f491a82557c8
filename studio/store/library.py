"""``library.db``: the index of spaces, settings and usage events."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple

from studio.store.db import Database, connect, migrate
from studio.store.schema import LIBRARY_APPLICATION_ID, LIBRARY_MIGRATIONS


class SpaceEntry(NamedTuple):
    id: str
    slug: str
    name: str
    file: str
    created_at: int
    last_opened_at: int | None


SPACE_COLUMNS = "id, slug, name, file, created_at, last_opened_at"


class Library:
    def __init__(self, path: Path, *, now_ms: int = 0) -> None:
        conn = connect(path)
        migrate(conn, LIBRARY_MIGRATIONS, LIBRARY_APPLICATION_ID, clock_ms=now_ms)
        self._db = Database(conn)

    def close(self) -> None:
        self._db.close()

    def spaces(self) -> list[SpaceEntry]:
        with self._db.read() as conn:
            return list(
                map(
                    SpaceEntry._make,
                    conn.execute(
                        f"SELECT {SPACE_COLUMNS} FROM spaces "
                        "ORDER BY COALESCE(last_opened_at, created_at) DESC, name"
                    ),
                )
            )

    def find(self, ref: str) -> SpaceEntry | None:
        """By slug first, then by id."""
        with self._db.read() as conn:
            for col in ("slug", "id"):
                row = conn.execute(
                    f"SELECT {SPACE_COLUMNS} FROM spaces WHERE {col} = ?", (ref,)
                ).fetchone()
                if row is not None:
                    return SpaceEntry._make(row)
        return None

    def slug_taken(self, slug: str) -> bool:
        with self._db.read() as conn:
            return (
                conn.execute("SELECT 1 FROM spaces WHERE slug = ?", (slug,)).fetchone() is not None
            )

    def add(self, entry: SpaceEntry) -> None:
        with self._db.write() as conn:
            conn.execute(f"INSERT INTO spaces ({SPACE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", entry)

    def rename(self, space_id: str, name: str) -> None:
        with self._db.write() as conn:
            conn.execute("UPDATE spaces SET name = ? WHERE id = ?", (name, space_id))

    def touch(self, space_id: str, now_ms: int) -> None:
        with self._db.write() as conn:
            conn.execute("UPDATE spaces SET last_opened_at = ? WHERE id = ?", (now_ms, space_id))

    def remove(self, space_id: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM spaces WHERE id = ?", (space_id,))

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self._db.read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    @property
    def connection(self) -> sqlite3.Connection:
        """For the usage ledger (next issue) and tests."""
        return self._db.conn
