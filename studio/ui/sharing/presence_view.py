"""Presence in the window of a shared (hosting) or joined space: what this person has
selected goes out (:class:`PresenceOut`), what the others have selected comes in and is
shown (:class:`PresenceIn`): avatars on the cards they have selected, "Mira is looking at
this" in the details.

Where it comes from: on a peer, the roster the host sends (every person but oneself,
the host's person included); on the host, the People poll (the peers). Updates are
coalesced (:data:`SHOW_MS`) and repaint only the cards whose avatars changed — never a
reload of the canvas."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from studio.sync.home import open_sharing
from studio.sync.presence import Member, Presence
from studio.ui.canvas.presence_marks import Avatar
from studio.ui.sharing.faces import HOST_KEY, avatar

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController

PRESENCE_MS = 150
"""This person's selection is told at most this often (the host coalesces too)."""
SHOW_MS = 100
"""Others' presence is shown at most this often (a burst of rosters is drawn once)."""


@dataclass(frozen=True, slots=True)
class Seen:
    """One other person and what they look at."""

    key: str
    name: str
    viewing: str | None
    selection: tuple[str, ...]


def by_asset(
    people: Iterable[Seen],
) -> tuple[dict[str, tuple[Avatar, ...]], dict[str, tuple[Avatar, ...]]]:
    """(asset id → the people who have it selected, asset id → the people looking at it:
    selected or viewing), each in the people's order."""
    marks: dict[str, list[Avatar]] = {}
    looking: dict[str, list[Avatar]] = {}
    for person in people:
        face = avatar(person.key, person.name)
        for aid in dict.fromkeys(person.selection):
            marks.setdefault(aid, []).append(face)
        for aid in dict.fromkeys(
            [*person.selection, *([person.viewing] if person.viewing else [])]
        ):
            looking.setdefault(aid, []).append(face)
    return (
        {k: tuple(v) for k, v in marks.items()},
        {k: tuple(v) for k, v in looking.items()},
    )


def own_device(sharing: SharingController, slug: str) -> str:
    """This device's id on the host of the joined space ``slug`` ("" if unknown)."""
    store = open_sharing(sharing.win.studio)
    try:
        remote = store.remote(slug)
        return remote.device_id if remote is not None else ""
    finally:
        store.close()


class PresenceOut(QObject):
    """What this person has selected (and views: the one asset selected) in the open
    shared or joined space, told to the host — for its People panel and the others'
    canvases; coalesced."""

    def __init__(self, sharing: SharingController) -> None:
        super().__init__(sharing)
        self._sharing = sharing
        self._selection: list[str] = []
        self._timer = QTimer(self, singleShot=True, interval=PRESENCE_MS)
        self._timer.timeout.connect(self._send)

    def selection_changed(self, ids: list[str]) -> None:
        self._selection = list(ids)
        if self._hosted() is None and self._sharing.linked is None:
            return
        if not self._timer.isActive():
            self._timer.start()

    def _hosted(self) -> str | None:
        space = self._sharing.win.space
        if space is None or space.id not in self._sharing.shared:
            return None
        return space.id

    def _send(self) -> None:
        sharing, ids = self._sharing, self._selection
        viewing = ids[0] if len(ids) == 1 else None
        if sharing.linked is not None:
            job: Any = sharing.engine.set_presence(sharing.linked, viewing, ids)
        elif (sid := self._hosted()) is not None:
            actor = sharing.win.actor
            me = Member(HOST_KEY, actor.name, "owner", Presence(viewing, tuple(ids[:200])))
            job = sharing.engine.set_own_presence(sid, me)
        else:
            return
        sharing.run(job, lambda _n: None, lambda _e: None)

    def resend(self) -> None:
        """Tell the selection again (sharing just started: the host has none yet)."""
        self.selection_changed(self._selection)


class PresenceIn(QObject):
    """The others' presence, shown on the canvas and in the details."""

    def __init__(self, sharing: SharingController) -> None:
        super().__init__(sharing)
        self._sharing = sharing
        self._people: list[Seen] = []
        self.me = ""  # this device's id on the joined space's host
        self._timer = QTimer(self, singleShot=True, interval=SHOW_MS)
        self._timer.timeout.connect(self._show)
        self.looking: dict[str, tuple[Avatar, ...]] = {}

    def joined(self, slug: str | None) -> None:
        """A joined space was opened (its slug) or closed (None): nobody is shown."""
        self.me = own_device(self._sharing, slug) if slug is not None else ""
        self._set([])

    def roster(self, members: list[dict[str, Any]]) -> None:
        """On a peer: the roster the host sent (everyone but oneself is shown)."""
        people = []
        for m in members:
            if not isinstance(m, dict) or m.get("device_id") == self.me:
                continue
            selection = m.get("selection")
            viewing = m.get("viewing")
            people.append(
                Seen(
                    str(m.get("device_id") or ""),
                    str(m.get("name") or "someone"),
                    viewing if isinstance(viewing, str) else None,
                    tuple(x for x in selection if isinstance(x, str))
                    if isinstance(selection, list)
                    else (),
                )
            )
        self._set(people)

    def people_changed(self) -> None:
        """On the host: the People poll has news (the open space's online peers shown)."""
        sharing = self._sharing
        space = sharing.win.space
        if space is None or sharing.linked is not None:
            return
        people = [
            Seen(p.device.id, p.device.name, p.viewing, p.selection)
            for p in sharing.people.get(space.id, [])
            if p.online
        ]
        self._set(people)

    def _set(self, people: list[Seen]) -> None:
        people = sorted(people, key=lambda p: (p.name.lower(), p.key))  # same order everywhere
        if people != self._people:
            self._people = people
            if not self._timer.isActive():
                self._timer.start()

    def _show(self) -> None:
        win = self._sharing.win
        marks, self.looking = by_asset(self._people)
        ctx = win.scene.ctx
        old, ctx.presence = ctx.presence, marks
        for aid in {*old, *marks}:
            if old.get(aid) != marks.get(aid) and (card := win.scene.card(aid)) is not None:
                card.update()
        win.inspector.presence.set_people(self.looking)
