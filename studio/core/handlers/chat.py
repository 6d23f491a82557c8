"""Handlers of the assistant's commands (see :mod:`studio.core.chat_commands`).

The approval rule lives here, in the door: ``proposal:run`` applies a proposal's
commands only when a person's approval of it is recorded, once, within the space's
spending cap; the commands a proposal may hold are a fixed list of ordinary, undoable
user commands.
"""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from studio.core import chat_commands as cc
from studio.core import commands as c
from studio.core.actor import Role
from studio.core.errors import (
    ConflictError,
    InvalidStateError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from studio.core.handlers.common import clean_text, fresh_id, update_row
from studio.core.handlers.generate import estimate
from studio.core.limits import shown
from studio.core.tx import Tx

Inverse = tuple[c.Command, ...]

_DISPATCH: dict[type[c.Command], Callable[[Tx, Any], Inverse]] = {}
"""The command → handler table ``proposal:run`` applies a proposal's commands with (the
package's own table, given by :func:`use_handlers`: it lists this module's handlers)."""


def use_handlers(table: Mapping[type[c.Command], Callable[[Tx, Any], Inverse]]) -> None:
    _DISPATCH.clear()
    _DISPATCH.update(table)


PROPOSABLE: frozenset[str] = frozenset(
    {
        "asset:update",
        "asset:reparent",
        "asset:move",
        "asset:set-active",
        "variant:star",
        "variant:rate",
        "variant:fork",
        "variant:regenerate",
        "collection:create",
        "collection:item-add",
        "frame:create",
        "frame:update",
        "style:create",
        "style:update",
        "generate:request",
        "refine:request",
        "batch:request",
    }
)
"""The commands a proposal may hold: ordinary user steps, each undoable."""

GENERATION: frozenset[str] = frozenset({"generate:request", "refine:request", "batch:request"})
"""Proposals holding these cost money: estimated, and held to the spending cap."""

MAX_PROPOSAL_COMMANDS = 50
ROLES = ("user", "assistant")
BLOCK_TYPES = frozenset({"text", "tool_use", "tool_result", "variant_image"})
CAP_KEY = "cap_usd"
_TOOL = re.compile(r"[a-z][a-z0-9_]{0,63}")


def allow_key(tool: str) -> str:
    return f"allow:{tool}"


# --------------------------------------------------------------------------- sessions


def create_session(tx: Tx, cmd: cc.CreateChatSession) -> Inverse:
    title = clean_text(cmd.title, "chat title", required=False) or "New chat"
    sid = fresh_id(tx, "chat_sessions", cmd.session_id)
    tx.conn.execute(
        "INSERT INTO chat_sessions (id, title, created_by, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (sid, title, tx.actor.id, tx.now, tx.now),
    )
    tx.created["session_id"] = sid
    _emit_session(tx, sid)
    return ()  # a new empty chat is no step to undo


def rename_session(tx: Tx, cmd: cc.RenameChatSession) -> Inverse:
    row = tx.row("chat_sessions", cmd.session_id, "chat")
    update_row(tx, "chat_sessions", cmd.session_id, {"title": clean_text(cmd.title, "chat title")})
    _emit_session(tx, cmd.session_id)
    return (cc.RenameChatSession(cmd.session_id, row["title"]),)


def delete_session(tx: Tx, cmd: cc.DeleteChatSession) -> Inverse:
    tx.row("chat_sessions", cmd.session_id, "chat")
    tx.conn.execute(
        "UPDATE chat_sessions SET deleted_at = ?, updated_at = ? WHERE id = ?",
        (tx.now, tx.now, cmd.session_id),
    )
    tx.emit("chat:session-deleted", {"id": cmd.session_id})
    return (cc.RestoreChatSession(cmd.session_id),)


def restore_session(tx: Tx, cmd: cc.RestoreChatSession) -> Inverse:
    row = tx.row("chat_sessions", cmd.session_id, "chat", live=False)
    if row["deleted_at"] is None:
        raise InvalidStateError(f"the chat {cmd.session_id} is not deleted")
    tx.conn.execute(
        "UPDATE chat_sessions SET deleted_at = NULL, updated_at = ? WHERE id = ?",
        (tx.now, cmd.session_id),
    )
    _emit_session(tx, cmd.session_id)
    return (cc.DeleteChatSession(cmd.session_id),)


def add_message(tx: Tx, cmd: cc.AddChatMessage) -> Inverse:
    tx.row("chat_sessions", cmd.session_id, "chat")
    if cmd.role not in ROLES:
        raise ValidationError("a chat message's role is user or assistant")
    if not cmd.blocks:
        raise ValidationError("a chat message needs at least one block")
    for block in cmd.blocks:
        if block.get("type") not in BLOCK_TYPES:
            raise ValidationError(
                f"a chat message block's type is one of: {', '.join(sorted(BLOCK_TYPES))}"
            )
    mid = fresh_id(tx, "chat_messages", cmd.message_id)
    position = tx.scalar(
        "SELECT COALESCE(MAX(position) + 1, 0) FROM chat_messages WHERE session_id = ?",
        (cmd.session_id,),
    )
    tx.conn.execute(
        "INSERT INTO chat_messages (id, session_id, position, role, blocks, author_id, model, "
        "usage, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            mid,
            cmd.session_id,
            position,
            cmd.role,
            json.dumps(list(cmd.blocks), ensure_ascii=False),
            tx.actor.id,
            cmd.model,
            json.dumps(dict(cmd.usage)),
            tx.now,
        ),
    )
    tx.conn.execute(
        "UPDATE chat_sessions SET updated_at = ? WHERE id = ?", (tx.now, cmd.session_id)
    )
    tx.created["message_id"] = mid
    tx.emit(
        "chat:message-added",
        {"id": mid, "session_id": cmd.session_id, "position": position, "role": cmd.role},
    )
    return ()  # the chat's record: not undone with the user's steps


def _emit_session(tx: Tx, sid: str) -> None:
    row = tx.one(
        "SELECT id, title, created_by, created_at, updated_at FROM chat_sessions WHERE id = ?",
        (sid,),
    )
    assert row is not None
    tx.emit("chat:session-updated", dict(row))


# --------------------------------------------------------------------------- proposals


def parse_commands(raw: Sequence[Mapping[str, Any]]) -> list[c.Command]:
    """The commands of a proposal, each checked like any command, and each one of the
    kinds a proposal may hold."""
    if not raw:
        raise ValidationError("a proposal needs at least one command")
    if len(raw) > MAX_PROPOSAL_COMMANDS:
        raise ValidationError(
            f"a proposal holds at most {MAX_PROPOSAL_COMMANDS} commands; {len(raw)} were given"
        )
    out: list[c.Command] = []
    for obj in raw:
        cmd = c.command_from_json(obj)
        if isinstance(cmd, cc.FillTray):
            if len(raw) != 1:
                raise ValidationError("a proposal to fill the forge tray holds nothing else")
        elif cmd.kind not in PROPOSABLE or cmd.internal:
            raise PermissionDeniedError(f"the assistant can't propose {shown(cmd.kind)}")
        out.append(cmd)
    return out


def fills_tray(cmds: Sequence[c.Command]) -> bool:
    return any(isinstance(x, cc.FillTray) for x in cmds)


def _check_tray(tx: Tx, fill: cc.FillTray) -> None:
    """What a tray fill names exists now (it is checked again when the app fills it)."""
    if fill.mode is not None and fill.mode not in cc.TRAY_MODES:
        raise ValidationError(f"the tray's mode is one of: {', '.join(cc.TRAY_MODES)}")
    if not (fill.prompt.strip() or fill.references or fill.recipe_variant_id or fill.mode):
        raise ValidationError("a tray fill needs a prompt, references, a recipe or a mode")
    for vid in (*fill.references, *filter(None, [fill.recipe_variant_id])):
        tx.row("variants", vid, "variant")
    if fill.destination_asset_id is not None:
        tx.row("assets", fill.destination_asset_id, "asset")


def fill_tray(tx: Tx, cmd: cc.FillTray) -> Inverse:
    """Never a step of its own: the tray is the app's window, not the space."""
    raise PermissionDeniedError(
        "assistant:fill-tray fills the app's forge tray, not the space: it only comes "
        "inside an assistant's proposal, approved in the app"
    )


def _cost(tx: Tx, cmds: Sequence[c.Command]) -> float | None:
    """The estimated cost of a proposal's generation requests (None: it has none)."""
    costly = [cmd for cmd in cmds if cmd.kind in GENERATION]
    if not costly:
        return None
    return round(sum(estimate(tx, cmd).usd for cmd in costly), 6)


def _cap(tx: Tx) -> float | None:
    value = tx.scalar("SELECT value FROM assistant_rules WHERE key = ?", (CAP_KEY,))
    return None if value is None else float(value)


def _check_cap(tx: Tx, cost: float | None, *, exclude: str | None = None) -> None:
    cap = _cap(tx)
    if cost is None or cap is None:
        return
    spent = float(
        tx.scalar(
            "SELECT COALESCE(SUM(cost_usd), 0) FROM proposals "
            "WHERE state = 'applied' AND id IS NOT ?",
            (exclude,),
        )
    )
    if spent + cost > cap + 1e-9:
        raise PermissionDeniedError(
            f"this would cost about ${cost:.2f}, bringing the assistant's spending in this "
            f"space to ${spent + cost:.2f}, over its cap of ${cap:.2f}"
        )


def create_proposal(tx: Tx, cmd: cc.CreateProposal) -> Inverse:
    tx.row("chat_sessions", cmd.session_id, "chat")
    if not _TOOL.fullmatch(cmd.tool):
        raise ValidationError("a proposal's tool is a short lower-case name, e.g. rename_asset")
    cmds = parse_commands(cmd.commands)
    if fills_tray(cmds) != (cmd.tool == cc.TRAY_TOOL):
        raise ValidationError(f"a proposal fills the forge tray exactly when it is {cc.TRAY_TOOL}")
    for fill in cmds:
        if isinstance(fill, cc.FillTray):
            _check_tray(tx, fill)
    cost = _cost(tx, cmds)
    _check_cap(tx, cost)
    pid = fresh_id(tx, "proposals", cmd.proposal_id)
    summary = clean_text(cmd.summary, "proposal summary", max_len=2000, required=False)
    who = tx.actor.id.removeprefix("assistant:")
    tx.conn.execute(
        "INSERT INTO proposals (id, session_id, tool, summary, commands, cost_usd, state, "
        "proposed_for, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
        (
            pid,
            cmd.session_id,
            cmd.tool,
            summary,
            json.dumps([c.command_to_json(x) for x in cmds], ensure_ascii=False),
            cost,
            who,
            tx.now,
            tx.now,
        ),
    )
    tx.created["proposal_id"] = pid
    _emit_proposal(tx, pid)
    return ()


def _proposal(tx: Tx, pid: str) -> sqlite3.Row:
    row = tx.one("SELECT * FROM proposals WHERE id = ?", (pid,))
    if row is None:
        raise NotFoundError(f"there is no proposal {pid}")
    return row


def approve_proposal(tx: Tx, cmd: cc.ApproveProposal) -> Inverse:
    row = _proposal(tx, cmd.proposal_id)
    if row["state"] != "pending":
        raise InvalidStateError(f"the proposal {cmd.proposal_id} is {row['state']}, not pending")
    if cmd.standing:
        rule = tx.scalar(
            "SELECT value FROM assistant_rules WHERE key = ?", (allow_key(row["tool"]),)
        )
        if rule != "1":
            raise PermissionDeniedError(
                f"this space does not always allow {row['tool']}: approve it yourself"
            )
    sets: dict[str, object] = {
        "state": "approved",
        "decided_by": tx.actor.id,
        "decided_at": tx.now,
        "standing": int(cmd.standing),
    }
    if cmd.commands is not None:  # the person's edited version
        cmds = parse_commands(cmd.commands)
        cost = _cost(tx, cmds)
        kept = fills_tray(cmds) == (row["tool"] == cc.TRAY_TOOL)
        if (cost is None) != (row["cost_usd"] is None) or not kept:
            raise ValidationError("an edit keeps the kind of the proposal's action")
        for fill in cmds:
            if isinstance(fill, cc.FillTray):
                _check_tray(tx, fill)
        _check_cap(tx, cost)
        sets["commands"] = json.dumps([c.command_to_json(x) for x in cmds], ensure_ascii=False)
        sets["cost_usd"] = cost
    update_row(tx, "proposals", cmd.proposal_id, sets)
    _emit_proposal(tx, cmd.proposal_id)
    return ()


def reject_proposal(tx: Tx, cmd: cc.RejectProposal) -> Inverse:
    row = _proposal(tx, cmd.proposal_id)
    if row["state"] not in ("pending", "approved"):
        raise InvalidStateError(f"the proposal {cmd.proposal_id} is {row['state']} already")
    clean_text(cmd.reason, "reason", max_len=2000, required=False)
    update_row(
        tx,
        "proposals",
        cmd.proposal_id,
        {"state": "rejected", "decided_by": tx.actor.id, "decided_at": tx.now},
    )
    _emit_proposal(tx, cmd.proposal_id)
    return ()


def run_proposal(tx: Tx, cmd: cc.RunProposal) -> Inverse:
    """The only way a proposal's commands reach the space: refused without a recorded
    approval, after a rejection, a second time, or over the spending cap."""
    row = _proposal(tx, cmd.proposal_id)
    if row["state"] == "applied":
        raise ConflictError(f"the proposal {cmd.proposal_id} was applied already")
    if row["state"] != "approved" or not row["decided_by"]:
        raise PermissionDeniedError(
            f"the proposal {cmd.proposal_id} has no recorded approval ({row['state']}): "
            "a person must approve it first"
        )
    cmds = parse_commands(json.loads(row["commands"]))
    _check_cap(tx, row["cost_usd"], exclude=cmd.proposal_id)
    inverses: list[Inverse] = []
    for inner in cmds:
        if isinstance(inner, cc.FillTray):  # the app fills its tray once this is recorded
            continue
        inverses.append(_DISPATCH[type(inner)](tx, inner))
    update_row(tx, "proposals", cmd.proposal_id, {"state": "applied"})
    _emit_proposal(tx, cmd.proposal_id)
    return tuple(x for inv in reversed(inverses) for x in inv)


def _emit_proposal(tx: Tx, pid: str) -> None:
    row = _proposal(tx, pid)
    data = {k: row[k] for k in row.keys() if k != "commands"}  # noqa: SIM118 (a Row)
    tx.emit("proposal:updated", data)


# --------------------------------------------------------------------------- rules


def _owner_only(tx: Tx) -> None:
    if tx.actor.role is not Role.OWNER:
        raise PermissionDeniedError("only the space's owner sets the assistant's rules")


def allow_tool(tx: Tx, cmd: cc.AllowAssistantTool) -> Inverse:
    _owner_only(tx)
    if not _TOOL.fullmatch(cmd.tool):
        raise ValidationError("a tool is a short lower-case name, e.g. rename_asset")
    before = tx.scalar("SELECT value FROM assistant_rules WHERE key = ?", (allow_key(cmd.tool),))
    _set_rule(tx, allow_key(cmd.tool), "1" if cmd.allowed else None)
    tx.emit("assistant:rules", {"key": allow_key(cmd.tool), "value": "1" if cmd.allowed else None})
    return (cc.AllowAssistantTool(cmd.tool, before == "1"),)


def set_cap(tx: Tx, cmd: cc.SetAssistantCap) -> Inverse:
    _owner_only(tx)
    if cmd.usd is not None and not 0 <= cmd.usd <= 1_000_000:
        raise ValidationError("the spending cap is from $0 to $1,000,000")
    before = _cap(tx)
    value = None if cmd.usd is None else repr(float(cmd.usd))
    _set_rule(tx, CAP_KEY, value)
    tx.emit("assistant:rules", {"key": CAP_KEY, "value": value})
    return (cc.SetAssistantCap(before),)


def _set_rule(tx: Tx, key: str, value: str | None) -> None:
    # replicated table: UPDATE then INSERT (never UPSERT, see the store's schema notes)
    if value is None:
        tx.conn.execute("DELETE FROM assistant_rules WHERE key = ?", (key,))
        return
    cur = tx.conn.execute(
        "UPDATE assistant_rules SET value = ?, set_by = ?, updated_at = ? WHERE key = ?",
        (value, tx.actor.id, tx.now, key),
    )
    if cur.rowcount == 0:
        tx.conn.execute(
            "INSERT INTO assistant_rules (key, value, set_by, updated_at) VALUES (?, ?, ?, ?)",
            (key, value, tx.actor.id, tx.now),
        )
