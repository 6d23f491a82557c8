"""One open space in the app: its change-feed follower, job executor and scheduler.

The scheduler is pumped on a thread of its own (:class:`~studio.jobs.pump.PumpThread`):
claiming a job is a write, and the UI thread never waits for the write lock that job
threads hold while they commit. What the window needs from it arrives as signals.

The app opens its first space before the provider catalog is built (it asks the keyring
after the first frame): the session then starts its scheduler when the catalog arrives.
Jobs submitted meanwhile wait in the queue, as they do for a busy provider."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, Signal

from studio.core.protocol import AssetRestoredData, Empty, JobData, TypedEvent
from studio.core.providers import PendingCatalog, ProviderCatalog
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.recovery import recover_jobs
from studio.ui.feed_follower import FeedFollower

if TYPE_CHECKING:
    from studio.jobs.pump import PumpThread
    from studio.jobs.scheduler import Scheduler
    from studio.ui.executor import QtExecutor

log = logging.getLogger(__name__)


class SpaceSession(QObject):
    """Owns the per-space machinery. ``core_event`` re-emits core events on the main thread."""

    core_event = Signal(object)  # studio.core.protocol.TypedEvent
    problem_changed = Signal(str)  # why the queue's books can't be kept; "" once they can
    _problem_seen = Signal(str)  # from the pump thread, delivered on the main thread
    jobs_started = Signal()  # the scheduler runs (at once, or when the catalog arrives)
    _catalog_arrived = Signal(object)  # from the catalog's thread

    def __init__(
        self,
        studio: Studio,
        space: Space,
        parent: QObject | None = None,
        *,
        recover_uploads: bool = True,
    ) -> None:
        """``recover_uploads`` False: the caller fails interrupted imports itself, off
        the UI thread (finding them reads every variant row: ~0.1 s at 50,000 assets)."""
        super().__init__(parent)
        self.studio = studio
        self.space = space
        recover_jobs(space)
        if recover_uploads:
            from studio.core.import_recovery import recover_interrupted

            recover_interrupted(space)
        # every change, this process's or another's, once and in seq order
        self.follower = FeedFollower(space, self)
        self.follower.changed.connect(self._on_event)
        self._problem = ""
        self._problem_told = ""  # the last problem the pump thread passed on
        self._problem_seen.connect(self._set_problem)
        self._closed = False
        self.executor: QtExecutor | None = None
        self.scheduler: Scheduler | None = None
        self._pump: PumpThread | None = None
        catalog = space.providers
        if isinstance(catalog, PendingCatalog) and not catalog.ready():
            self._catalog_arrived.connect(self._start_jobs)
            catalog.when_ready(self._tell_catalog)
        else:
            self._start_jobs(catalog)

    def _tell_catalog(self, catalog: ProviderCatalog) -> None:
        """(The catalog's thread) pass it on to the UI thread."""
        if self._closed:
            return
        try:
            self._catalog_arrived.emit(catalog)
        except RuntimeError:  # the window (this object's parent) was deleted meanwhile
            pass

    def _start_jobs(self, catalog: ProviderCatalog | None) -> None:
        if self._closed or self.scheduler is not None:
            return
        # the scheduler's modules (and the job handlers they import): not at start
        from studio.jobs.config import scheduler_config
        from studio.jobs.executor import body_threads
        from studio.jobs.pump import PumpThread
        from studio.jobs.scheduler import Scheduler
        from studio.ui.executor import QtExecutor

        space = self.space
        if isinstance(catalog, PendingCatalog):
            catalog = catalog.result()
        space.providers = catalog  # the registry itself: the scheduler runs its providers
        config = scheduler_config(self.studio.library, catalog.names() if catalog else [])
        self.executor = QtExecutor(
            body_threads(sum(lim.concurrency for lim in config.limits.values()))
        )
        self.scheduler = Scheduler(space, self.executor, config=config, usage=self.studio.library)
        self._pump = PumpThread(self.scheduler, after_pump=self._after_pump)
        self._pump.start()
        self.jobs_started.emit()

    def jobs_running(self) -> bool:
        """The scheduler is started (the provider catalog is there)."""
        return self.scheduler is not None

    def problem(self) -> str:
        """The scheduler's :meth:`~studio.jobs.scheduler.Scheduler.problem`, or ""."""
        return self._problem

    def pump(self) -> None:
        """Pump the scheduler now, on the calling thread, and take in its problem (for
        tests: the app's pump thread does this on its own). Before the catalog has
        arrived: waits for it and starts the scheduler."""
        if self._pump is None:
            self._start_jobs(self.space.providers)
        assert self._pump is not None and self.scheduler is not None
        try:
            self._pump.pump_now()
        except Exception:  # never let a scheduler fault take the window down
            log.exception("scheduler pump failed")
        self._set_problem(self.scheduler.problem() or "")

    def _after_pump(self) -> None:
        """On the pump thread: pass a change of the scheduler's problem on."""
        assert self.scheduler is not None  # (the pump runs it)
        problem = self.scheduler.problem() or ""
        if problem != self._problem_told:
            self._problem_told = problem
            self._problem_seen.emit(problem)

    def _set_problem(self, problem: str) -> None:
        if problem != self._problem:  # jobs may stay unfinished: the window says why
            self._problem = problem
            if problem:
                log.warning("the job queue stopped: %s", problem)
            self.problem_changed.emit(problem)

    def _on_event(self, event: TypedEvent) -> None:
        match event:
            case TypedEvent(data=JobData() | AssetRestoredData()) if self._pump is not None:
                self._pump.poke()  # the queue may have work now
            case TypedEvent(kind="queue:resumed", data=Empty()) if self._pump is not None:
                self._pump.poke()
        self.core_event.emit(event)

    def close(self) -> None:
        self.stop_following()
        self.shut_down()

    def stop_following(self) -> None:
        """The UI thread's part of closing: no more events to the window (and no
        scheduler started by a catalog arriving later)."""
        self._closed = True
        self.follower.close()

    def shut_down(self) -> None:
        """The rest of closing, on any thread: waits for the pump, for the jobs running
        here (put back in the queue) and for the space's readers on other threads (a
        filter thread indexing 50,000 assets holds its read connection for seconds)."""
        self._closed = True
        if self._pump is not None and not self._pump.stop():
            log.warning("the scheduler's pump did not stop in time")
        if self.scheduler is not None:
            self.scheduler.stop()
        if self.executor is not None:
            self.executor.shutdown(wait=True)
        if self.scheduler is not None:
            self.scheduler.close()
        self.space.close()
