""" "Someone else changed what you are editing": when a step made by another person (its
actor is not this window's user) changes the name, tags or type of the asset open in
the details, or moves a card the user is dragging, the window says who did it — a short
notice in the details, or in the status bar for a drag — and the view follows it.

Unsaved text is never lost silently: the details form keeps what the user typed over
the new value (:attr:`~studio.ui.details.form.AssetForm.kept`), and the notice says so
(Enter applies it, Esc shows the new value)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from studio.core.feed import Change
from studio.core.protocol import AssetData, Moved, TypedEvent
from studio.ui.session import SpaceSession

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController

STATUS_MS = 8000
_VERBS = {"name": "renamed this", "tags": "changed its tags", "type": "changed its type"}
_FIELDS = {"name": "the name", "tags": "the tags"}


def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} and {words[-1]}"


def touched(change: Change) -> tuple[set[str], set[str]]:
    """(assets whose row was updated, assets moved) by one change."""
    updated: set[str] = set()
    moved: set[str] = set()
    for ev in change.typed_events():
        match ev:
            case TypedEvent(kind="asset:updated", data=AssetData(id=aid)):
                updated.add(aid)
            case TypedEvent(kind="asset:moved", data=Moved(positions=positions)):
                moved |= {p.asset_id for p in positions}
    return updated, moved


class OthersWatch(QObject):
    def __init__(self, sharing: SharingController) -> None:
        super().__init__(sharing)
        self._sharing = sharing
        self.me = ""
        """The actor id this window's own steps carry in the open space's log."""
        self.last = ""  # the latest notice (for the status bar and tests)

    def follow(self, session: SpaceSession, me: str) -> None:
        self.me = me
        session.follower.step.connect(self._step)

    def _step(self, change: Change) -> None:
        if change.actor_id == self.me:
            return
        win = self._sharing.win
        form = win.inspector.form
        shown = form.asset
        dragged = {c.asset.id: c for c in win.view.drag.cards if c.dragging}
        dialogs = win.inspector.dialogs  # full views
        if shown is None and not dragged and not dialogs:  # nothing shown: nothing to say
            return
        try:
            updated, moved = touched(change)
        except Exception:  # a step the views cannot read is skipped by them too
            return
        who = change.actor_name or "Someone"
        if shown is not None and shown.id in updated and form.changed:
            what = [_VERBS[f] for f in form.changed if f in _VERBS]
            text = f"{who} {_and(what)}"
            if shown.name and "name" in form.changed:
                text = text.replace("renamed this", f"renamed this to “{shown.name}”", 1)
            kept = [_FIELDS[f] for f in form.kept if f in _FIELDS]
            if kept:
                text += (
                    f". What you typed in {_and(kept)} is kept: Enter applies it, Esc shows theirs."
                )
            else:
                text += " — your view is updated."
            self._say(text, details=True)
        for dialog in dialogs:
            if dialog.asset_id() in updated:
                dialog.presence.notify(f"{who} changed this — the view is updated.")
        hit = [dragged[a] for a in (updated | moved) if a in dragged]
        if hit:
            names = _and([f"“{c.asset.name}”" for c in hit[:3]])
            verb = "moved" if moved & dragged.keys() else "changed"
            self._say(f"{who} {verb} {names} while you were dragging it — where you drop it wins.")

    def _say(self, text: str, *, details: bool = False) -> None:
        self.last = text
        win = self._sharing.win
        if details:
            win.inspector.presence.notify(text)
        win.statusBar().showMessage(text, STATUS_MS)
