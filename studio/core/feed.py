"""The change feed: a space's change log, in seq order, as the one source of events for
every follower — this process's views, ``studio log --follow``, another process.

A :class:`ChangeFeed` owns a read-only connection of its own (it never takes the
space's write lock, and a WAL reader never waits for a writer). Each :meth:`poll` first
asks SQLite whether anything was committed since the last one (``PRAGMA data_version``,
answered from shared memory in microseconds); only then does it read ``changes WHERE
seq > last``. A change is decoded into the same :class:`Event` objects (type, row data,
seq) the in-process bus publishes, so a view has one code path for both.

Everything committed by one transaction becomes visible at once, and a poll reads in one
read transaction, so a follower never sees half of a step. When a poll is cut short by
its batch size, the cut is moved to the end of a step (``step_id``, where the file has
that column).
"""

from __future__ import annotations

import json
import logging
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.core.errors import StorageError, ValidationError
from studio.core.events import Event
from studio.core.protocol import PROTOCOL_VERSION, TypedEvent, decode_event
from studio.store.db import connect, file_uri

log = logging.getLogger(__name__)

BATCH = 500
"""Changes read by one poll at most (a follower far behind catches up over a few polls,
so no single poll holds its caller — the UI thread — for long)."""

FEED_BUSY_MS = 50
"""How long a poll waits for a locked file (rare in WAL mode) before reporting nothing
new this time: a follower on the UI thread must never hang on a writer."""

_COLUMNS = "seq, at, actor_id, actor_name, actor_role, command, payload, events"
_NEWEST = "SELECT COALESCE(MAX(seq), 0) FROM changes"


def _open(path: Path, frozen: bool) -> sqlite3.Connection:
    if not frozen:
        return connect(path, mode="ro", wal=False)
    return sqlite3.connect(
        file_uri(path, "ro") + "&immutable=1",
        uri=True,
        isolation_level=None,
        check_same_thread=False,
    )


@dataclass(frozen=True, slots=True)
class Change:
    """One change-log entry: who did what (``payload``, the command) and what it
    changed (``events``, as stored)."""

    seq: int
    at: int
    actor_id: str
    actor_name: str
    actor_role: str
    command: str
    payload: dict[str, Any]
    events: list[dict[str, Any]]
    step_id: str | None = None
    """The step this change belongs to (consecutive seqs share it); None where the log
    has no steps."""

    def to_events(self) -> list[Event]:
        """The events as the bus publishes them (same type, data and seq)."""
        return [Event(str(e["type"]), dict(e.get("data") or {}), self.seq) for e in self.events]

    def typed_events(self) -> list[TypedEvent]:
        """The events decoded against the protocol catalogue
        (:mod:`studio.core.protocol`); an entry that does not match it raises one clear
        :class:`StorageError`."""
        out = []
        for ev in self.to_events():
            try:
                out.append(decode_event(ev))
            except ValidationError as exc:
                raise StorageError(
                    f"the change log does not match protocol version {PROTOCOL_VERSION} "
                    f"at change {self.seq}: {exc.message}"
                ) from None
        return out


def decode_change(raw: tuple[Any, ...]) -> Change:
    """A ``changes`` row (columns as :data:`_COLUMNS`, then ``step_id`` if read) as a
    :class:`Change`; a damaged JSON column raises one clear :class:`StorageError`."""
    seq, at, aid, aname, arole, command, payload, events = raw[:8]
    return Change(
        seq,
        at,
        aid,
        aname,
        arole,
        command,
        json_column(payload, f"change {seq} payload"),
        _events(events, seq),
        raw[8] if len(raw) > 8 else None,
    )


def json_column(text: str, where: str) -> Any:
    """A JSON column, or one clear error when an outside fault damaged it."""
    try:
        return json.loads(text)
    except (ValueError, TypeError):  # TypeError: NULL where damage removed the text
        raise StorageError(
            f"the space file is damaged: {where} is not valid JSON (see `studio check`)"
        ) from None


def _events(text: str, seq: int) -> list[dict[str, Any]]:
    value = json_column(text, f"change {seq} events")
    if not isinstance(value, list) or not all(
        isinstance(e, dict) and isinstance(e.get("type"), str) for e in value
    ):
        raise StorageError(
            f"the space file is damaged: change {seq} events are not a list of events "
            "(see `studio check`)"
        )
    return value


class ChangeFeed:
    """Follows one space file's change log from ``since`` (exclusive; None: from the
    newest change when it opens). One thread at a time; :meth:`close` when done.
    ``frozen``: the file can only be read as it is (a full or read-only disk; see
    ``space_file``), so nothing new can appear."""

    def __init__(
        self, path: Path, since: int | None = None, *, batch: int = BATCH, frozen: bool = False
    ) -> None:
        if batch < 1:
            raise ValueError("batch must be at least 1")
        try:
            self._conn = _open(path, frozen)
        except sqlite3.Error as exc:
            raise StorageError(f"could not follow the space's changes: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout = {FEED_BUSY_MS}")
            cols = {row[1] for row in self._conn.execute("PRAGMA table_info(changes)")}
            if since is None:  # from the newest change now
                since = int(self._conn.execute(_NEWEST).fetchone()[0])
        except sqlite3.Error as exc:
            self._conn.close()
            raise StorageError(f"could not follow the space's changes: {exc}") from exc
        self._steps = "step_id" in cols
        self._last = since
        self._batch = batch
        self._version: int | None = None
        self._more = True  # read at least once

    @property
    def last_seq(self) -> int:
        """The newest change this feed has handed out (or skipped, see :meth:`skip_to`)."""
        return self._last

    @property
    def version(self) -> int | None:
        """The file's ``PRAGMA data_version`` at the last look: it moves with every
        commit by another connection, also one that writes no change-log entry (an undo
        history entry, a job lease)."""
        return self._version

    @property
    def behind(self) -> bool:
        """Did the last poll stop at its batch size with more waiting?"""
        return self._more

    def skip_to(self, seq: int) -> None:
        """Never hand out changes up to ``seq`` (a follower that already has them, e.g.
        from a snapshot read at that seq)."""
        if seq > self._last:
            self._last = seq
            self._more = True

    def changed(self) -> bool:
        """Has anything been committed (by any connection) since the last poll? Cheap:
        no table is read."""
        if self._more:
            return True
        try:
            version = int(self._conn.execute("PRAGMA data_version").fetchone()[0])
        except sqlite3.OperationalError:  # busy: say yes, the poll will try again
            return True
        if version == self._version:
            return False
        self._version = version
        return True

    def poll(self) -> list[Change]:
        """The changes committed after the last one handed out, oldest first (at most
        about one batch, never half a step). Empty when nothing is new. A damaged entry
        raises :class:`StorageError` once, and the feed goes on after it."""
        if not self.changed():
            return []
        try:
            rows = self._read()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                self._more = True  # try again next poll
                return []
            raise StorageError(f"could not read the space's changes: {exc}") from exc
        except sqlite3.Error as exc:
            raise StorageError(f"could not read the space's changes: {exc}") from exc
        self._more = len(rows) >= self._batch
        out: list[Change] = []
        for raw in rows:
            try:
                change = decode_change(raw)
            except StorageError:
                if out:  # hand out what came before; the damaged one is next
                    self._more = True
                    return out
                self._last = int(raw[0])
                self._more = True
                raise
            out.append(change)
            self._last = change.seq
        return out

    def events(self) -> list[Event]:
        """:meth:`poll`, as events."""
        return [e for ch in self.poll() for e in ch.to_events()]

    def typed_events(self) -> list[TypedEvent]:
        """:meth:`poll`, as events decoded against the protocol catalogue."""
        return [e for ch in self.poll() for e in ch.typed_events()]

    def _read(self) -> list[tuple[Any, ...]]:
        conn = self._conn
        cols = f"{_COLUMNS}, step_id" if self._steps else _COLUMNS
        conn.execute("BEGIN")  # one snapshot: a step's rows all, or none
        try:
            rows: list[tuple[Any, ...]] = conn.execute(
                f"SELECT {cols} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                (self._last, self._batch),
            ).fetchall()
            if self._steps and len(rows) >= self._batch and rows[-1][8] is not None:
                rows += self._rest_of_step(rows[-1][0], rows[-1][8])
        finally:
            conn.execute("COMMIT")
        return rows

    def _rest_of_step(self, seq: int, step: str) -> list[tuple[Any, ...]]:
        """The rows after ``seq`` that belong to its step ``step`` (consecutive)."""
        out: list[tuple[Any, ...]] = []
        for row in self._conn.execute(
            f"SELECT {_COLUMNS}, step_id FROM changes WHERE seq > ? ORDER BY seq", (seq,)
        ):
            if row[8] != step:
                break
            out.append(row)
        return out

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ChangeFeed:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
