"""Where job bodies run. One tiny interface, two headless implementations here; the
desktop app adds a QThreadPool one in ``studio/ui``."""

from __future__ import annotations

import concurrent.futures
import logging
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


class ThreadExecutor:
    """A ``concurrent.futures.ThreadPoolExecutor`` behind the interface; ``background``:
    its threads run at :data:`studio.jobs.pump.BACKGROUND_NICE` (in a process that also
    serves peers or draws a window, that work runs first when the CPUs are busy)."""

    def __init__(self, max_workers: int = 8, *, background: bool = False) -> None:
        initializer = None
        if background:
            from studio.jobs.pump import run_in_background  # pump imports this module

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
