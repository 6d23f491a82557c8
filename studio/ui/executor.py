"""The engine's executor interface on Qt's thread pool (the GUI's job runner)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QRunnable, QThreadPool

from studio.jobs.pump import run_in_background


class _Body(QRunnable):
    def __init__(self, fn: Callable[[], None]) -> None:
        super().__init__()
        self._fn = fn
        self.setAutoDelete(True)

    def run(self) -> None:
        run_in_background()  # the window's thread first when the CPUs are busy
        self._fn()  # the scheduler's bodies handle and report their own errors


class QtExecutor:
    """Runs job bodies on a private ``QThreadPool`` (the global one stays free for
    thumbnail loading), at background priority."""

    def __init__(self, max_threads: int = 8) -> None:
        self.pool = QThreadPool()
        self.pool.setMaxThreadCount(max_threads)

    def submit(self, fn: Callable[[], None]) -> None:
        self.pool.start(_Body(fn))

    def shutdown(self, wait: bool = True) -> None:
        if wait:
            self.pool.waitForDone()
        else:
            self.pool.clear()
