"""Replication of a space, state-based per step (see docs/sharing.md).

Host side, :class:`StepSource` reads committed steps from a space file on a read-only
connection of its own: each step's change-log rows plus the *current* image of every
row the step touched (``change_rows``, filled by the triggers of space migration 7), or
"gone". Replaying commands on a replica would diverge (ids, clocks, jobs); copying row
images converges, and applying the same steps twice changes nothing.

Host side: :mod:`studio.core.replica_host`. Peer side, :class:`ReplicaWriter` is the one writer of a replica file that is not the
door: a replica mirrors the host, it never decides anything itself, so it has no
commands to run. Every :class:`~studio.core.space.Space` opened on a replica refuses
writes (``sync_state.replica_of``); the writer applies each step in one transaction on
its own connection, so readers (``studio assets``, ``log --follow``) see whole steps.

:func:`apply_once` is the host applying a peer's commands through the door exactly
once per (client id, mutation id), recorded in the step's own transaction.
"""

from __future__ import annotations

import operator
import os
import sqlite3
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.errors import StorageError, ValidationError
from studio.core.replica_wal import BackgroundCheckpoints
from studio.store.db import connect
from studio.store.schema import REPLICATED_TABLES, SPACE_APPLICATION_ID, SPACE_MIGRATIONS

PRIMARY_KEYS: dict[str, str] = dict(REPLICATED_TABLES)

CHANGE_COLUMNS = (
    "seq",
    "at",
    "actor_id",
    "actor_name",
    "actor_role",
    "command",
    "payload",
    "events",
    "step_id",
)

CATCHUP_CAP = 50_000
"""A replica further behind than this many changes gets a snapshot instead of steps."""

MAX_STEP_ROWS = 200_000
"""The most row images one step may carry (a bound for what a peer accepts)."""

Scalar = str | int | float | None


@dataclass(frozen=True, slots=True)
class RowImage:
    """A row of a replicated table as it is now on the host (``values`` None: gone)."""

    seq: int
    table: str
    pk: str
    values: dict[str, Scalar] | None


@dataclass(frozen=True, slots=True)
class StepImage:
    """One committed step: its change-log rows (every column) and its row images."""

    changes: tuple[dict[str, Scalar], ...]
    rows: tuple[RowImage, ...]
    filed: tuple[tuple[int, str, str], ...] = ()
    """Every (seq, table, key) the step's changes touched (``change_rows``); a row
    touched again by a later step of the same read has its image carried there."""

    @property
    def first_seq(self) -> int:
        return int(self.changes[0]["seq"] or 0)

    @property
    def last_seq(self) -> int:
        return int(self.changes[-1]["seq"] or 0)

    def to_json(self) -> dict[str, Any]:
        return {
            "changes": [[c[k] for k in CHANGE_COLUMNS] for c in self.changes],
            "rows": [[r.seq, r.table, r.pk, r.values] for r in self.rows],
            "filed": [list(f) for f in self.filed],
        }

    @classmethod
    def from_json(cls, data: Any) -> StepImage:
        """Decode and check a step received from a host; raise ValidationError on any
        fault (it names no table or column this version does not know)."""
        if not isinstance(data, Mapping):
            raise ValidationError("a step must be an object")
        raw_changes, raw_rows = data.get("changes"), data.get("rows")
        if not isinstance(raw_changes, list) or not raw_changes or not isinstance(raw_rows, list):
            raise ValidationError("a step needs its changes and rows")
        if len(raw_rows) > MAX_STEP_ROWS:
            raise ValidationError("a step carries too many rows")
        changes: list[dict[str, Scalar]] = []
        width = len(CHANGE_COLUMNS)
        previous = 0
        for item in raw_changes:
            if type(item) is not list or len(item) != width:
                raise ValidationError("a change-log row has the wrong shape")
            for value in item:
                if type(value) not in _SCALAR_TYPES:
                    raise ValidationError(_NOT_SCALAR)
            seq = item[0]
            if type(seq) is not int or seq < 1:
                raise ValidationError("a change-log row needs a positive seq")
            if seq <= previous:
                raise ValidationError("a step's changes are not in seq order")
            previous = seq
            changes.append(dict(zip(CHANGE_COLUMNS, item, strict=True)))
        rows: list[RowImage] = []
        for item in raw_rows:
            if type(item) is not list or len(item) != 4:
                raise ValidationError("a row image has the wrong shape")
            seq, table, pk, values = item
            key = PRIMARY_KEYS.get(table) if type(table) is str else None
            if type(seq) is not int or type(pk) is not str or key is None:
                raise ValidationError("a row image names an unknown table")
            if values is not None:
                if type(values) is not dict or values.get(key) != pk:
                    raise ValidationError("a row image does not match its key")
                for col, value in values.items():
                    if type(col) is not str:
                        raise ValidationError("a row image has a bad column name")
                    if type(value) not in _SCALAR_TYPES:
                        raise ValidationError(_NOT_SCALAR)
            rows.append(RowImage(seq, table, pk, values))
        raw_filed = data.get("filed", [])
        if not isinstance(raw_filed, list) or len(raw_filed) > MAX_STEP_ROWS:
            raise ValidationError("a step's filed rows are not a list")
        filed: list[tuple[int, str, str]] = []
        for item in raw_filed:
            if (
                type(item) is not list
                or len(item) != 3
                or type(item[0]) is not int
                or type(item[1]) is not str
                or item[1] not in PRIMARY_KEYS
                or type(item[2]) is not str
            ):
                raise ValidationError("a step's filed row has the wrong shape")
            filed.append((item[0], item[1], item[2]))
        return cls(tuple(changes), tuple(rows), tuple(filed))


_SCALAR_TYPES = frozenset({str, int, float, type(None)})
"""Exactly these (not bool, not a subclass): what a SQLite column gives back."""
_NOT_SCALAR = "a value in a step is not a number, a text or null"


def mark_of(conn: sqlite3.Connection, seq: int) -> str | None:
    row = conn.execute("SELECT at, step_id FROM changes WHERE seq = ?", (seq,)).fetchone()
    return None if row is None else f"{row[0]}/{row[1]}"


# ---------------------------------------------------------------------------- peer side


class ReplicaOutdated(StorageError):
    """A replica file of an older schema: caught up by a new snapshot, not step by step."""


class ReplicaWriter:
    """The one writer of a replica file (see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self._conn = connect(path, mode="rw")
            version = int(self._conn.execute("PRAGMA user_version").fetchone()[0])
            app = int(self._conn.execute("PRAGMA application_id").fetchone()[0])
        except sqlite3.Error as exc:
            raise StorageError(f"could not open the replica {path.name}: {exc}") from exc
        if app == SPACE_APPLICATION_ID and 0 < version < SPACE_MIGRATIONS[-1].version:
            self._conn.close()  # made by an older version: a fresh snapshot replaces it
            raise ReplicaOutdated(f"the replica {path.name} was made by an older version")
        if app != SPACE_APPLICATION_ID or version != SPACE_MIGRATIONS[-1].version:
            self._conn.close()
            raise StorageError(f"the replica {path.name} is not a space file of this version")
        self._columns: dict[str, frozenset[str]] = {
            table: frozenset(r[1] for r in self._conn.execute(f"PRAGMA table_info({table})"))
            for table in PRIMARY_KEYS
        }
        self._deletes = {t: f"DELETE FROM {t} WHERE {k} = ?" for t, k in PRIMARY_KEYS.items()}
        self._rank = _depths(self._conn)
        self._inserts: dict[tuple[str, tuple[str, ...]], str] = {}
        # WAL with synchronous = NORMAL (store.db.connect): a commit writes the log and
        # syncs nothing; checkpoints (the syncs) run on a thread of their own
        self._conn.execute("PRAGMA wal_autocheckpoint = 0")
        self.checkpoints = BackgroundCheckpoints(path)

    def close(self) -> None:
        self.checkpoints.close()
        self._conn.close()

    def __enter__(self) -> ReplicaWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def last_seq(self) -> int:
        return int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def last_mark(self) -> str | None:
        return mark_of(self._conn, self.last_seq())

    def state(self, key: str) -> str | None:
        row = self._conn.execute("SELECT value FROM sync_state WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def apply(self, step: StepImage) -> bool:
        """:meth:`apply_batch` of one step."""
        return self.apply_batch([step]) > 0

    def apply_batch(self, steps: Sequence[StepImage]) -> int:
        """Apply the steps of one read (:meth:`StepSource.steps_after`) in one
        transaction, so readers only ever see the host's state as of a read; returns how
        many were new (a step this replica already has changes nothing). Steps that do
        not fit (part of a step already here, rows that break the schema) raise
        StorageError and leave the replica as it was: resync.

        Foreign keys are checked either way. A small read (a live step) is first
        written parents first with the checks immediate; only when that trips one (a row
        pointing at a row a later step of the read carries) is it written again with the
        checks deferred to the commit, as a big read (a catch-up) is at once. Deferring
        costs more than it seems: ``PRAGMA defer_foreign_keys`` (needed again in every
        transaction) expires every prepared statement of the connection, so each
        statement, triggers and all, would be compiled afresh every time."""
        rows = sum(len(s.rows) for s in steps)
        new = -1
        if len(steps) <= SMALL_READ_STEPS and rows <= SMALL_READ_ROWS:
            try:
                new = self._apply(steps, defer=False)
            except _Deferral:
                pass
        if new < 0:
            new = self._apply(steps, defer=True)
        if new:
            self.checkpoints.wrote(4 * new + rows)
        return new

    def _apply(self, steps: Sequence[StepImage], *, defer: bool) -> int:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            if defer:
                conn.execute("PRAGMA defer_foreign_keys = ON")
            start = last = self.last_seq()
            fresh: list[StepImage] = []
            for step in steps:
                if step.last_seq <= last:
                    continue
                if step.first_seq <= last:
                    raise StorageError("the host sent part of a step this replica already has")
                for img in step.rows if defer else self._parents_first(step.rows):
                    self._put(img)
                for change in step.changes:
                    conn.execute(_INSERT_CHANGE, _change_values(change))
                last = step.last_seq
                fresh.append(step)
            if fresh:
                self._file(start, fresh)
            conn.execute("COMMIT")
        except sqlite3.IntegrityError as exc:
            conn.execute("ROLLBACK")
            if not defer:  # perhaps only an order the deferred checks allow: again
                raise _Deferral from exc
            raise StorageError(f"a step from the host does not fit this replica: {exc}") from exc
        except sqlite3.Error as exc:
            conn.execute("ROLLBACK")
            raise StorageError(f"a step from the host does not fit this replica: {exc}") from exc
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        return len(fresh)

    def _parents_first(self, rows: Sequence[RowImage]) -> Sequence[RowImage]:
        """``rows`` in an order immediate foreign-key checks accept when the rows agree:
        written rows parents first, then deleted rows children first."""
        if len(rows) < 2:
            return rows
        rank = self._rank
        return sorted(
            rows, key=lambda r: 1000 - rank[r.table] if r.values is None else rank[r.table]
        )

    def _file(self, start: int, steps: Sequence[StepImage]) -> None:
        """Make ``change_rows`` after ``start`` hold exactly the host's filing of
        ``steps``. The replica's own triggers filed each write under its next seq: for
        steps of one change each whose rows all came with them (a live step of one
        command, most catch-ups) that is the host's filing already, and nothing is
        rewritten. Compared with what the triggers really filed, never assumed."""
        want = {f for step in steps for f in step.filed}
        want.update((r.seq, r.table, r.pk) for step in steps for r in step.rows)
        have = self._conn.execute(_FILED_AFTER, (start,)).fetchall()
        if len(have) == len(want) and want.issuperset(have):
            return
        self._conn.execute("DELETE FROM change_rows WHERE seq > ?", (start,))
        self._conn.executemany(
            "INSERT OR IGNORE INTO change_rows (seq, tbl, pk) VALUES (?, ?, ?)", sorted(want)
        )

    def _put(self, img: RowImage) -> None:
        if img.values is None:
            self._conn.execute(self._deletes[img.table], (img.pk,))
            return
        shape = (img.table, tuple(img.values))
        sql = self._inserts.get(shape)
        if sql is None:
            known = self._columns[img.table]
            if not known.issuperset(img.values):
                raise StorageError(f"the host sent a {img.table} column this version does not know")
            cols = shape[1]
            sql = (
                f"INSERT OR REPLACE INTO {img.table} ({', '.join(cols)}) "
                f"VALUES ({', '.join('?' * len(cols))})"
            )
            if len(self._inserts) < 512:  # names checked once per shape, text built once
                self._inserts[shape] = sql
        self._conn.execute(sql, tuple(img.values.values()))


SMALL_READ_STEPS = 4
SMALL_READ_ROWS = 64
"""A read this small (a live step or two) is first applied with immediate foreign-key
checks (see :meth:`ReplicaWriter.apply_batch`)."""


class _Deferral(Exception):
    """An immediate foreign-key check refused the order of a read's rows."""


def _depths(conn: sqlite3.Connection) -> dict[str, int]:
    """Each replicated table's depth in the foreign-key graph (0: it refers to no other
    table; a table's own rows, as an asset's parent, do not count)."""
    refers = {
        t: {str(r[2]) for r in conn.execute(f"PRAGMA foreign_key_list({t})")} - {t}
        for t in PRIMARY_KEYS
    }
    depth: dict[str, int] = {}

    def of(table: str, seen: frozenset[str]) -> int:
        if table not in depth:
            parents = [p for p in refers.get(table, ()) if p in refers and p not in seen]
            depth[table] = 1 + max((of(p, seen | {table}) for p in parents), default=-1)
        return depth[table]

    for table in refers:
        of(table, frozenset())
    return depth


_INSERT_CHANGE = (
    f"INSERT INTO changes ({', '.join(CHANGE_COLUMNS)}) "
    f"VALUES ({', '.join('?' * len(CHANGE_COLUMNS))})"
)
_change_values = operator.itemgetter(*CHANGE_COLUMNS)
_FILED_AFTER = "SELECT seq, tbl, pk FROM change_rows WHERE seq > ?"


def install_snapshot(snapshot: Path, dest: Path, *, space_id: str, host: str) -> int:
    """Make the host's snapshot file ``snapshot`` the replica at ``dest`` (replacing any
    older one atomically) and mark it a replica of ``host``. Returns its seq."""
    try:
        conn = connect(snapshot, mode="rw")
    except sqlite3.Error as exc:
        raise StorageError(f"the snapshot from the host cannot be read: {exc}") from exc
    try:
        app = int(conn.execute("PRAGMA application_id").fetchone()[0])
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if app != SPACE_APPLICATION_ID or version != SPACE_MIGRATIONS[-1].version:
            raise StorageError("the snapshot from the host is not a space of this version")
        row = conn.execute("SELECT value FROM meta WHERE key = 'space_id'").fetchone()
        if row is None or row[0] != space_id:
            raise StorageError("the snapshot from the host is of another space")
        if conn.execute("PRAGMA quick_check").fetchone()[0] != "ok":
            raise StorageError("the snapshot from the host is damaged")
        with conn:
            conn.execute("DELETE FROM peer_mutations")  # the host's bookkeeping, not ours
            conn.execute("DELETE FROM sync_state")
            conn.execute("INSERT INTO sync_state (key, value) VALUES ('replica_of', ?)", (host,))
        seq = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except sqlite3.Error as exc:
        raise StorageError(f"the snapshot from the host cannot be read: {exc}") from exc
    finally:
        conn.close()
    for suffix in ("-wal", "-shm"):
        Path(f"{snapshot}{suffix}").unlink(missing_ok=True)
    dest.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("-wal", "-shm"):  # an older replica's log must not meet the new file
        Path(f"{dest}{suffix}").unlink(missing_ok=True)
    os.replace(snapshot, dest)
    return seq
