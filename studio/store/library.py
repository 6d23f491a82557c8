"""``library.db``: the index of spaces, settings and usage events."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import NamedTuple

from studio.store.db import Database, connect, migrate
from studio.store.records import UsageEvent
from studio.store.schema import LIBRARY_APPLICATION_ID, LIBRARY_MIGRATIONS


class SpaceEntry(NamedTuple):
    id: str
    slug: str
    name: str
    file: str
    created_at: int
    last_opened_at: int | None


SPACE_COLUMNS = "id, slug, name, file, created_at, last_opened_at"


class UsageTotal(NamedTuple):
    provider: str
    model: str
    unit: str
    jobs: int
    units: float
    cost_usd: float


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

    def settings(self) -> list[tuple[str, str]]:
        with self._db.read() as conn:
            return [
                (str(k), str(v))
                for k, v in conn.execute("SELECT key, value FROM settings ORDER BY key")
            ]

    def delete_setting(self, key: str) -> None:
        with self._db.write() as conn:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))

    def forget_space(self, space_id: str) -> None:
        """Drop per-space settings (``….<space_id>``: view state, tray options…)."""
        with self._db.write() as conn:
            conn.execute("DELETE FROM settings WHERE key LIKE ?", (f"%.{space_id}",))

    def set_setting(self, key: str, value: str) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def record_usage(self, event: UsageEvent) -> None:
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO usage_events (at, space_id, job_id, provider, model, operation, "
                "units, unit, cost_usd) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    event.at,
                    event.space_id,
                    event.job_id,
                    event.provider,
                    event.model,
                    event.operation,
                    event.units,
                    event.unit,
                    event.cost_usd,
                ),
            )

    def usage_totals(self, space_id: str | None = None) -> list[UsageTotal]:
        """Totals per provider, model and unit (of one space, or all)."""
        where, args = ("WHERE space_id = ?", (space_id,)) if space_id else ("", ())
        with self._db.read() as conn:
            return list(
                map(
                    UsageTotal._make,
                    conn.execute(
                        "SELECT provider, model, unit, COUNT(*), SUM(units), SUM(cost_usd) "
                        f"FROM usage_events {where} GROUP BY provider, model, unit "
                        "ORDER BY provider, model",
                        args,
                    ),
                )
            )

    @property
    def connection(self) -> sqlite3.Connection:
        """For tests."""
        return self._db.conn
