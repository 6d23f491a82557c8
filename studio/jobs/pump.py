"""A scheduler pumped on a thread of its own, so the thread that owns the window never
claims jobs (claims are writes: they would wait for the write lock held by job threads
committing their results)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from studio.jobs.executor import BACKGROUND_NICE, run_in_background  # noqa: F401 (re-exported)
from studio.jobs.scheduler import Scheduler

log = logging.getLogger(__name__)

PUMP_MS = 250
"""How often the queue is looked at when nothing pokes the pump sooner."""

STOP_WAIT_S = 10.0
"""How long :meth:`PumpThread.stop` waits for a pump in progress."""


class PumpThread:
    """Calls :meth:`Scheduler.pump` every :data:`PUMP_MS`, at once when :meth:`poke`\\ d
    (a job was queued, ended, resumed…), and when the scheduler says a waiting job
    becomes startable. One pump at a time: :meth:`pump_now` (tests, or a caller that
    must see the result) takes the same lock. ``after_pump`` runs on the pump thread
    after each pump (the app uses it to notice :meth:`Scheduler.problem`)."""

    def __init__(
        self,
        scheduler: Scheduler,
        *,
        interval_ms: int = PUMP_MS,
        after_pump: Callable[[], None] | None = None,
        name: str = "scheduler-pump",
    ) -> None:
        self._scheduler = scheduler
        self._interval_ms = interval_ms
        self._after_pump = after_pump
        self._poked = threading.Event()
        self._stopping = threading.Event()
        self._pumping = threading.Lock()
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        scheduler.on_slot_free(self.poke)  # refill a freed provider slot at once
        self.pumps = 0
        """Pumps done so far (by the thread and by :meth:`pump_now`)."""

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """Pump again as soon as the current pump (if any) is over. Never blocks."""
        self._poked.set()

    def pump_now(self) -> int | None:
        """Pump on the calling thread (waiting for a pump in progress). Returns what
        :meth:`Scheduler.pump` returns."""
        with self._pumping:
            if self._stopping.is_set():
                return None
            try:
                return self._scheduler.pump()
            finally:
                self.pumps += 1

    def _loop(self) -> None:
        run_in_background()
        while not self._stopping.is_set():
            self._poked.clear()  # a poke from now on pumps again
            try:
                wake = self.pump_now()
            except Exception:  # a scheduler fault must not end the queue for good
                log.exception("scheduler pump failed")
                wake = None
            if self._after_pump is not None:
                try:
                    self._after_pump()
                except Exception:
                    log.exception("after-pump hook failed")
            wait_ms = self._interval_ms if wake is None else min(self._interval_ms, wake)
            self._poked.wait(max(0, wait_ms) / 1000)

    def stop(self) -> bool:
        """End the thread once the pump in progress (if any) is over. False if it did not
        end within :data:`STOP_WAIT_S`."""
        self._stopping.set()
        self._poked.set()
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(STOP_WAIT_S)
        return not self._thread.is_alive()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()
