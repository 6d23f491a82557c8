"""One chat turn with the tool loop, its history kept in the space through the door.

The person's message is recorded as theirs; Claude's turns, tool results and proposals
as the assistant's (``Actor.assistant(person)``), an actor the door lets record those
and nothing else. A proposal runs only by :func:`approve` — the person's own step.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from studio.assistant import actions, context, tools, vision
from studio.assistant.client import ClaudeClient
from studio.assistant.models import MAX_IMAGES_PER_REQUEST, MAX_TOOL_ROUNDS
from studio.core import chat_commands as cc
from studio.core import chat_reads
from studio.core.actor import Actor
from studio.core.commands import command_to_json
from studio.core.errors import InvalidStateError, PermissionDeniedError, StudioError
from studio.core.space import AppliedStep, Space
from workers.redaction import redact

TITLE_WORDS = 8


class NeedsTheAppError(InvalidStateError):
    """A proposal only the app can carry out (it fills the app's forge tray)."""


class ChatOnReplicaError(PermissionDeniedError):
    """A joined space's chat runs on its host, with the host's key."""


def refuse_on_replica(space: Space) -> None:
    """Chatting on a copy of a shared space is refused in one sentence: the host runs
    the assistant (its key, its jobs); its chats reach the copy read-only."""
    if chat_reads.replica_host(space) is not None:
        raise ChatOnReplicaError(
            f"the assistant runs on the host that shares {space.slug}, with the host's "
            f"key: chat there; its chats show here as they happen (`studio chats "
            f"{space.slug}`)"
        )


@dataclass(frozen=True, slots=True)
class ChatReply:
    session_id: str
    text: str
    proposals: tuple[chat_reads.Proposal, ...]
    stopped: bool
    rounds: int


def approve(
    space: Space,
    person: Actor,
    proposal_id: str,
    *,
    commands: Sequence[Mapping[str, Any]] | None = None,
    standing: bool = False,
) -> AppliedStep:
    """Approve a proposal and run it, as one undoable step of ``person``'s. A proposal
    for the app's forge tray is refused here, unchanged: only the app has a tray."""
    p = chat_reads.proposal(space, proposal_id)
    if p.tool in tools.APP_TOOLS:
        raise NeedsTheAppError(
            f"proposal {proposal_id} fills the forge tray, which only the app has: open "
            "Forge Studio and approve it on its card in the Assistant dock"
        )
    edited = None if commands is None else tuple(commands)
    return space.apply_step(
        [cc.ApproveProposal(proposal_id, edited, standing), cc.RunProposal(proposal_id)],
        person,
        label=f"via assistant: {p.summary or p.tool}"[:200],
    )


def reject(space: Space, person: Actor, proposal_id: str, reason: str = "") -> None:
    space.apply(cc.RejectProposal(proposal_id, reason), person)


def always_allow(space: Space, person: Actor, tool: str, allowed: bool = True) -> None:
    space.apply(cc.AllowAssistantTool(tool, allowed), person)


class Chat:
    """The assistant in one space for one person."""

    def __init__(
        self,
        space: Space,
        person: Actor,
        client: ClaudeClient,
        *,
        space_name: str = "",
        actor_mode: bool = False,
        approve_safe: bool = False,
    ) -> None:
        self.space = space
        self.person = person
        self.me = Actor.assistant(person)
        self.client = client
        self.space_name = space_name or space.slug
        self.actor_mode = actor_mode
        self.approve_safe = approve_safe
        self._session = ""  # the chat the current send records into

    def new_session(self, title: str = "") -> str:
        refuse_on_replica(self.space)
        applied = self.space.apply(cc.CreateChatSession(title), self.person)
        return applied.created["session_id"]

    def send(
        self,
        text: str,
        *,
        session_id: str | None = None,
        attach: Sequence[str] = (),
        on_text: Callable[[str], None] | None = None,
        stop: threading.Event | None = None,
    ) -> ChatReply:
        """Send ``text`` (with variants to look at) and run the tool loop until Claude
        answers in words, is stopped, or :data:`MAX_TOOL_ROUNDS` tool rounds pass."""
        refuse_on_replica(self.space)
        if session_id is None:
            session_id = self.new_session(" ".join(text.split()[:TITLE_WORDS]))
        else:
            chat_reads.session(self.space, session_id)  # NotFoundError if gone
        self._session = session_id
        blocks: list[dict[str, Any]] = [{"type": "text", "text": text}]
        blocks += [{"type": "variant_image", "variant_id": vid} for vid in attach]
        self._record("user", blocks, self.person)
        return self._loop(session_id, on_text, stop)

    def _record(
        self, role: str, blocks: Sequence[Mapping[str, Any]], actor: Actor, **extra: Any
    ) -> None:
        """Record a turn; any API key in it (a model echoing one) is redacted first."""
        clean = tuple(_redacted(dict(b)) for b in blocks)
        self.space.apply(cc.AddChatMessage(self._session, role, clean, **extra), actor)

    def _loop(
        self,
        session_id: str,
        on_text: Callable[[str], None] | None,
        stop: threading.Event | None,
    ) -> ChatReply:
        before = {p.id for p in chat_reads.proposals(self.space, session_id=session_id)}
        texts: list[str] = []
        rounds = 0
        stopped = False
        tool_defs = context.tool_list(self.actor_mode)
        if on_text is not None:
            shown = on_text
            on_text = lambda text: shown(redact(text))  # noqa: E731 (no key on screen)
        while True:
            system = context.system_blocks(self.space, self.space_name, self.actor_mode)
            history = chat_reads.messages(self.space, session_id)
            result = self.client.turn(
                system=system,
                tools=tool_defs,
                messages=api_messages(self.space, history),
                on_text=on_text,
                stop=stop,
            )
            if result.blocks:
                self._record(
                    "assistant",
                    result.blocks,
                    self.me,
                    model=result.model[:128],
                    usage=dict(result.usage),
                )
            texts.append(redact(result.text))
            if result.stop_reason == "stopped":
                stopped = True
                break
            if result.stop_reason != "tool_use" or not result.tool_uses:
                break
            rounds += 1
            answers = [self._answer(session_id, use) for use in result.tool_uses]
            self._record("user", answers, self.me)
            if rounds >= MAX_TOOL_ROUNDS or (stop is not None and stop.is_set()):
                stopped = stop is not None and stop.is_set()
                break
        made = tuple(
            p for p in chat_reads.proposals(self.space, session_id=session_id) if p.id not in before
        )
        return ChatReply(session_id, "".join(texts), made, stopped, rounds)

    def _answer(self, session_id: str, use: Mapping[str, Any]) -> dict[str, Any]:
        """Run one tool call: a read at once, an action as a proposal."""
        name, args = str(use.get("name")), use.get("input") or {}
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": use["id"]}
        if not isinstance(args, Mapping):
            return {**result, "content": "the tool input must be an object", "is_error": True}
        if name == "look_at":
            raw = args.get("variant_ids")
            ids = [str(v) for v in raw][:4] if isinstance(raw, list) else []
            content: list[dict[str, Any]] = [
                {"type": "variant_image", "variant_id": vid} for vid in ids
            ]
            return {**result, "content": content or "no variant_ids given"}
        if name in tools.READERS:
            return {**result, "content": tools.read(self.space, name, args)}
        if name not in tools.ACTION_NAMES or not self.actor_mode:
            return {**result, "content": f"there is no tool {name!r} here", "is_error": True}
        try:
            return {**result, "content": self._propose(session_id, name, args)}
        except StudioError as exc:
            return {**result, "content": f"not proposed: {exc.message}", "is_error": True}

    def _propose(self, session_id: str, name: str, args: Mapping[str, Any]) -> str:
        act = actions.action(self.space, name, args)
        made = self.space.apply(
            cc.CreateProposal(
                session_id,
                act.tool,
                tuple(command_to_json(x) for x in act.commands),
                act.summary,
            ),
            self.me,
        )
        pid = made.created["proposal_id"]
        allowed = chat_reads.rules(self.space).get(f"allow:{name}") == "1"
        if name in tools.APP_TOOLS:
            return f"proposal {pid} ({act.summary}) waits for the person's approval in the app"
        if allowed or (self.approve_safe and name in tools.SAFE_TOOLS):
            approve(self.space, self.person, pid, standing=allowed)
            return f"proposal {pid} ({act.summary}) was approved and applied"
        cost = chat_reads.proposal(self.space, pid).cost_usd
        priced = f", estimated cost ${cost:.2f}" if cost is not None else ""
        return f"proposal {pid} ({act.summary}{priced}) waits for the person's approval"


def _redacted(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redacted(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redacted(v) for v in value]
    return value


# --------------------------------------------------------------------------- history


def api_messages(space: Space, history: Sequence[chat_reads.ChatMessage]) -> list[dict[str, Any]]:
    """The stored chat as the Messages API takes it: roles alternating from a user turn,
    every tool_use answered in the next turn (an unanswered one — a stopped or failed
    run — is dropped), variants expanded into pictures (the latest
    :data:`MAX_IMAGES_PER_REQUEST` only; older ones as a line of text)."""
    turns = [(m.role, [dict(b) for b in m.blocks]) for m in history]
    # tool_use blocks need their tool_result right after; drop either side left alone
    for i, (role, blocks) in enumerate(turns):
        if role != "assistant":
            continue
        nxt = turns[i + 1][1] if i + 1 < len(turns) and turns[i + 1][0] == "user" else []
        answered = {b.get("tool_use_id") for b in nxt if b.get("type") == "tool_result"}
        blocks[:] = [b for b in blocks if b.get("type") != "tool_use" or b.get("id") in answered]
    asked: set[str] = set()
    for role, blocks in turns:
        if role == "user":
            blocks[:] = [
                b for b in blocks if b.get("type") != "tool_result" or b.get("tool_use_id") in asked
            ]
        asked = {str(b.get("id")) for b in blocks if b.get("type") == "tool_use"}
    merged: list[tuple[str, list[dict[str, Any]]]] = []
    for role, blocks in turns:
        if not blocks:
            continue
        if merged and merged[-1][0] == role:
            merged[-1][1].extend(blocks)
        else:
            merged.append((role, blocks))
    while merged and merged[0][0] != "user":
        merged.pop(0)
    budget = _image_budget(merged)
    return [
        {"role": role, "content": [x for b in blocks for x in _expand(space, b, budget)]}
        for role, blocks in merged
    ]


def _image_budget(merged: list[tuple[str, list[dict[str, Any]]]]) -> set[int]:
    """Which variant_image blocks (by id()) are sent as pictures: the newest ones."""
    found: list[int] = []
    for _role, blocks in merged:
        for b in blocks:
            inner = b.get("content") if b.get("type") == "tool_result" else None
            for x in [b, *(inner if isinstance(inner, list) else [])]:
                if x.get("type") == "variant_image":
                    found.append(id(x))
    return set(found[-(MAX_IMAGES_PER_REQUEST // 2) :]) if found else set()


def _expand(space: Space, block: dict[str, Any], budget: set[int]) -> list[dict[str, Any]]:
    if block.get("type") == "tool_result" and isinstance(block.get("content"), list):
        content = [x for inner in block["content"] for x in _expand_image(space, inner, budget)]
        return [{**block, "content": content}]
    return _expand_image(space, block, budget)


def _expand_image(space: Space, block: dict[str, Any], budget: set[int]) -> list[dict[str, Any]]:
    if block.get("type") != "variant_image":
        return [block]
    vid = str(block.get("variant_id"))
    if id(block) not in budget:
        return [{"type": "text", "text": f"(variant {vid} was shown earlier)"}]
    try:
        return vision.blocks_for(space, vid)
    except StudioError as exc:
        return [{"type": "text", "text": f"variant {vid}: {exc.message}"}]
