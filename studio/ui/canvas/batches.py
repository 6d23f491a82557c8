"""Run long UI-thread work (building 50k cards, switching their level of detail) as a
generator sliced into time-boxed batches on a zero-interval timer, so the event loop
keeps turning: each ``next()`` must be a small step; a batch runs steps until its
budget is spent."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QTimer, Signal


class Batches(QObject):
    sliced = Signal()  # after each batch that did not finish the job

    def __init__(self, budget_s: float, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.budget_s = budget_s
        self._job: Iterator[None] | None = None
        self._done: Callable[[], None] | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.run_batch)

    @property
    def running(self) -> bool:
        return self._job is not None

    def start(self, job: Iterator[None], done: Callable[[], None] | None = None) -> None:
        """Replace any running job with ``job``; ``done`` runs when it is exhausted."""
        self._job, self._done = job, done
        self._timer.start()

    def stop(self) -> None:
        self._job = self._done = None
        self._timer.stop()

    def run_batch(self) -> bool:
        """Run one batch; True when the job finished."""
        job = self._job
        if job is None:
            self._timer.stop()
            return True
        end = time.perf_counter() + self.budget_s
        try:
            while time.perf_counter() < end:
                next(job)
        except StopIteration:
            done = self._done
            self.stop()
            if done is not None:
                done()
            return True
        self.sliced.emit()
        return False

    def finish(self, timeout_s: float = 60.0) -> bool:
        """Run the job to its end now (tests, benchmarks)."""
        end = time.perf_counter() + timeout_s
        while self._job is not None and time.perf_counter() < end:
            self.run_batch()
        return self._job is None


class Graveyard(QObject):
    """Frees big containers a slice per event-loop turn: dropping 50k item wrappers
    and 150k rows at once costs ~0.2 s (measured), in slices it costs nothing visible."""

    SLICE = 4000

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._dead: list[dict[Any, Any]] = []
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._slice)

    def bury(self, *containers: dict[Any, Any]) -> None:
        self._dead += [c for c in containers if c]
        if self._dead:
            self._timer.start()

    def _slice(self) -> None:
        budget = self.SLICE
        while self._dead and budget > 0:
            d = self._dead[-1]
            for _ in range(min(budget, len(d))):
                d.popitem()
                budget -= 1
            if not d:
                self._dead.pop()
        if not self._dead:
            self._timer.stop()
