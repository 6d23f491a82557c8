"""A joined space shows the user's own edits at once (issue 13: an optimistic overlay).

A step the host has not answered — waiting in the link's outbox while offline (kept on
disk, so also after a restart), or sent on a live connection and not answered yet — is
laid over the replica's rows where the canvas and the details read them
(:class:`~studio.ui.canvas.overlay.PendingOverlay`): a dropped card stays where it was
let go, a rename, tags, a star or a rating show. The replica itself changes only from
the host's events. When the host answers the step leaves the overlay: applied, the
replica's new row (followed from its change feed first) replaces it; refused, the
replica's row shows again. The cards such steps change carry a clock — at once for the
outbox, after :data:`CLOCK_AFTER_MS` for a live step (no flicker on every edit)."""

from __future__ import annotations

import itertools
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer

from studio.sync.link import LinkState, assets_of

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController

CLOCK_AFTER_MS = 400
"""A live step not answered within this long gets its clock too."""
FOLLOW_MS = 50
"""How often an answered step looks whether the views have its rows yet."""
FOLLOW_LIMIT_S = 10.0
"""An answered step leaves the overlay after this long even if the views lag."""

Step = tuple[dict[str, Any], ...]


class Optimistic(QObject):
    def __init__(self, sharing: SharingController) -> None:
        super().__init__(sharing)
        self._sharing = sharing
        self._outbox: tuple[Step, ...] = ()
        self._live: dict[int, tuple[float, Step]] = {}  # sent, not answered: token -> (at, step)
        self._tokens = itertools.count(1)
        # applied by the host, its rows not handed to the views yet: (seq, since, step)
        self._answered: list[tuple[int, float, Step]] = []
        self._follow = QTimer(self, interval=FOLLOW_MS)
        self._follow.timeout.connect(self._followed)
        self._late = QTimer(self, singleShot=True, interval=CLOCK_AFTER_MS)
        self._late.timeout.connect(self._mark)
        sharing.win.inspector.core.overlay = sharing.win.scene.overlay  # one, kept current
        # a load starts from a cleared canvas (its overlay too) and may end after the link
        # told its outbox: lay the waiting steps again; the variants are known now too
        sharing.win.scene.loaded.connect(self._reloaded)

    def steps(self) -> list[Step]:
        """The steps shown over the replica, oldest first."""
        return [
            *self._outbox,
            *(step for _seq, _at, step in self._answered),
            *(step for _at, step in self._live.values()),
        ]

    def begin(self, commands: Sequence[dict[str, Any]]) -> int:
        """A step is being sent: shown at once. Its token for :meth:`end`."""
        token = next(self._tokens)
        self._live[token] = (time.monotonic(), tuple(commands))
        self._show(catch_up=False)
        self._late.start()
        return token

    def end(self, token: int, seq: int | None = None) -> None:
        """The host answered the step (or it went into the outbox, which shows it).
        ``seq``: where the host applied it — the step stays shown until the views have
        followed the replica that far (a busy feed hands changes out over several turns,
        and dropping it sooner would show the old rows for a moment)."""
        live = self._live.pop(token, None)
        if live is None:
            return
        session = self._sharing.win.session
        if seq is not None and session is not None:
            session.follower.poll()
            if session.follower.last_seq < seq:
                self._answered.append((seq, time.monotonic(), live[1]))
                self._follow.start()
                return
        self._show(catch_up=True)

    def _followed(self) -> None:
        session = self._sharing.win.session
        reached = session.follower.last_seq if session is not None else None
        limit = time.monotonic() - FOLLOW_LIMIT_S
        left = [
            a for a in self._answered if reached is not None and a[0] > reached and a[1] > limit
        ]
        if len(left) != len(self._answered):
            self._answered = left
            self._show(catch_up=False)
        if not self._answered:
            self._follow.stop()

    def refused(self, steps: Sequence[Step]) -> None:
        """The host refused these steps of the outbox: they leave the overlay now (the
        link tells the outbox without them a moment later)."""
        left = list(self._outbox)
        for step in steps:
            if step in left:
                left.remove(step)
        if len(left) != len(self._outbox):
            self._outbox = tuple(left)
            self._show(catch_up=False)

    def outbox(self, state: LinkState | None) -> None:
        """The link told its outbox (None: the joined space closed)."""
        steps = state.pending_steps if state is not None else ()
        if state is None and (self._live or self._answered):
            self._live.clear()
            self._answered.clear()
            self._follow.stop()
            self._outbox = steps
            self._show(catch_up=False)
        elif steps != self._outbox:
            fewer = len(steps) < len(self._outbox)
            self._outbox = steps
            self._show(catch_up=fewer)
        else:
            self._mark()

    def _reloaded(self) -> None:
        if self.steps():
            self._show(catch_up=False)
        else:
            self._mark()

    def _show(self, *, catch_up: bool) -> None:
        win = self._sharing.win
        session = win.session
        if catch_up and session is not None:  # the answered steps' rows, before dropping
            session.follower.poll()
        changed = win.scene.overlay_changed(self.steps())
        win.inspector.overlay_changed(changed)
        self._mark()

    def _mark(self) -> None:
        """Clocks on the cards a waiting step changes."""
        scene = self._sharing.win.scene
        old_enough = time.monotonic() - CLOCK_AFTER_MS / 1000
        steps = [*self._outbox, *(s for at, s in self._live.values() if at <= old_enough)]
        marked = set(assets_of(cmd for step in steps for cmd in step))
        for step in steps:
            for cmd in step:
                v = scene.model.variants.get(str(cmd.get("variant_id") or ""))
                if v is not None:
                    marked.add(v.asset_id)
        old, scene.ctx.pending = scene.ctx.pending, frozenset(marked)
        for aid in old ^ scene.ctx.pending:
            if (card := scene.card(aid)) is not None:
                card.update()
        if any(at > old_enough for at, _s in self._live.values()):
            self._late.start()
