"""A joined space's edits that have not reached the host yet, and those it refused.

While offline each step waits in the link's outbox: the cards it changes carry a small
clock (``CanvasContext.pending``, drawn by the card) and the banner counts the edits.
When the host refuses a step — sent live, or from the outbox on reconnect — the window
lists each with the host's reason, and the cards it moved go back to where the replica
(the host's state) has them: a refused drop does not stay where it was let go."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject

from studio.core.commands import Command, command_to_json
from studio.sync.link import LinkState, Refused, assets_of
from studio.sync.peer import Delivery

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController

MAX_LISTED = 12


def _names(ids: Iterable[str], name_of: Callable[[str], str]) -> str:
    got = sorted(f"“{name_of(a)}”" for a in ids)
    if len(got) > 3:
        got = [*got[:2], f"{len(got) - 2} more"]
    return got[0] if len(got) == 1 else f"{', '.join(got[:-1])} and {got[-1]}"


def describe(commands: Sequence[dict[str, Any]], name_of: Callable[[str], str]) -> str:
    """A step in words, from its commands' JSON: "Rename “Hero” to “Knight”"."""
    parts = []
    for cmd in commands[:3]:
        kind = str(cmd.get("command") or "change")
        ids = assets_of([cmd])
        names = _names(ids, name_of) if ids else ""
        if kind == "asset:update" and isinstance(cmd.get("name"), str):
            parts.append(f"rename {names} to “{cmd['name']}”")
        elif kind == "asset:update":
            parts.append(f"edit {names}")
        elif kind == "asset:move":
            parts.append(f"move {names}")
        else:
            verb = kind.replace(":", " ").replace("-", " ")
            parts.append(f"{verb} {names}".strip())
    if len(commands) > 3:
        parts.append(f"{len(commands) - 3} more")
    text = ", ".join(parts) or "a change"
    return text[:1].upper() + text[1:]


class PendingView(QObject):
    def __init__(self, sharing: SharingController) -> None:
        super().__init__(sharing)
        self._sharing = sharing
        self.refusals: list[str] = []
        """The latest refusals as listed to the user (one line each)."""

    def _name(self, asset_id: str) -> str:
        row = self._sharing.win.scene.asset_row(asset_id)
        return row.name if row is not None else "a deleted asset"

    def show_state(self, state: LinkState | None) -> None:
        """The outbox changed: its steps shown over the replica, their cards marked."""
        self._sharing.optimistic.outbox(state)

    def refused(self, deliveries: list[Delivery]) -> None:
        """Steps sent from the outbox that the host refused: listed with its reasons;
        their cards go back to the replica's state."""
        lines: list[str] = []
        ids: set[str] = set()
        for d in deliveries:
            if d.error is None:
                continue
            commands = d.commands if isinstance(d, Refused) else ()
            ids |= assets_of(commands)
            what = describe(commands, self._name) if commands else "A change"
            lines.append(f"• {what}: {d.error}")
        if not lines:
            return
        self.refusals = lines
        steps = [tuple(d.commands) for d in deliveries if isinstance(d, Refused) and d.error]
        self._sharing.optimistic.refused(steps)  # gone from the overlay: the replica shows
        self.put_back(ids)
        shown = lines[:MAX_LISTED] + (
            [f"… and {len(lines) - MAX_LISTED} more"] if len(lines) > MAX_LISTED else []
        )
        n = len(lines)
        self._sharing.win.show_error(
            f"The host refused {n} edit{'s' if n != 1 else ''} made while offline; "
            "the space shows the host's version:\n" + "\n".join(shown)
        )

    def send_failed(self, cmds: Sequence[Command]) -> None:
        """A step the host refused as it was sent: its cards go back."""
        self.put_back(assets_of(command_to_json(c) for c in cmds))

    def put_back(self, ids: Iterable[str]) -> None:
        """Cards (and the details) show the replica's state again."""
        win = self._sharing.win
        ids = [a for a in ids if win.scene.card(a) is not None]
        win.scene.snap_back(ids)
        shown = win.inspector.current_asset()
        if shown is not None and shown in ids:
            win.inspector.show_asset(shown)
