"""Where job bodies run. One tiny interface, two headless implementations here; the
desktop app adds a QThreadPool one in ``studio/ui``."""

from __future__ import annotations

import concurrent.futures
import logging
import os
import sys
import threading
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger(__name__)


def body_threads(concurrency: int) -> int:
    """Threads for job bodies when the providers' limits add up to ``concurrency``:
    twice that (a run storing its result has given its provider slot to the next call
    but still holds its thread), at least 4."""
    return max(4, 2 * concurrency)


class Executor(Protocol):
    def submit(self, fn: Callable[[], None]) -> None:
        """Run ``fn`` soon, on some worker thread. ``fn`` handles its own errors."""

    def shutdown(self, wait: bool = True) -> None: ...


BACKGROUND_NICE = 5
"""The nice value of the app's background threads (job bodies, the pump): when the
CPUs are busy, the thread that draws the window runs first."""


def run_in_background() -> None:
    """Lower the calling thread's CPU priority to :data:`BACKGROUND_NICE` (Linux, where a
    nice value is per thread; elsewhere it would be the whole process's: left alone)."""
    if not sys.platform.startswith("linux") or BACKGROUND_NICE <= 0:
        return
    try:
        tid = threading.get_native_id()
        if os.getpriority(os.PRIO_PROCESS, tid) < BACKGROUND_NICE:
            os.setpriority(os.PRIO_PROCESS, tid, BACKGROUND_NICE)
    except OSError:  # not allowed here: run at the usual priority
        pass


class ThreadExecutor:
    """A ``concurrent.futures.ThreadPoolExecutor`` behind the interface; ``background``:
    its threads run at :data:`BACKGROUND_NICE` (in a process that also
    serves peers or draws a window, that work runs first when the CPUs are busy)."""

    def __init__(self, max_workers: int = 8, *, background: bool = False) -> None:
        initializer = None
        if background:
            initializer = run_in_background
        self._pool = concurrent.futures.ThreadPoolExecutor(
            max_workers=max_workers, thread_name_prefix="studio-job", initializer=initializer
        )

    def submit(self, fn: Callable[[], None]) -> None:
        future = self._pool.submit(fn)
        future.add_done_callback(_log_failure)

    def shutdown(self, wait: bool = True) -> None:
        self._pool.shutdown(wait=wait, cancel_futures=not wait)


class InlineExecutor:
    """Runs each body at once on the calling thread: deterministic tests."""

    def submit(self, fn: Callable[[], None]) -> None:
        fn()

    def shutdown(self, wait: bool = True) -> None:
        pass


def _log_failure(future: concurrent.futures.Future[None]) -> None:
    exc = future.exception()
    if exc is not None:
        log.error("job body crashed", exc_info=exc)
