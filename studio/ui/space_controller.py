"""Which space the window shows: opening one (its session, a snapshot read off the UI
thread, the saved view), following its events, and closing it again."""

from __future__ import annotations

import json
import logging
import queue
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, SignalInstance

from studio.core import settings
from studio.core.errors import StudioError
from studio.core.protocol import TypedEvent
from studio.core.space import Snapshot, Space
from studio.ui import window_later
from studio.ui.session import SpaceSession
from studio.ui.space_jobs import SnapshotJob, SpaceJob, prompts_of
from studio.ui.undo import HistoryFollower

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

LAST_SPACE_KEY = settings.LAST_SPACE
CLOSE_WAIT_S = 120.0
"""How long closing waits for a space's closer thread (its jobs, pump and readers)."""
SLOW_CLOSE_S = 2.0
"""A space asked for again while it is still closing: after this long the status bar
says why it has not opened yet."""

log = logging.getLogger(__name__)


def _shut_down(session: SpaceSession, jobs: list[SpaceJob]) -> None:
    """(Closer thread) wait for the jobs still reading the space, then close it."""
    try:
        for job in jobs:  # imports and snapshots still reading this space
            job.finished.wait(60)
        session.shut_down()
    except Exception:  # a thread of its own: say so, never take the window down
        log.exception("closing the space %s failed", session.space.id)


class _Close:
    """One space's close, handed to a closer thread; ``done`` once it has ended, and
    then ``ended`` (queued to the UI thread) says so, whatever happened: in that order,
    so the UI thread that hears it never waits for ``done``."""

    def __init__(self, session: SpaceSession, jobs: list[SpaceJob], ended: SignalInstance) -> None:
        self.session, self.jobs, self.ended = session, jobs, ended
        self.done = threading.Event()

    def run(self) -> None:
        try:
            _shut_down(self.session, self.jobs)
        finally:
            self.done.set()
            try:
                self.ended.emit(self.session.space.id)
            except RuntimeError:  # the window is gone (the app is ending): no one to tell
                pass


class _Closers:
    """Closer threads kept for the next close (daemons: a stuck close never holds the
    process at exit): a thread started per close made the click's turn wait until the
    new thread ran, a few ms and more on a busy machine. A new thread is started only
    when every one is busy (a close waiting for a reader must not hold up the next)."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[_Close] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._idle = 0

    def submit(self, close: _Close) -> None:
        with self._lock:
            start = self._idle == 0
            if not start:
                self._idle -= 1
        self._queue.put(close)
        if start:
            threading.Thread(target=self._run, name="closer", daemon=True).start()

    def _run(self) -> None:
        while True:
            self._queue.get().run()
            with self._lock:
                self._idle += 1


class SpaceController(QObject):
    """Owns the open ``SpaceSession`` and the background jobs reading its space."""

    _closer_ended = Signal(str)  # a space's closer thread is done (emitted on that thread)

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.session: SpaceSession | None = None
        self.jobs: list[SpaceJob] = []
        self._held: list[TypedEvent] | None = None
        self.history: HistoryFollower | None = None
        self._fit_when_loaded = False
        self._closing: dict[str, _Close] = {}
        """Spaces being closed on closer threads (a switch does not wait)."""
        self._closers = _Closers()
        self.waiting_for: str | None = None
        """A space asked for while it was still closing: it opens when its close ends
        (the latest such request; None when none is waiting)."""
        self._closer_ended.connect(self._on_closer_ended)
        self._slow = QTimer(self, singleShot=True, interval=round(SLOW_CLOSE_S * 1000))
        self._slow.timeout.connect(self._close_is_slow)
        self._waited_s = 0.0
        self._panel_steps: list[Callable[[], object]] = []
        """The panels still to be given the space just opened (a step a turn)."""
        self._panel_timer = QTimer(self, interval=0)
        self._panel_timer.timeout.connect(self._panel_step)

    @property
    def win(self) -> MainWindow:
        """The parent (not kept in an attribute: no reference cycle, so a dropped
        MainWindow is freed at once and its timers die with it)."""
        return cast("MainWindow", self.parent())

    @property
    def space(self) -> Space | None:
        return None if self.session is None else self.session.space

    def open_space(self, space_id: str) -> None:
        """Show ``space_id``. A space still closing on its closer thread (switched away
        from a moment ago) opens once that close has ended, on a later event-loop turn:
        the UI thread never waits for it (it waited 120-450 ms at 50,000 assets). The
        latest request wins."""
        w = self.win
        self._forget_waiting()
        if self.session is not None and self.session.space.id == space_id:
            return
        self.close_space(wait=False)  # the next space opens while the last one closes
        self._reap()
        if space_id in self._closing:
            self.waiting_for = space_id
            self._waited_s = 0.0
            self._slow.start()
            w.spaces.show_opened(space_id)
            return
        try:
            space = w.studio.open_space(space_id, sweep=False)  # the snapshot job sweeps
        except StudioError as exc:
            w.show_error(exc.message)
            return
        # nothing on this thread reads a whole table: interrupted imports are found and
        # failed by the snapshot job, the counts come from the snapshot
        self.session = SpaceSession(w.studio, space, w, recover_uploads=False)
        self._held = []  # events that arrive while the snapshot is read
        # the undo stack shows the core's history, also as it moves on elsewhere
        if not space.is_replica:  # a joined space's undo list is its own steps on the host
            self.history = HistoryFollower(w.undo_stack, space, w.actor, w.show_error, self)
            self.session.follower.file_changed.connect(self.history.look)
        self.session.core_event.connect(self._on_event)
        self.session.follower.huge_step.connect(self._reload_scene)
        self.session.problem_changed.connect(lambda _p: w.status_control.update_status())
        state = settings.get_or(w.studio.library, f"ui.view.{space.id}", None)
        self._fit_when_loaded = not state
        if state:
            view_state = json.loads(state)
            w.view.restore_view_state(view_state)
            # again once the layout has settled and the viewport has its real size
            QTimer.singleShot(0, w.view, lambda: w.view.restore_view_state(view_state))
        # the panels take the space on the next turns, one a turn (together with the
        # close and the open above they made one 50-100 ms turn at 50,000 assets)
        steps: list[Callable[[], object]] = []
        if window_later.ready(w):  # else they start from this space when built
            steps += [
                lambda: w.jobs_panel.set_space(space),
                lambda: w.tray.set_space(space),
                lambda: w.assistant.set_space(space),
                lambda: w.people.set_space(space.id),
                lambda: w.sharing.space_opened(space),
            ]
        steps += [
            lambda: w.inspector.set_space(space),
            lambda: w.inspector.show_asset(None),
            lambda: w.collections.set_space(space),
        ]
        if (editor := w.style_editor) is not None:
            steps.append(lambda: editor.set_space(space))
        self._panel_steps = steps
        self._panel_timer.start()
        settings.remember(w.studio.library, LAST_SPACE_KEY, space.id)
        w.spaces.show_opened(space.id)
        self.update_title()
        w.status_control.update_status()
        # last: from here on its thread competes for the GIL with this one
        job = SnapshotJob(space, recover=True)
        job.done.connect(self._snapshot_ready)
        self.jobs.append(job)
        QThreadPool.globalInstance().start(job)  # a big space's snapshot takes ~0.5 s

    def _reload_scene(self) -> None:
        """A huge step (a select-all's delete or its undo: 50,000 changes) is coming:
        the canvas reads a fresh snapshot on a thread and builds its cards the way an
        opening does, a few at a time, instead of following the step card by card (a
        card's event a turn, with the overview repainted between: over a minute). Its
        events meanwhile are held, and those the snapshot has are skipped; the other
        panels follow the step as usual."""
        space = self.space
        if space is None or self._held is not None:  # (an opening's load is under way)
            return
        self._held = []
        self._fit_when_loaded = False  # the view stays where the user has it
        job = SnapshotJob(space)
        job.done.connect(self._snapshot_ready)
        self.jobs.append(job)
        QThreadPool.globalInstance().start(job)

    def _panel_step(self) -> None:
        self.show_panels()

    def show_panels(self) -> None:
        """Give every panel the open space now (an event for them; tests)."""
        steps, self._panel_steps = self._panel_steps, []
        self._panel_timer.stop()
        for step in steps:
            step()

    def _snapshot_ready(self, space: Space, snapshot: Snapshot) -> None:
        w = self.win
        # the job may still be at work (the sweep after an opening's snapshot): kept for
        # the close to wait for
        self.jobs = [j for j in self.jobs if not j.finished.is_set()]
        if self.space is not space:
            return  # another space was opened meanwhile
        w.scene.finder.prompt_source = lambda ids: prompts_of(space, ids)
        w.scene.load(space, snapshot, focus=w.view.visible_scene_rect())
        held, self._held = self._held, None
        for event in held or []:
            w.scene.apply_event(event)  # the scene skips what the snapshot has
        if self._fit_when_loaded:
            QTimer.singleShot(0, w.view, w.view.fit_all)
            w.scene.loaded.connect(self._fit_once)

    def _fit_once(self) -> None:
        self.win.scene.loaded.disconnect(self._fit_once)
        if self._fit_when_loaded:
            self._fit_when_loaded = False
            self.win.view.fit_all()

    def close_space(self, *, wait: bool = True) -> None:
        """Close the open space. The waiting part — its jobs and readers on other
        threads, the scheduler's pump, the file — runs on a closer thread; ``wait``
        False returns without waiting for it (a switch: the UI thread waited 60-100 ms
        here, and seconds while a filter thread was reading)."""
        w = self.win
        if wait:  # closed for good (the window, a reload): nothing opens afterwards
            self._forget_waiting()
        if self.session is None:
            if wait:
                self.finish_closing()
            return
        space = self.session.space
        self._panel_steps = []  # (the panels below let go of the space, given it or not)
        self._panel_timer.stop()
        jobs, self.jobs = self.jobs, []
        settings.remember(w.studio.library, f"ui.view.{space.id}", json.dumps(w.view.view_state()))
        w.scene.collapsed = set()
        if self.history is not None:
            self.history.close()
            self.history.deleteLater()
            self.history = None
        w.undo_stack.clear()
        w.refines.clear()
        if window_later.ready(w):
            w.jobs_panel.set_space(None)
            w.tray.set_space(None)
            w.assistant.set_space(None)
            w.people.set_space(None)
            w.sharing.space_closed(space)
        w.inspector.set_space(None)
        w.collections.set_space(None)
        if w.style_editor is not None:
            w.style_editor.set_space(None)
        self._held = None
        w.scene.clear_canvas()
        w.inspector.show_asset(None)
        session, self.session = self.session, None
        session.stop_following()
        self.finish_closing(space.id)  # (a close of the same space still running)
        closer = _Close(session, jobs, self._closer_ended)
        self._closing[space.id] = closer
        self._closers.submit(closer)
        self.update_title()
        if wait:
            self.finish_closing()

    def finish_closing(self, space_id: str | None = None) -> None:
        """Wait until the space ``space_id`` (None: every space) closing on its closer
        thread is closed (a space waiting to open opens on a later turn)."""
        for sid, closer in list(self._closing.items()):
            if space_id is None or sid == space_id:
                if not closer.done.wait(CLOSE_WAIT_S):
                    log.warning("closing the space %s takes longer than %.0f s", sid, CLOSE_WAIT_S)
                del self._closing[sid]

    def _reap(self) -> None:
        """Forget the closers that have ended (their ``_closer_ended`` may still be queued)."""
        for sid, closer in list(self._closing.items()):
            if closer.done.is_set():
                del self._closing[sid]

    def _on_closer_ended(self, space_id: str) -> None:
        closer = self._closing.get(space_id)
        if closer is not None and closer.done.is_set():  # (a newer close may be running)
            del self._closing[space_id]
        if self.waiting_for == space_id and space_id not in self._closing:
            self.open_space(space_id)

    def _close_is_slow(self) -> None:
        sid = self.waiting_for
        if sid is None:
            return
        self._waited_s += SLOW_CLOSE_S
        w = self.win
        name = w.studio.resolve(sid).name
        if self._waited_s >= CLOSE_WAIT_S:
            self._forget_waiting()
            w.show_error(
                f"“{name}” is still closing after {CLOSE_WAIT_S:.0f} s (a job or a reader "
                "of it has not stopped): open it again in a moment."
            )
            return
        w.statusBar().showMessage(
            f"Opening “{name}” once it has finished closing (its jobs and readers are stopping)…",
            round(SLOW_CLOSE_S * 1000) + 500,
        )
        self._slow.start()

    def _forget_waiting(self) -> None:
        self.waiting_for = None
        self._slow.stop()

    def space_deleted(self, space_id: str) -> None:
        """Before ``space_id``'s files go (delete, leave): closed here, and its close on a
        closer thread (a switch away from it) finished — its jobs, readers and lock."""
        if self.waiting_for == space_id:
            self._forget_waiting()
        if self.session is not None and self.session.space.id == space_id:
            self.close_space()
        self.finish_closing(space_id)

    def update_title(self) -> None:
        w = self.win
        if self.session is None:
            w.setWindowTitle("Forge Studio")
            return
        entry = w.studio.resolve(self.session.space.id)
        w.setWindowTitle(f"{entry.name} — Forge Studio")

    def _on_event(self, event: TypedEvent) -> None:
        w = self.win
        self.show_panels()  # they follow the space from where they were given it
        if window_later.ready(w):
            w.jobs_panel.apply_event(event)
            w.tray.apply_event(event)
            w.assistant.apply_event(event)
        w.inspector.apply_event(event)
        w.collections.apply_event(event)
        if w.style_editor is not None:
            w.style_editor.apply_event(event)
        w.refines.apply_event(event)
        if self._held is not None:
            self._held.append(event)
        else:
            w.scene.apply_event(event)
        w.status_control.follow(event)
