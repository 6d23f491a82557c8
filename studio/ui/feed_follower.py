"""The open space's change feed, followed on the UI thread.

Every change — made by this process (the app's own commands, its jobs) or by another
(``studio import``, ``studio apply``, ``studio worker``) — reaches :attr:`FeedFollower.
changed` once, in seq order, as the same events the core's bus publishes, decoded once
here against the protocol (:func:`studio.core.protocol.decode_event`): the views match
typed payloads (:class:`TypedEvent`), never strings in a dict. An event that does not
decode (unknown kind, malformed data: a newer writer, a damaged entry) is logged once
per kind and skipped; no view ever sees it. The bus only
says *when* to look: its events arrive through the :class:`EventBridge` right after a
commit here, and a timer looks every :data:`POLL_MS` for other processes' commits.

Looking costs one ``PRAGMA data_version`` on the feed's own read connection (a few
microseconds; it never touches the write lock, and a WAL reader never waits for a
writer), so polling on the UI thread is cheap. When something is new, at most
:data:`UI_BATCH` changes are read at a time, and one turn of the event loop hands out
changes for at most :data:`FRAME_BUDGET_S` (then at the end of a step; the rest go on
the next turn, after the frames and input waiting meanwhile): ten busy peers' 200 steps
a second, or a follower far behind, never freeze the window.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.errors import StorageError, ValidationError
from studio.core.events import Event
from studio.core.feed import Change
from studio.core.protocol import TypedEvent, decode_event
from studio.core.space import Space
from studio.ui.bridge import EventBridge

log = logging.getLogger(__name__)

POLL_MS = 200
"""How often other processes' commits are looked for (the app shows them within ~this)."""

UI_BATCH = 100
"""Changes read from the file at a time at most."""

FRAME_BUDGET_S = 0.006
"""UI-thread time one turn of the event loop spends handing changes to the views (a
change's events decode and apply in ~0.1-0.3 ms here): past it, the rest waits for the
next turn."""

HUGE_STEP = 2_000
"""A step of more changes than this (a select-all's delete of 50,000 cards: 50,000
changes, ~10 s of views' work) is announced first (:attr:`FeedFollower.huge_step`: the
canvas reads a snapshot instead of following it card by card) and handed out over
several turns like any backlog, the views seeing it part by part; a smaller one is
never split."""


class EventDecoder:
    """Decodes events for the views; one that does not decode is logged once per kind
    (a damaged feed or a newer writer must not flood the log) and dropped."""

    def __init__(self) -> None:
        self._warned: set[str] = set()
        self.skipped = 0

    def __call__(self, event: Event) -> TypedEvent | None:
        try:
            return decode_event(event)
        except ValidationError as exc:
            self.skipped += 1
            kind = event.type if isinstance(event.type, str) else repr(event.type)
            if kind not in self._warned:
                self._warned.add(kind)
                log.warning("skipped an event the views cannot read (seq %s): %s", event.seq, exc)
            return None


def typed(view: Callable[[TypedEvent], object]) -> Callable[[Event], None]:
    """A bus subscriber that hands ``view`` each event decoded (bad ones skipped): for a
    view fed straight from :meth:`Space.subscribe` (tests, tools)."""
    decode = EventDecoder()

    def deliver(event: Event) -> None:
        got = decode(event)
        if got is not None:
            view(got)

    return deliver


class FeedFollower(QObject):
    changed = Signal(object)  # studio.core.protocol.TypedEvent, on the main thread
    step = Signal(object)  # studio.core.feed.Change, after its events were handed out
    file_changed = Signal()
    huge_step = Signal()  # a step of more than HUGE_STEP changes is about to be handed out
    """Something was committed to the space file since the last look — by any
    connection, also a write that adds no change-log entry (an undo-history entry, a
    job lease). Emitted after the poll's events."""

    def __init__(self, space: Space, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._feed = space.feed(batch=UI_BATCH)
        self._pending: deque[Change] = deque()  # read, not yet handed out
        self._handed = self._feed.last_seq
        self._news = False  # something was committed since file_changed was last emitted
        self.decode = EventDecoder()
        self._failed = False
        self._closed = False
        self._huge_step: str | None = None
        self._bridge = EventBridge(self)
        self._bridge.core_event.connect(self._on_bus)
        self._bridge.attach(space)
        self._timer = QTimer(self)
        self._timer.setInterval(POLL_MS)
        self._timer.timeout.connect(self.poll)
        self._timer.start()
        self._again = QTimer(self)  # the rest of a long catch-up, after other events
        self._again.setSingleShot(True)
        self._again.setInterval(0)
        self._again.timeout.connect(self.poll)

    @property
    def last_seq(self) -> int:
        """The newest change handed to the views."""
        return self._handed if self._pending else self._feed.last_seq

    def _on_bus(self, event: Event) -> None:
        if not event.seq:  # transient (job progress): not in the log, pass it on
            self._hand_out(event)
        elif event.seq > self._feed.last_seq:  # committed here: read it from the feed
            self.poll()

    def poll(self) -> None:
        """Hand the changes committed since the last poll to the views — as many as
        :data:`FRAME_BUDGET_S` allows this turn; the next turn goes on."""
        if self._closed:  # a commit's hint queued before the space was closed
            return
        if not self._pending:
            version = self._feed.version
            try:
                changes = self._feed.poll()
            except StorageError as exc:  # a damaged entry: skipped; the next tick goes on
                if not self._failed:
                    log.warning("%s", exc)
                    self._failed = True
                return
            self._pending.extend(changes)
            self._news = self._news or bool(changes) or self._feed.version != version
        head = self._pending[0].step_id if self._pending else None
        if head is not None and head != self._huge_step and self._huge(head):
            self.huge_step.emit()  # before any of its changes
        until = time.perf_counter() + FRAME_BUDGET_S
        while self._pending:
            change = self._pending.popleft()
            self._hand_change(change)
            self._handed = change.seq
            step = change.step_id
            if time.perf_counter() > until and (
                step is None
                or not self._pending
                or self._pending[0].step_id != step
                or self._huge(step)
            ):
                break  # the rest next turn (never half a step, unless a huge one)
        if self._pending or self._feed.behind:
            self._again.start()
        if not self._pending and self._news:
            self._news = False
            self.file_changed.emit()

    def _huge(self, step: str) -> bool:
        """Is ``step`` (whose changes lead the queue) one of more than :data:`HUGE_STEP`
        changes? (The feed reads a step whole: its rest is all queued.)"""
        if self._huge_step == step:
            return True
        if len(self._pending) <= HUGE_STEP:
            return False
        # the queue's first HUGE_STEP + 1 changes all of this step: counted once a step
        for i, change in enumerate(self._pending):
            if change.step_id != step:
                return False
            if i >= HUGE_STEP:
                self._huge_step = step
                return True
        return False

    def _hand_change(self, change: Change) -> None:
        try:
            events = change.to_events()
        except (TypeError, ValueError):  # an entry's data is not an object
            self.decode.skipped += 1
            log.warning("skipped change %s: its events cannot be read", change.seq)
            return
        for event in events:
            self._hand_out(event)
        self.step.emit(change)  # who made it (sharing tells "Mira renamed this")

    def _hand_out(self, event: Event) -> None:
        got = self.decode(event)
        if got is not None:
            self.changed.emit(got)

    def close(self) -> None:
        self._closed = True
        self._timer.stop()
        self._again.stop()
        self._pending.clear()
        self._bridge.detach()
        self._feed.close()
