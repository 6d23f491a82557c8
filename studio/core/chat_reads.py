"""The assistant's reads: chat sessions, messages, proposals and rules, and the compact
summaries of a space it is given first (counts by kind, type and tag; recent failures).
Each runs on a read connection of the space (never waits for the writer)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from studio.core.errors import NotFoundError

if TYPE_CHECKING:
    from studio.core.space import Space


@dataclass(frozen=True, slots=True)
class ChatSession:
    id: str
    title: str
    created_by: str
    created_at: int
    updated_at: int
    messages: int


@dataclass(frozen=True, slots=True)
class ChatMessage:
    id: str
    session_id: str
    position: int
    role: str
    blocks: tuple[dict[str, Any], ...]
    author_id: str
    model: str
    created_at: int


@dataclass(frozen=True, slots=True)
class Proposal:
    id: str
    session_id: str
    tool: str
    summary: str
    commands: tuple[dict[str, Any], ...]
    cost_usd: float | None
    state: str
    proposed_for: str
    decided_by: str | None
    decided_at: int | None
    standing: bool
    created_at: int


@dataclass(frozen=True, slots=True)
class Failure:
    variant_id: str
    asset_id: str
    asset_name: str
    error_code: str
    error_message: str
    at: int


@dataclass(frozen=True, slots=True)
class SpaceSummary:
    assets: int
    variants: int
    by_kind: tuple[tuple[str, int], ...]
    by_type: tuple[tuple[str, int], ...]
    top_tags: tuple[tuple[str, int], ...]
    by_status: tuple[tuple[str, int], ...]
    collections: tuple[tuple[str, str, int], ...]  # id, name, items
    styles: tuple[tuple[str, str], ...]  # id, name
    frames: int
    failures: tuple[Failure, ...]


_PROPOSAL_COLUMNS = (
    "id, session_id, tool, summary, commands, cost_usd, state, proposed_for, decided_by, "
    "decided_at, standing, created_at"
)


def _proposal(row: tuple[Any, ...]) -> Proposal:
    (pid, sid, tool, summary, cmds, cost, state, who, by, at, standing, created) = row
    return Proposal(
        pid,
        sid,
        tool,
        summary,
        tuple(json.loads(cmds)),
        cost,
        state,
        who,
        by,
        at,
        bool(standing),
        created,
    )


def sessions(space: Space) -> list[ChatSession]:
    """The live chats, most recently active first."""
    with space.reading() as conn:
        rows = conn.execute(
            "SELECT s.id, s.title, s.created_by, s.created_at, s.updated_at, "
            "(SELECT COUNT(*) FROM chat_messages m WHERE m.session_id = s.id) "
            "FROM chat_sessions s WHERE s.deleted_at IS NULL "
            "ORDER BY s.updated_at DESC, s.id DESC"
        ).fetchall()
    return [ChatSession(*row) for row in rows]


def session(space: Space, session_id: str) -> ChatSession:
    for s in sessions(space):
        if s.id == session_id:
            return s
    raise NotFoundError(f"there is no chat {session_id}")


def messages(space: Space, session_id: str) -> list[ChatMessage]:
    """A chat's turns, in order."""
    with space.reading() as conn:
        rows = conn.execute(
            "SELECT id, session_id, position, role, blocks, author_id, model, created_at "
            "FROM chat_messages WHERE session_id = ? ORDER BY position",
            (session_id,),
        ).fetchall()
    return [
        ChatMessage(mid, sid, pos, role, tuple(json.loads(blocks)), author, model, at)
        for mid, sid, pos, role, blocks, author, model, at in rows
    ]


def proposals(
    space: Space, *, session_id: str | None = None, state: str | None = None
) -> list[Proposal]:
    """Proposals, oldest first (of one chat, in one state, when given)."""
    with space.reading() as conn:
        rows = conn.execute(
            f"SELECT {_PROPOSAL_COLUMNS} FROM proposals "
            "WHERE (? IS NULL OR session_id = ?) AND (? IS NULL OR state = ?) "
            "ORDER BY created_at, id",
            (session_id, session_id, state, state),
        ).fetchall()
    return [_proposal(row) for row in rows]


def proposal(space: Space, proposal_id: str) -> Proposal:
    with space.reading() as conn:
        row = conn.execute(
            f"SELECT {_PROPOSAL_COLUMNS} FROM proposals WHERE id = ?", (proposal_id,)
        ).fetchone()
    if row is None:
        raise NotFoundError(f"there is no proposal {proposal_id}")
    return _proposal(row)


def replica_host(space: Space) -> str | None:
    """Who shares the space this is a copy of (None: not a replica)."""
    if not space.is_replica:
        return None
    with space.reading() as conn:
        row = conn.execute("SELECT value FROM sync_state WHERE key = 'replica_of'").fetchone()
    return str(row[0]) if row is not None else "its host"


def rules(space: Space) -> dict[str, str]:
    """The space's rules for the assistant: ``allow:TOOL`` → "1", ``cap_usd`` → dollars."""
    with space.reading() as conn:
        return {k: v for k, v in conn.execute("SELECT key, value FROM assistant_rules")}


def spent_usd(space: Space) -> float:
    """What the assistant's applied generation proposals were estimated to cost."""
    with space.reading() as conn:
        return float(
            conn.execute(
                "SELECT COALESCE(SUM(cost_usd), 0) FROM proposals WHERE state = 'applied'"
            ).fetchone()[0]
        )


def summary(space: Space, *, top: int = 12, failures: int = 5) -> SpaceSummary:
    """Counts first: what the assistant is told about a space of any size."""
    with space.reading() as conn:
        began = not conn.in_transaction
        if began:
            conn.execute("BEGIN")  # one consistent read
        try:
            live = "FROM assets WHERE deleted_at IS NULL"
            assets = conn.execute(f"SELECT COUNT(*) {live}").fetchone()[0]
            variants = conn.execute(
                "SELECT COUNT(*) FROM variants v JOIN assets a ON a.id = v.asset_id "
                "WHERE v.deleted_at IS NULL AND a.deleted_at IS NULL"
            ).fetchone()[0]
            by_kind = conn.execute(
                f"SELECT media_kind, COUNT(*) {live} GROUP BY media_kind ORDER BY 2 DESC, 1"
            ).fetchall()
            by_type = conn.execute(
                f"SELECT type, COUNT(*) {live} AND type != '' GROUP BY type "
                "ORDER BY 2 DESC, 1 LIMIT ?",
                (top,),
            ).fetchall()
            tags = conn.execute(
                "SELECT t.value, COUNT(*) FROM assets a, json_each(a.tags) t "
                "WHERE a.deleted_at IS NULL GROUP BY t.value ORDER BY 2 DESC, 1 LIMIT ?",
                (top,),
            ).fetchall()
            by_status = conn.execute(
                "SELECT v.status, COUNT(*) FROM variants v JOIN assets a ON a.id = v.asset_id "
                "WHERE v.deleted_at IS NULL AND a.deleted_at IS NULL "
                "GROUP BY v.status ORDER BY 2 DESC, 1"
            ).fetchall()
            colls = conn.execute(
                "SELECT c.id, c.name, (SELECT COUNT(*) FROM collection_items i "
                "WHERE i.collection_id = c.id) FROM collections c WHERE c.deleted_at IS NULL "
                "ORDER BY c.position, c.created_at LIMIT ?",
                (top,),
            ).fetchall()
            styles = conn.execute(
                "SELECT id, name FROM style_presets WHERE deleted_at IS NULL ORDER BY name LIMIT ?",
                (top,),
            ).fetchall()
            frames = conn.execute(
                "SELECT COUNT(*) FROM frames WHERE deleted_at IS NULL"
            ).fetchone()[0]
            failed = conn.execute(
                "SELECT v.id, a.id, a.name, COALESCE(v.error_code, ''), "
                "COALESCE(v.error_message, ''), v.updated_at "
                "FROM variants v JOIN assets a ON a.id = v.asset_id "
                "WHERE v.status = 'failed' AND v.deleted_at IS NULL AND a.deleted_at IS NULL "
                "ORDER BY v.updated_at DESC, v.id DESC LIMIT ?",
                (failures,),
            ).fetchall()
        finally:
            if began and conn.in_transaction:
                conn.execute("COMMIT")
    return SpaceSummary(
        assets,
        variants,
        tuple((str(k), int(n)) for k, n in by_kind),
        tuple((str(k), int(n)) for k, n in by_type),
        tuple((str(k), int(n)) for k, n in tags),
        tuple((str(k), int(n)) for k, n in by_status),
        tuple((str(i), str(n), int(k)) for i, n, k in colls),
        tuple((str(i), str(n)) for i, n in styles),
        int(frames),
        tuple(Failure(*row) for row in failed),
    )
