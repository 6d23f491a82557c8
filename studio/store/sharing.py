"""``sharing.db``: what sharing keeps in the data folder, apart from the spaces.

Host side: the host's id, where ``studio serve`` listens, invites (one-time tokens, as
hashes) and devices (per-device credentials, as hashes; role; revoked). Peer side: the
remote spaces this studio joined (the host's address, its pinned certificate, this
device's credential — a secret the peer must keep, so the file is the owner's only).

A file of its own rather than library tables: ``studio serve`` and ``studio invite`` /
``revoke`` run in separate processes and share it through SQLite (WAL), and it keeps
its own migrations without touching the library's.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, NamedTuple

from studio.core.errors import ConflictError, NotFoundError, StorageError
from studio.store.db import DB_FAULTS, Database, SchemaError, connect, migrate
from studio.store.schema import Migration

SHARING_APPLICATION_ID = 0x46535348  # "FSSH"

SHARING_MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "host identity, invites, devices and joined remote spaces",
        """
        CREATE TABLE settings (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        CREATE TABLE invites (
            token_hash TEXT PRIMARY KEY,
            space_id TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
            created_at INTEGER NOT NULL,
            expires_at INTEGER NOT NULL,
            used_at INTEGER,
            device_id TEXT
        );
        CREATE TABLE devices (
            id TEXT PRIMARY KEY,
            space_id TEXT NOT NULL,
            name TEXT NOT NULL,
            role TEXT NOT NULL CHECK (role IN ('editor', 'viewer')),
            credential_hash TEXT NOT NULL UNIQUE,
            created_at INTEGER NOT NULL,
            last_seen_at INTEGER,
            revoked_at INTEGER
        );
        CREATE INDEX devices_by_space ON devices(space_id);
        CREATE TABLE remotes (
            slug TEXT PRIMARY KEY,
            space_id TEXT NOT NULL,
            host_id TEXT NOT NULL,
            host TEXT NOT NULL,
            port INTEGER NOT NULL,
            cert_der BLOB NOT NULL,
            device_id TEXT NOT NULL,
            credential TEXT NOT NULL,
            role TEXT NOT NULL,
            created_at INTEGER NOT NULL
        );
        """,
    ),
    Migration(
        2,
        "the outbox: commands of joined spaces waiting for their host",
        """
        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            slug TEXT NOT NULL,
            mutation_id TEXT NOT NULL UNIQUE,
            commands TEXT NOT NULL,
            queued_at INTEGER NOT NULL
        );
        CREATE INDEX outbox_by_slug ON outbox(slug, id);
        """,
    ),
    Migration(
        3,
        "how many connections each device has open now",
        """
        ALTER TABLE devices ADD COLUMN connections INTEGER NOT NULL DEFAULT 0;
        """,
    ),
)

ONLINE_WITHIN_MS = 30_000
"""A device counts as online while a host saw it connected this recently (a host that
died cannot say it left; it refreshes ``last_seen_at`` every 10 s while connected)."""


def secret_hash(secret: str) -> str:
    """Tokens and credentials are 256 random bits: a plain SHA-256 is enough to keep
    them out of the file (nothing to brute-force), and lets the host look them up."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


class Device(NamedTuple):
    id: str
    space_id: str
    name: str
    role: str
    created_at: int
    last_seen_at: int | None
    revoked_at: int | None
    connections: int = 0

    def online(self, now: int) -> bool:
        return (
            self.revoked_at is None
            and self.connections > 0
            and self.last_seen_at is not None
            and now - self.last_seen_at < ONLINE_WITHIN_MS
        )


DEVICE_COLUMNS = "id, space_id, name, role, created_at, last_seen_at, revoked_at, connections"


class Remote(NamedTuple):
    slug: str
    space_id: str
    host_id: str
    host: str
    port: int
    cert_der: bytes
    device_id: str
    credential: str
    role: str
    created_at: int


REMOTE_COLUMNS = (
    "slug, space_id, host_id, host, port, cert_der, device_id, credential, role, created_at"
)


class InviteRefused(Exception):
    """Why an invite token was not accepted (said to the host's log, never the peer)."""


class SharingStore:
    """Every method raises :class:`StorageError` for a storage fault."""

    def __init__(self, path: Path) -> None:
        self.path = path
        conn: sqlite3.Connection | None = None
        try:
            new = not path.exists()
            conn = connect(path)
            if new:
                os.chmod(path, 0o600)  # it holds this device's credentials
            migrate(conn, SHARING_MIGRATIONS, SHARING_APPLICATION_ID)
        except (SchemaError, *DB_FAULTS, OSError) as exc:
            if conn is not None:
                conn.close()
            raise StorageError(f"could not open the sharing file {path}: {exc}") from exc
        self._db = Database(conn, path)

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SharingStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db.write() as conn:
                yield conn
        except sqlite3.IntegrityError as exc:
            raise ConflictError(f"sharing already holds that: {exc}") from exc
        except DB_FAULTS as exc:
            raise StorageError(f"could not write the sharing file: {exc}") from exc

    @contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        try:
            with self._db.read() as conn:
                yield conn
        except DB_FAULTS as exc:
            raise StorageError(f"could not read the sharing file: {exc}") from exc

    # ------------------------------------------------------------------ settings
    def setting(self, key: str) -> str | None:
        with self._read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_setting(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(
                "INSERT INTO settings(key, value) VALUES (?, ?) "
                "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                (key, value),
            )

    def host_id(self) -> str:
        """This studio's id as a host (made on first use; no secret)."""
        with self._write() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = 'host_id'").fetchone()
            if row is not None:
                return str(row[0])
            value = "h" + secrets.token_hex(8)
            conn.execute("INSERT INTO settings(key, value) VALUES ('host_id', ?)", (value,))
            return value

    # ------------------------------------------------------------------ invites
    def add_invite(self, space_id: str, role: str, now: int, expires_at: int) -> str:
        """A new one-time token (returned once; only its hash is kept)."""
        token = new_secret()
        with self._write() as conn:
            conn.execute(
                "INSERT INTO invites (token_hash, space_id, role, created_at, expires_at) "
                "VALUES (?, ?, ?, ?, ?)",
                (secret_hash(token), space_id, role, now, expires_at),
            )
        return token

    def redeem(self, token: str, space_id: str, name: str, now: int) -> tuple[Device, str]:
        """Exchange an invite token for a new device and its credential, once: the token
        is marked used in the same transaction. Raises :class:`InviteRefused`."""
        credential = new_secret()
        device_id = "d" + secrets.token_hex(8)
        with self._write() as conn:
            row = conn.execute(
                "SELECT space_id, role, expires_at, used_at FROM invites WHERE token_hash = ?",
                (secret_hash(token),),
            ).fetchone()
            if row is None:
                raise InviteRefused("unknown invite token")
            if row[0] != space_id:
                raise InviteRefused("the invite is for another space")
            if row[3] is not None:
                raise InviteRefused("the invite was already used")
            if now >= row[2]:
                raise InviteRefused("the invite expired")
            conn.execute(
                "UPDATE invites SET used_at = ?, device_id = ? WHERE token_hash = ?",
                (now, device_id, secret_hash(token)),
            )
            conn.execute(
                "INSERT INTO devices (id, space_id, name, role, credential_hash, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (device_id, space_id, name, row[1], secret_hash(credential), now),
            )
        return Device(device_id, space_id, name, str(row[1]), now, None, None, 0), credential

    # ------------------------------------------------------------------ devices
    def device_for(self, credential: str, space_id: str) -> Device | None:
        """The live (not revoked) device of this space holding ``credential``."""
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {DEVICE_COLUMNS} FROM devices "
                "WHERE credential_hash = ? AND space_id = ? AND revoked_at IS NULL",
                (secret_hash(credential), space_id),
            ).fetchone()
        return None if row is None else Device._make(row)

    def devices(self, space_id: str) -> list[Device]:
        with self._read() as conn:
            return [
                Device._make(r)
                for r in conn.execute(
                    f"SELECT {DEVICE_COLUMNS} FROM devices WHERE space_id = ? "
                    "ORDER BY created_at, id",
                    (space_id,),
                )
            ]

    def revoked(self, device_ids: list[str]) -> set[str]:
        """Which of ``device_ids`` are revoked now."""
        if not device_ids:
            return set()
        marks = ", ".join("?" * len(device_ids))
        with self._read() as conn:
            return {
                str(r[0])
                for r in conn.execute(
                    f"SELECT id FROM devices WHERE revoked_at IS NOT NULL AND id IN ({marks})",
                    device_ids,
                )
            }

    def seen(self, device_ids: list[str], now: int, *, connections: int = 0) -> None:
        """Devices a host sees connected now (``connections``: +1 one more, -1 one
        fewer, 0 still there)."""
        with self._write() as conn:
            conn.executemany(
                "UPDATE devices SET last_seen_at = ?, "
                "connections = MAX(0, connections + ?) WHERE id = ?",
                [(now, connections, d) for d in device_ids],
            )

    def revoke(self, space_id: str, ref: str, now: int) -> Device:
        """Revoke a device by id or name (a name must be unambiguous)."""
        with self._write() as conn:
            rows = conn.execute(
                f"SELECT {DEVICE_COLUMNS} FROM devices WHERE space_id = ? AND (id = ? OR name = ?)",
                (space_id, ref, ref),
            ).fetchall()
            if not rows:
                raise NotFoundError(
                    f"there is no device {ref!r} in this space (see `studio peers`)"
                )
            if len(rows) > 1:
                raise ConflictError(f"several devices are called {ref!r}: give the device id")
            device = Device._make(rows[0])
            conn.execute(
                "UPDATE devices SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?",
                (now, device.id),
            )
        return device._replace(revoked_at=device.revoked_at or now)

    # ------------------------------------------------------------------ remotes (peer)
    def add_remote(self, remote: Remote) -> None:
        with self._write() as conn:
            conn.execute(
                f"INSERT INTO remotes ({REMOTE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                remote,
            )

    def remote(self, slug: str) -> Remote | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {REMOTE_COLUMNS} FROM remotes WHERE slug = ?", (slug,)
            ).fetchone()
        return None if row is None else Remote._make(row)

    def remote_of_space(self, space_id: str) -> Remote | None:
        with self._read() as conn:
            row = conn.execute(
                f"SELECT {REMOTE_COLUMNS} FROM remotes WHERE space_id = ?", (space_id,)
            ).fetchone()
        return None if row is None else Remote._make(row)

    def remove_remote(self, slug: str) -> int:
        """Forget a joined space (its credential and unsent steps); how many steps were
        still waiting."""
        with self._write() as conn:
            waiting = conn.execute("DELETE FROM outbox WHERE slug = ?", (slug,)).rowcount
            conn.execute("DELETE FROM remotes WHERE slug = ?", (slug,))
        return int(waiting)

    # ------------------------------------------------------------------ outbox (peer)
    def queue(self, slug: str, mutation_id: str, commands: list[Any], now: int) -> None:
        """Keep a step for the host of ``slug`` until it answered (sent in order)."""
        with self._write() as conn:
            conn.execute(
                "INSERT INTO outbox (slug, mutation_id, commands, queued_at) VALUES (?, ?, ?, ?)",
                (slug, mutation_id, json.dumps(commands, ensure_ascii=False), now),
            )

    def outbox(self, slug: str) -> list[tuple[str, list[Any], int]]:
        """(mutation id, commands, queued at) waiting for the host of ``slug``, oldest first."""
        with self._read() as conn:
            rows = conn.execute(
                "SELECT mutation_id, commands, queued_at FROM outbox WHERE slug = ? ORDER BY id",
                (slug,),
            ).fetchall()
        return [(str(m), json.loads(c), int(t)) for m, c, t in rows]

    def answered(self, mutation_id: str) -> None:
        with self._write() as conn:
            conn.execute("DELETE FROM outbox WHERE mutation_id = ?", (mutation_id,))
