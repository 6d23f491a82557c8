"""The host side of replication (see :mod:`studio.core.replica`): reading committed
steps with their current row images, and applying a peer's commands exactly once."""

from __future__ import annotations

import bisect
import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from studio.core.actor import Actor
from studio.core.commands import Command
from studio.core.errors import StorageError
from studio.core.replica import (
    CATCHUP_CAP,
    CHANGE_COLUMNS,
    PRIMARY_KEYS,
    RowImage,
    Scalar,
    StepImage,
    mark_of,
)
from studio.core.space import AppliedStep, Space, StepHook
from studio.core.tx import Tx
from studio.store.db import connect


class StepSource:
    """Reads a space file's committed steps with their current row images, on a
    read-only connection of its own (never the space's write lock). One thread at a
    time; :meth:`close` when done."""

    def __init__(self, path: Path, *, busy_ms: int = 1000) -> None:
        """``busy_ms``: how long a read may wait for a lock (0: fail at once)."""
        try:
            self._conn = connect(path, mode="ro", wal=False)
            self._conn.execute(f"PRAGMA busy_timeout = {int(busy_ms)}")
        except sqlite3.Error as exc:
            raise StorageError(f"could not read the space to share it: {exc}") from exc
        self._version: int | None = None

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> StepSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def changed(self) -> bool:
        """Has anything been committed since the last call? (``PRAGMA data_version``.)"""
        version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        if version == self._version:
            return False
        self._version = version
        return True

    def last_seq(self) -> int:
        return int(self._conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def covers(self, seq: int) -> bool:
        """Can a replica at ``seq`` be brought up to date by steps alone? Only from where
        this file began filing touched rows, and never past the host's newest change (a
        replica ahead of its host — a host restored from a backup — needs a snapshot)."""
        with self._read():
            row = self._conn.execute(
                "SELECT value FROM sync_state WHERE key = 'rows_logged_after'"
            ).fetchone()
            start = int(row[0]) if row is not None else None
            last = self.last_seq()
        return start is not None and start <= seq <= last

    def mark(self, seq: int) -> str | None:
        """What tells this file's change ``seq`` apart from another file's change of the
        same number (a host restored from a backup reuses seqs): its time and step."""
        return mark_of(self._conn, seq)

    def steps_after(
        self, seq: int, cap: int = CATCHUP_CAP, *, max_rows: int | None = None
    ) -> list[StepImage] | None:
        """Every step committed after ``seq``, up to the newest, with the current images
        of the rows they touched, read in one transaction. Only the whole list is
        consistent — a row's current image may point at a row a later step made — so a
        replica applies it in one transaction (:meth:`ReplicaWriter.apply_batch`). A row
        touched by several of the steps is carried by the last of them. None when more
        than ``cap`` changes wait: a snapshot is cheaper then. None too when the steps
        touched more than ``max_rows`` rows (a caller that reads only small reads)."""
        cols = ", ".join(CHANGE_COLUMNS)
        with self._read():
            if self.last_seq() - seq > cap:
                return None
            rows = self._conn.execute(
                f"SELECT {cols} FROM changes WHERE seq > ? ORDER BY seq", (seq,)
            ).fetchall()
            if not rows:
                return []
            first, last = rows[0][0], rows[-1][0]
            touched: dict[tuple[str, str], int] = {}
            filed: list[tuple[int, str, str]] = []
            for s, table, pk in self._conn.execute(
                "SELECT seq, tbl, pk FROM change_rows WHERE seq BETWEEN ? AND ? ORDER BY seq",
                (first, last),
            ):
                touched[(table, pk)] = s  # the latest seq that touched it
                filed.append((s, table, pk))
                if max_rows is not None and len(filed) > max_rows:
                    return None
            images = {key: self._image(*key) for key in touched}
        steps: list[list[tuple[Any, ...]]] = []
        for row in rows:
            if steps and row[8] is not None and steps[-1][-1][8] == row[8]:
                steps[-1].append(row)
            else:
                steps.append([row])
        ends = [step[-1][0] for step in steps]

        def owner(seq: int) -> int:  # the last seq of the step that holds ``seq``
            return int(ends[bisect.bisect_left(ends, seq)])

        by_last: dict[int, list[RowImage]] = {}
        for (table, pk), s in touched.items():
            by_last.setdefault(owner(s), []).append(RowImage(s, table, pk, images[(table, pk)]))
        filed_by_last: dict[int, list[tuple[int, str, str]]] = {}
        for f in filed:
            filed_by_last.setdefault(owner(f[0]), []).append(f)
        return [
            StepImage(
                tuple(dict(zip(CHANGE_COLUMNS, r, strict=True)) for r in step),
                tuple(by_last.get(step[-1][0], ())),
                tuple(filed_by_last.get(step[-1][0], ())),
            )
            for step in steps
        ]

    def small_steps_after(self, seq: int, changes: int, rows: int) -> list[StepImage] | None:
        """:meth:`steps_after` if what waits is small — at most ``changes`` changes that
        touched at most ``rows`` rows — and the file answers at once; None otherwise
        (then read it with :meth:`steps_after`). For a caller that must not wait: the
        host reads a live peer's next step on its event loop."""
        try:
            return self.steps_after(seq, changes, max_rows=rows)
        except sqlite3.Error:
            return None

    def _image(self, table: str, pk: str) -> dict[str, Scalar] | None:
        key = PRIMARY_KEYS[table]
        cur = self._conn.execute(f"SELECT * FROM {table} WHERE {key} = ?", (pk,))
        raw = cur.fetchone()
        if raw is None:
            return None
        return dict(zip([d[0] for d in cur.description], raw, strict=True))

    @contextlib.contextmanager
    def _read(self) -> Iterator[None]:
        self._conn.execute("BEGIN")  # one snapshot of the file
        try:
            yield
        finally:
            self._conn.execute("COMMIT")

    def snapshot(self, dest: Path) -> int:
        """Write a consistent, compact copy of the space to ``dest`` (which must not
        exist) and return the seq it holds."""
        try:
            self._conn.execute("VACUUM INTO ?", (str(dest),))
        except sqlite3.Error as exc:
            raise StorageError(f"could not copy the space to share it: {exc}") from exc
        conn = sqlite3.connect(dest)
        try:
            return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])
        finally:
            conn.close()


class _AlreadyApplied(Exception):
    def __init__(self, result: dict[str, Any]) -> None:
        super().__init__("already applied")
        self.result = result


def apply_once(
    space: Space, cmds: Sequence[Command], actor: Actor, *, client_id: str, mutation_id: str
) -> tuple[dict[str, Any], bool]:
    """Apply a peer's commands as one step through the door, once per (client id,
    mutation id): a re-send (after a cut, or after the host restarted) answers with the
    first result and changes nothing. Returns (result, applied now)."""
    return _once(
        space, lambda then: space.apply_step(cmds, actor, then=then), client_id, mutation_id
    )


def travel_once(
    space: Space, actor: Actor, *, undo: bool, client_id: str, mutation_id: str
) -> tuple[dict[str, Any], bool]:
    """Undo (or redo) a peer's last step, once per (client id, mutation id), as
    :func:`apply_once`: a re-sent undo never undoes a second step."""
    travel = space.undo if undo else space.redo
    return _once(space, lambda then: travel(actor, then=then), client_id, mutation_id)


def _once(
    space: Space, run: Callable[[StepHook], AppliedStep], client_id: str, mutation_id: str
) -> tuple[dict[str, Any], bool]:
    stored = _mutation(space, client_id, mutation_id)
    if stored is not None:
        return stored, False

    def remember(tx: Tx, step: AppliedStep) -> None:
        row = tx.conn.execute(
            "SELECT result FROM peer_mutations WHERE client_id = ? AND mutation_id = ?",
            (client_id, mutation_id),
        ).fetchone()
        if row is not None:  # another connection of this client won the race
            raise _AlreadyApplied(json.loads(row[0]))
        tx.conn.execute(
            "INSERT INTO peer_mutations (client_id, mutation_id, step_id, result, at) "
            "VALUES (?, ?, ?, ?, ?)",
            (client_id, mutation_id, step.step_id, json.dumps(_result(step)), tx.now),
        )

    try:
        step = run(remember)
    except _AlreadyApplied as done:
        return done.result, False
    return _result(step), True


def _result(step: AppliedStep) -> dict[str, Any]:
    return {"step": step.step_id, "seqs": list(step.seqs), "created": dict(step.created)}


def _mutation(space: Space, client_id: str, mutation_id: str) -> dict[str, Any] | None:
    with space.reading() as conn:
        row = conn.execute(
            "SELECT result FROM peer_mutations WHERE client_id = ? AND mutation_id = ?",
            (client_id, mutation_id),
        ).fetchone()
    return json.loads(row[0]) if row else None


KEEP_CHANGES = 100_000
"""Changes whose filed rows a host keeps: a peer further behind gets a snapshot."""

KEEP_MUTATIONS_MS = 30 * 24 * 3600 * 1000
"""How long a peer's mutation id is remembered (a re-send later than that is new)."""


def prune(path: Path, now: int, *, keep_changes: int = KEEP_CHANGES) -> int:
    """Bound what sharing keeps in a space file: the filing of rows touched more than
    ``keep_changes`` changes ago (raising where steps can start from) and mutation ids
    older than :data:`KEEP_MUTATIONS_MS`. Bookkeeping only: no replicated table, no
    change, no event. Returns the filed rows removed."""
    try:
        conn = connect(path, mode="rw")
    except sqlite3.Error as exc:
        raise StorageError(f"could not tidy the space's sharing records: {exc}") from exc
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            last = int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])
            row = conn.execute(
                "SELECT value FROM sync_state WHERE key = 'rows_logged_after'"
            ).fetchone()
            start = int(row[0]) if row is not None else last
            cut = last - keep_changes
            removed = 0
            if cut > start:
                removed = conn.execute("DELETE FROM change_rows WHERE seq <= ?", (cut,)).rowcount
                conn.execute(
                    "INSERT INTO sync_state (key, value) VALUES ('rows_logged_after', ?) "
                    "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                    (str(cut),),
                )
            conn.execute("DELETE FROM peer_mutations WHERE at < ?", (now - KEEP_MUTATIONS_MS,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    except sqlite3.Error as exc:
        raise StorageError(f"could not tidy the space's sharing records: {exc}") from exc
    finally:
        conn.close()
    return removed
