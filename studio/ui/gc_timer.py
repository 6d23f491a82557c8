"""Python's cyclic garbage collector, run on the main thread only.

Left to itself, the collector runs in whichever thread happens to allocate when a
threshold is crossed — in the app, often a job body or a thumbnail loader on the
thread pool. A Qt object caught in a reference cycle is then destroyed off its
thread, which can crash the process. The app turns automatic collection off and
collects from a timer on the main thread instead (Anki does the same).

While work that makes tens of thousands of long-lived objects runs in slices (the
canvas building a big space's cards), the timer's collections are held
(:func:`hold` / :func:`release`): a full collection over 50,000 half-built cards
took 240 ms of CPU, measured; the work freezes what it made (``gc.freeze()``) before
it releases.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

INTERVAL_MS = 1_000

_holds = 0


def hold() -> None:
    """No timed collection until as many :func:`release` calls (main thread only)."""
    global _holds
    _holds += 1


def release() -> None:
    global _holds
    _holds = max(0, _holds - 1)


def held() -> bool:
    return _holds > 0


class MainThreadCollector(QObject):
    """While it lives, cyclic garbage is collected here, every ``INTERVAL_MS``."""

    def __init__(
        self, parent: QObject | None = None, interval_ms: int = INTERVAL_MS, *, start: bool = True
    ) -> None:
        """``start`` False: automatic collection is off at once, the timer runs from
        :meth:`start` (the app: after its first frame; a full collection over every
        module just imported costs 0.1–0.3 s of the start under load)."""
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect)
        self._was_enabled = gc.isenabled()
        gc.disable()
        if start:
            self._timer.start()
        self.destroyed.connect(_reenable)

    def start(self) -> None:
        self._timer.start()

    def collect(self) -> int:
        """Collect what the thresholds say is due (cheap young generations mostly);
        nothing while held (it is collected once released)."""
        if _holds:
            return 0
        counts = gc.get_count()
        thresholds = gc.get_threshold()
        generation = 0
        for gen in (2, 1):
            if counts[gen] >= thresholds[gen]:
                generation = gen
                break
        return gc.collect(generation)

    def stop(self) -> None:
        self._timer.stop()
        if self._was_enabled:
            gc.enable()


def _reenable() -> None:
    gc.enable()
