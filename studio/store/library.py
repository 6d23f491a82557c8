"""``library.db``: the index of spaces, settings and usage events."""

from __future__ import annotations

import errno
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import NamedTuple

from studio.core.errors import ConflictError, StorageError
from studio.store.db import (
    DB_FAULTS,
    Database,
    SchemaError,
    connect,
    file_uri,
    migrate,
    verify_schema,
)
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


class ListItem(NamedTuple):
    """One entry of a provider's live list (a model id, or a voice id and its name)."""

    item_id: str
    label: str = ""
    detail: str = ""


class ProviderList(NamedTuple):
    """A provider's list of ``kind`` ('model' or 'voice') as last fetched."""

    provider: str
    kind: str
    fetched_at: int
    items: tuple[ListItem, ...]


class UsageTotal(NamedTuple):
    provider: str
    model: str
    unit: str
    jobs: int
    units: float
    cost_usd: float


BUSY_MESSAGE = (
    "the library is busy (another Forge Studio is writing to library.db); try again in a moment"
)


def library_fault(exc: BaseException, path: Path) -> StorageError:
    """One clear sentence for a fault while using ``library.db``."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if isinstance(exc, UnicodeDecodeError) or "malformed" in text:
        return StorageError(f"the library file {path} is damaged")
    if "locked" in text or "busy" in text:
        return StorageError(BUSY_MESSAGE)
    if "disk is full" in text or getattr(exc, "errno", None) in (errno.ENOSPC, errno.EFBIG):
        return StorageError(f"the disk is full: could not write {path}")
    if "disk I/O error" in text:
        return StorageError(
            f"could not read or write {path} (disk I/O error: is the disk full or failing?)"
        )
    if "readonly" in text or "read-only" in text:
        return StorageError(f"{path} is read-only: could not write it")
    return StorageError(f"could not use the library {path}: {text}")


def _read_only_fallback(path: Path, exc: BaseException) -> sqlite3.Connection | None:
    """When a full or failing disk stops SQLite from making its WAL index, a library whose
    log is empty (checkpointed at the last close) can still be read as an immutable file,
    so listing and reading keep working. None where that would not be exact."""
    text = str(exc)
    if not ("disk I/O error" in text or "disk is full" in text or "readonly" in text):
        return None
    try:
        if os.path.getsize(f"{path}-wal") > 0:
            return None
    except FileNotFoundError:
        pass
    except OSError:
        return None
    try:
        conn = sqlite3.connect(
            file_uri(path, "ro") + "&immutable=1", uri=True, check_same_thread=False
        )
        conn.isolation_level = None
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    except DB_FAULTS:
        return None
    if app_id != LIBRARY_APPLICATION_ID or version != LIBRARY_MIGRATIONS[-1].version:
        conn.close()
        return None
    return conn


class Library:
    """Every method raises :class:`StorageError` (one sentence) for a storage fault:
    a busy, full, read-only or damaged ``library.db``."""

    read_only_reason: str | None = None
    """Why the library could only be opened for reading (a full or failing disk)."""

    def __init__(self, path: Path, *, now_ms: int = 0) -> None:
        self.path = path
        conn: sqlite3.Connection | None = None
        try:
            conn = connect(path)
            version = int(conn.execute("PRAGMA user_version").fetchone()[0])
            if version:
                verify_schema(conn, LIBRARY_MIGRATIONS[:version])
            migrate(conn, LIBRARY_MIGRATIONS, LIBRARY_APPLICATION_ID, clock_ms=now_ms)
        except SchemaError as exc:
            if conn is not None:
                conn.close()
            raise StorageError(f"could not open the library {path}: {exc}") from exc
        except DB_FAULTS as exc:
            if conn is not None:
                conn.close()
            fault = library_fault(exc, path)
            conn = _read_only_fallback(path, exc)
            if conn is None:
                raise fault from exc
            self.read_only_reason = fault.message
        self._db = Database(conn)

    def close(self) -> None:
        self._db.close()

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db.read() as conn:
                yield conn
        except DB_FAULTS as exc:
            raise library_fault(exc, self.path) from exc

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only_reason is not None:
            raise StorageError(self.read_only_reason)
        try:
            with self._db.write() as conn:
                yield conn
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"the library already holds that: {exc}") from exc
        except DB_FAULTS as exc:
            raise library_fault(exc, self.path) from exc

    def spaces(self) -> list[SpaceEntry]:
        with self._read() as conn:
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
        with self._read() as conn:
            for col in ("slug", "id"):
                row = conn.execute(
                    f"SELECT {SPACE_COLUMNS} FROM spaces WHERE {col} = ?", (ref,)
                ).fetchone()
                if row is not None:
                    return SpaceEntry._make(row)
        return None

    def slug_taken(self, slug: str) -> bool:
        with self._read() as conn:
            return (
                conn.execute("SELECT 1 FROM spaces WHERE slug = ?", (slug,)).fetchone() is not None
            )

    def add(self, entry: SpaceEntry) -> None:
        with self._write() as conn:
            conn.execute(f"INSERT INTO spaces ({SPACE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)", entry)

    def rename(self, space_id: str, name: str) -> None:
        with self._write() as conn:
            conn.execute("UPDATE spaces SET name = ? WHERE id = ?", (name, space_id))

    def touch(self, space_id: str, now_ms: int) -> None:
        with self._write() as conn:
            conn.execute("UPDATE spaces SET last_opened_at = ? WHERE id = ?", (now_ms, space_id))

    def remove(self, space_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM spaces WHERE id = ?", (space_id,))

    def setting(self, key: str, default: str | None = None) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return default if row is None else str(row[0])

    def settings(self) -> list[tuple[str, str]]:
        with self._read() as conn:
            return [
                (str(k), str(v))
                for k, v in conn.execute("SELECT key, value FROM settings ORDER BY key")
            ]

    def delete_setting(self, key: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM settings WHERE key = ?", (key,))

    def forget_space(self, space_id: str) -> None:
        """Drop per-space settings (``….<space_id>``: view state, tray options…)."""
        with self._write() as conn:
            conn.execute("DELETE FROM settings WHERE key LIKE ?", (f"%.{space_id}",))

    def set_setting(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def provider_list(self, provider: str, kind: str) -> ProviderList | None:
        """The provider's cached list of ``kind``, or None when it was never fetched."""
        with self._read() as conn:
            row = conn.execute(
                "SELECT fetched_at FROM provider_lists WHERE provider = ? AND kind = ?",
                (provider, kind),
            ).fetchone()
            if row is None:
                return None
            items = tuple(
                ListItem(str(i), str(label), str(detail))
                for i, label, detail in conn.execute(
                    "SELECT item_id, label, detail FROM provider_list_items "
                    "WHERE provider = ? AND kind = ? ORDER BY item_id",
                    (provider, kind),
                )
            )
        return ProviderList(provider, kind, int(row[0]), items)

    def store_provider_list(self, entry: ProviderList) -> None:
        """Replace the provider's cached list of ``entry.kind`` (one transaction)."""
        with self._write() as conn:
            conn.execute(
                "DELETE FROM provider_list_items WHERE provider = ? AND kind = ?",
                (entry.provider, entry.kind),
            )
            conn.execute(
                "INSERT INTO provider_lists(provider, kind, fetched_at) VALUES (?, ?, ?) "
                "ON CONFLICT(provider, kind) DO UPDATE SET fetched_at = excluded.fetched_at",
                (entry.provider, entry.kind, entry.fetched_at),
            )
            conn.executemany(
                "INSERT OR REPLACE INTO provider_list_items"
                "(provider, kind, item_id, label, detail) VALUES (?, ?, ?, ?, ?)",
                [(entry.provider, entry.kind, *item) for item in entry.items],
            )

    def record_usage(self, event: UsageEvent) -> None:
        with self._write() as conn:
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
        with self._read() as conn:
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
