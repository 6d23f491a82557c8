"""The assistant's commands: chat sessions and messages, proposals and their approval,
and the space's rules for the assistant (``always allow``, the spending cap).

A *proposal* holds the exact commands the assistant wants applied. They run only
through ``proposal:run``, which the door refuses unless a person's approval of that
proposal is recorded (``proposal:approve``); the assistant's own actor may record
messages and proposals, nothing else (see :func:`assistant_may_apply`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.core.commands import Command, command

# --------------------------------------------------------------------------- sessions


@command("chat:session-create")
@dataclass(frozen=True, slots=True)
class CreateChatSession(Command):
    title: str = ""
    session_id: str | None = None


@command("chat:session-rename")
@dataclass(frozen=True, slots=True)
class RenameChatSession(Command):
    session_id: str
    title: str


@command("chat:session-delete")
@dataclass(frozen=True, slots=True)
class DeleteChatSession(Command):
    session_id: str


@command("chat:session-restore")
@dataclass(frozen=True, slots=True)
class RestoreChatSession(Command):
    session_id: str


@command("chat:message-add")
@dataclass(frozen=True, slots=True)
class AddChatMessage(Command):
    """One turn of a chat: ``blocks`` in the Messages API's content-block shape (text,
    tool_use, tool_result; an image is stored as ``{"type": "variant_image",
    "variant_id": …}`` and sent as pixels only when the turn goes out)."""

    session_id: str
    role: str
    blocks: tuple[Mapping[str, Any], ...]
    model: str = ""
    usage: Mapping[str, Any] = field(default_factory=dict)
    message_id: str | None = None


# --------------------------------------------------------------------------- proposals


@command("proposal:create")
@dataclass(frozen=True, slots=True)
class CreateProposal(Command):
    """The assistant proposes ``commands`` (JSON commands, applied as one step once
    approved). ``tool`` is the kind of action ("rename_asset", "generate"…): what an
    "always allow" rule names. The cost is estimated by the core, never taken from the
    assistant."""

    session_id: str
    tool: str
    commands: tuple[Mapping[str, Any], ...]
    summary: str = ""
    proposal_id: str | None = None


@command("proposal:approve")
@dataclass(frozen=True, slots=True)
class ApproveProposal(Command):
    """A person approves a pending proposal (``commands``: their edited version of it,
    same tool). ``standing``: approved by the space's "always allow" rule for its tool,
    which must exist."""

    proposal_id: str
    commands: tuple[Mapping[str, Any], ...] | None = None
    standing: bool = False


@command("proposal:reject")
@dataclass(frozen=True, slots=True)
class RejectProposal(Command):
    proposal_id: str
    reason: str = ""


@command("proposal:run")
@dataclass(frozen=True, slots=True)
class RunProposal(Command):
    """Apply an approved proposal's commands (once), as the step of whoever runs it:
    undoable like any of their steps, labelled "via assistant"."""

    proposal_id: str


# --------------------------------------------------------------------------- the tray

TRAY_MODES: tuple[str, ...] = ("image", "video", "speech", "dialogue", "music", "sfx")
"""The forge tray's modes (the app's ``studio.ui.tray.state.MODES``)."""


@command("assistant:fill-tray")
@dataclass(frozen=True, slots=True)
class FillTray(Command):
    """What the assistant proposes to put in the app's forge tray: a variant's recipe to
    start from, then a mode, a prompt, references (exact variants) and a destination
    asset (a refine). The tray is the app's window, not the space: this command only
    travels inside a proposal (``add_to_tray``) and changes nothing in the space when
    that proposal runs; the app fills its tray once the person approved it there."""

    prompt: str = ""
    mode: str | None = None
    references: tuple[str, ...] = ()
    recipe_variant_id: str | None = None
    destination_asset_id: str | None = None


TRAY_TOOL = "add_to_tray"
"""The proposal kind that holds one :class:`FillTray`."""


# --------------------------------------------------------------------------- rules


@command("assistant:allow")
@dataclass(frozen=True, slots=True)
class AllowAssistantTool(Command):
    """Always (or no longer) run the assistant's proposals of ``tool`` without asking."""

    tool: str
    allowed: bool = True


@command("assistant:cap")
@dataclass(frozen=True, slots=True)
class SetAssistantCap(Command):
    """The most the assistant's generation proposals may spend in this space, in US
    dollars (None: no cap)."""

    usd: float | None = None


ASSISTANT_COMMANDS: frozenset[type[Command]] = frozenset({AddChatMessage, CreateProposal})
"""All the assistant's own actor may apply."""


def assistant_may_apply(cmd: Command) -> bool:
    return type(cmd) in ASSISTANT_COMMANDS
