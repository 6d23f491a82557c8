"""Find and filter queries on a thread of their own, latest wins.

The window never waits for a query: :meth:`FilterWorker.submit` hands the newest
request to the worker thread (a request not started yet is replaced, never queued) and
returns; :attr:`FilterWorker.ready` brings the answer back to the main thread, only for
the newest request. While nothing is asked the worker looks at the space's change log
every :data:`FOLLOW_S` seconds and, when something changed, answers the newest request
again (so counts and matches follow edits here, in other processes and on a replica).
"""

from __future__ import annotations

import logging
import threading

from PySide6.QtCore import QObject, Signal

from studio.core.errors import StudioError
from studio.core.facets import FacetIndex, FilterResult, FilterSpec
from studio.core.space import Space
from studio.jobs.executor import run_in_background

log = logging.getLogger(__name__)

FOLLOW_S = 0.5
"""How often the idle worker looks for changes to answer the last request again."""


class FilterWorker(QObject):
    ready = Signal(int, object)  # (serial of the request answered, FilterResult)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cond = threading.Condition()
        self._serial = 0
        self._job: tuple[int, Space, FilterSpec] | None = None
        self._last: tuple[int, Space, FilterSpec] | None = None
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._index: FacetIndex | None = None
        self._index_of: Space | None = None
        self.queries = 0
        """Queries run so far (tests count them)."""

    @property
    def serial(self) -> int:
        """The newest request's serial."""
        return self._serial

    def submit(self, space: Space, spec: FilterSpec) -> int:
        """Ask for ``spec`` on ``space``; returns the request's serial at once."""
        with self._cond:
            self._serial += 1
            self._job = (self._serial, space, spec)
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="filter-worker", daemon=True)
                self._thread.start()
            self._cond.notify()
            return self._serial

    def forget(self) -> None:
        """The space is closing: drop its requests and its index (on the next turn)."""
        with self._cond:
            self._serial += 1
            self._job = None
            self._last = None

    def close(self, timeout_s: float = 5.0) -> None:
        with self._cond:
            self._stopping = True
            self._job = self._last = None
            self._cond.notify()
            thread = self._thread
        if thread is not None:
            thread.join(timeout_s)

    def _wants(self, space: Space) -> bool:
        """Is a request waiting or kept (to follow changes) for ``space``?"""
        with self._cond:
            return any(job is not None and job[1] is space for job in (self._job, self._last))

    # ------------------------------------------------------------------ the worker thread
    def _run(self) -> None:
        run_in_background()  # the window's thread first when the CPUs are busy
        while True:
            with self._cond:
                if self._job is None and not self._stopping:
                    self._cond.wait(FOLLOW_S)
                if self._stopping:
                    return
                job, self._job = self._job, None
                again = job is None and self._last is not None
                if job is None:
                    job = self._last
                if job is None:  # nothing to answer: let go of the last space's index
                    self._index = self._index_of = None
                    continue
                self._last = job
            serial, space, spec = job
            try:
                self._answer(serial, space, spec, only_if_changed=again)
            except StudioError as exc:  # the space closed under the query, or a damaged file
                log.info("filter query dropped: %s", exc)
                with self._cond:
                    if self._last is job:
                        self._last = None
            except Exception:
                log.exception("filter query failed")
                with self._cond:
                    if self._last is job:
                        self._last = None

    def _answer(
        self, serial: int, space: Space, spec: FilterSpec, *, only_if_changed: bool
    ) -> None:
        if self._index_of is not space or self._index is None:
            # given up as soon as no request is for this space any more: a big space's
            # build held the GIL from the window while the next space opened
            stop = lambda: not self._wants(space)  # noqa: E731
            self._index, self._index_of = FacetIndex(space.read, stop=stop), space
        index = self._index
        if only_if_changed and not index.refresh():
            return
        result: FilterResult = index.answer(spec)
        self.queries += 1
        with self._cond:
            newest = serial == self._serial
        if newest:
            self.ready.emit(serial, result)
