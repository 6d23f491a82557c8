"""Each actor's undo/redo history, kept in the space file (table ``history``).

One entry per user step: the commands that undo it (``undo``), once undone the commands
that redo it (``redo``), and its state:

- ``done``: the step stands; :meth:`Space.undo` applies ``undo`` as a new step.
- ``undone``: it was undone; :meth:`Space.redo` applies ``redo`` as a new step.
- ``stuck``: it can no longer be undone (or redone) because someone changed the same
  thing later; ``reason`` says why. It stays in the history instead of vanishing.

A new step by an actor clears that actor's redo list (its ``undone`` entries).
Consecutive moves of the same cards by the same actor within :data:`MERGE_WINDOW_MS`
merge into one entry, so a run of arrow-key nudges is undone at once.

Everything here runs inside the caller's write transaction (``conn``).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from studio.core import commands as c
from studio.core.commands import Command, command_from_json, command_to_json
from studio.core.errors import StorageError, StudioError

MERGE_WINDOW_MS = 1_500
"""Moves of the same cards closer together than this are one undo entry."""

MAX_ENTRIES_PER_ACTOR = 500
"""The oldest entries beyond this are forgotten (the history stays bounded)."""

TRIM_EVERY = 32
"""Trim an actor's history every this many new entries (not on every step)."""

DONE = "done"
UNDONE = "undone"
STUCK = "stuck"


@dataclass(frozen=True, slots=True)
class HistoryEntry:
    """One step in an actor's history, as :meth:`Space.history` reports it."""

    id: int
    actor_id: str
    step_id: str
    label: str
    state: str
    reason: str | None
    undo: tuple[Command, ...]
    redo: tuple[Command, ...]
    created_at: int
    updated_at: int

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "step": self.step_id,
            "label": self.label,
            "state": self.state,
            "reason": self.reason,
            "undo": [command_to_json(x) for x in self.undo],
            "redo": [command_to_json(x) for x in self.redo],
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        }


_COLUMNS = "id, actor_id, step_id, label, state, reason, undo, redo, created_at, updated_at"


def encode(cmds: Sequence[Command]) -> str:
    return json.dumps([command_to_json(x) for x in cmds], ensure_ascii=False)


def decode(text: str | None, where: str) -> tuple[Command, ...]:
    if text is None:
        return ()
    try:
        items = json.loads(text)
        if not isinstance(items, list):
            raise ValueError("not a list")
        return tuple(command_from_json(item) for item in items)
    except (ValueError, TypeError, StudioError):
        raise StorageError(
            f"the space file is damaged: {where} is not a valid list of commands"
        ) from None


def _entry(raw: tuple[Any, ...]) -> HistoryEntry:
    eid, actor, step, label, state, reason, undo, redo, created, updated = raw
    where = f"history entry {eid}"
    return HistoryEntry(
        eid,
        actor,
        step,
        label,
        state,
        reason,
        decode(undo, where),
        decode(redo, where),
        created,
        updated,
    )


def merge_key(cmds: Sequence[Command]) -> str | None:
    """What a run of moves has in common (the kind and the cards moved), or None when
    ``cmds`` are not only moves."""
    parts: list[str] = []
    for cmd in cmds:
        if isinstance(cmd, c.MoveAssets):
            parts.append("asset:" + ",".join(sorted(p.asset_id for p in cmd.positions)))
        elif isinstance(cmd, c.UpdateFrame) and _frame_move_only(cmd):
            parts.append("frame:" + cmd.frame_id)
        else:
            return None
    return "|".join(sorted(parts)) if parts else None


def _frame_move_only(cmd: c.UpdateFrame) -> bool:
    return (
        (cmd.x is not None or cmd.y is not None)
        and cmd.title is None
        and cmd.width is None
        and cmd.height is None
        and cmd.color is None
    )


def record(
    conn: sqlite3.Connection,
    *,
    actor_id: str,
    step_id: str,
    label: str,
    cmds: Sequence[Command],
    undo: Sequence[Command],
    now: int,
) -> None:
    """Record a new user step: clear the actor's redo list, merge a nudge into the one
    before it, or add an entry."""
    conn.execute("DELETE FROM history WHERE actor_id = ? AND state = ?", (actor_id, UNDONE))
    key = merge_key(cmds)
    if key is not None:
        # the actor's latest entry, when it still stands (undone ones were just cleared;
        # a newer stuck one means the run was broken)
        last = conn.execute(
            "SELECT id, merge_key, updated_at FROM history h "
            "WHERE actor_id = ? AND state = ? AND NOT EXISTS (SELECT 1 FROM history s "
            "WHERE s.actor_id = h.actor_id AND s.state = ? AND s.id > h.id) "
            "ORDER BY id DESC LIMIT 1",
            (actor_id, DONE, STUCK),
        ).fetchone()
        if last is not None and last[1] == key and 0 <= now - last[2] <= MERGE_WINDOW_MS:
            # keep the first move's inverse: undo goes back to where the run started
            conn.execute(
                "UPDATE history SET step_id = ?, updated_at = ? WHERE id = ?",
                (step_id, now, last[0]),
            )
            return
    cur = conn.execute(
        "INSERT INTO history (actor_id, step_id, label, undo, redo, state, reason, merge_key, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, NULL, ?, NULL, ?, ?, ?)",
        (actor_id, step_id, label, encode(undo), DONE, key, now, now),
    )
    if (cur.lastrowid or 0) % TRIM_EVERY == 0:
        trim(conn, actor_id)


def trim(conn: sqlite3.Connection, actor_id: str) -> None:
    """Forget the actor's entries beyond the newest :data:`MAX_ENTRIES_PER_ACTOR`."""
    conn.execute(
        "DELETE FROM history WHERE actor_id = ? AND id <= ("
        "SELECT id FROM history WHERE actor_id = ? ORDER BY id DESC LIMIT 1 OFFSET ?)",
        (actor_id, actor_id, MAX_ENTRIES_PER_ACTOR),
    )


def next_undo(conn: sqlite3.Connection, actor_id: str) -> HistoryEntry | None:
    """The actor's latest step that still stands."""
    raw = conn.execute(
        f"SELECT {_COLUMNS} FROM history WHERE actor_id = ? AND state = ? ORDER BY id DESC LIMIT 1",
        (actor_id, DONE),
    ).fetchone()
    return None if raw is None else _entry(raw)


def next_redo(conn: sqlite3.Connection, actor_id: str) -> HistoryEntry | None:
    """The actor's most recently undone step."""
    raw = conn.execute(
        f"SELECT {_COLUMNS} FROM history WHERE actor_id = ? AND state = ? ORDER BY id ASC LIMIT 1",
        (actor_id, UNDONE),
    ).fetchone()
    return None if raw is None else _entry(raw)


def mark_undone(
    conn: sqlite3.Connection, entry_id: int, step_id: str, redo: Sequence[Command], now: int
) -> None:
    conn.execute(
        "UPDATE history SET state = ?, redo = ?, step_id = ?, merge_key = NULL, updated_at = ? "
        "WHERE id = ?",
        (UNDONE, encode(redo), step_id, now, entry_id),
    )


def mark_redone(
    conn: sqlite3.Connection, entry_id: int, step_id: str, undo: Sequence[Command], now: int
) -> None:
    conn.execute(
        "UPDATE history SET state = ?, undo = ?, redo = NULL, step_id = ?, merge_key = NULL, "
        "updated_at = ? WHERE id = ?",
        (DONE, encode(undo), step_id, now, entry_id),
    )


def mark_stuck(conn: sqlite3.Connection, entry_id: int, reason: str, now: int) -> None:
    conn.execute(
        "UPDATE history SET state = ?, reason = ?, merge_key = NULL, updated_at = ? WHERE id = ?",
        (STUCK, reason, now, entry_id),
    )


def entries(conn: sqlite3.Connection, actor_id: str, limit: int = 100) -> list[HistoryEntry]:
    """The actor's history, oldest first (the last ``limit`` entries)."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM history WHERE actor_id = ? ORDER BY id DESC LIMIT ?",
        (actor_id, limit),
    ).fetchall()
    return [_entry(raw) for raw in reversed(rows)]


def marks(conn: sqlite3.Connection, actor_id: str, limit: int = 100) -> list[tuple[int, str]]:
    """The ids and states of the actor's last ``limit`` entries, oldest first: what a
    view of the history (the app's undo stack) compares itself with, without decoding
    any commands."""
    rows = conn.execute(
        "SELECT id, state FROM history WHERE actor_id = ? ORDER BY id DESC LIMIT ?",
        (actor_id, limit),
    ).fetchall()
    return [(int(i), str(st)) for i, st in reversed(rows)]


CONFLICT_TABLES = ("assets", "variants", "lineage", "collections", "collection_items", "frames",
                   "style_presets")  # fmt: skip
"""What a person changes; jobs and meta move under everyone's steps (the scheduler's)."""


def changed_since_by_others(
    conn: sqlite3.Connection, step_id: str, actor_id: str, system_id: str
) -> tuple[str, int] | None:
    """(who, when) of the first change by another person, after the step ``step_id``,
    to the same thing that step changed — the same row, by the same kind of command, and
    for updates the same fields — which its undo would silently overwrite. A later
    rename does not block undoing a move of the same card. None when nobody did (or the
    step is older than the row filing of ``change_rows``)."""
    mine = conn.execute(
        "SELECT seq, command, payload FROM changes WHERE step_id = ?", (step_id,)
    ).fetchall()
    if not mine:
        return None
    last = max(int(r[0]) for r in mine)
    wrote: dict[str, set[str]] = {}  # command kind -> fields it set
    for _seq, command, payload in mine:
        wrote.setdefault(str(command), set()).update(_fields(payload))
    marks = ", ".join("?" * len(CONFLICT_TABLES))
    later = conn.execute(
        f"SELECT DISTINCT c.seq, c.actor_name, c.at, c.command, c.payload FROM change_rows r "
        f"JOIN changes c ON c.seq = r.seq "
        f"WHERE r.seq > ? AND c.actor_id NOT IN (?, ?) AND r.tbl IN ({marks}) "
        f"AND EXISTS (SELECT 1 FROM change_rows m JOIN changes mc ON mc.seq = m.seq "
        f"WHERE mc.step_id = ? AND m.tbl = r.tbl AND m.pk = r.pk) "
        f"ORDER BY c.seq LIMIT 200",
        (last, actor_id, system_id, *CONFLICT_TABLES, step_id),
    ).fetchall()
    for _seq, name, at, command, payload in later:
        fields = wrote.get(str(command))
        if fields is None:
            continue  # another kind of change to the same thing: the undo keeps it
        if not fields or not _fields(payload) or fields & _fields(payload):
            return str(name), int(at)
    return None


_NOT_FIELDS = frozenset({"command", "asset_id", "variant_id", "frame_id", "collection_id",
                         "preset_id", "item_id", "positions"})  # fmt: skip


def _fields(payload: object) -> set[str]:
    """The fields an update command set (non-null, not its target's id); empty for
    commands that are not partial updates."""
    try:
        data = json.loads(str(payload))
    except ValueError:
        return set()
    if not isinstance(data, dict):
        return set()
    if "positions" in data:
        return {"position"}
    return {k for k, v in data.items() if v is not None and k not in _NOT_FIELDS}
