"""One open space in the app: its change-feed follower, job executor and scheduler."""

from __future__ import annotations

import logging

from PySide6.QtCore import QObject, QTimer, Signal

from studio.core.imports import recover_interrupted
from studio.core.protocol import AssetRestoredData, Empty, JobData, TypedEvent
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.config import scheduler_config
from studio.jobs.recovery import recover_jobs
from studio.jobs.scheduler import Scheduler
from studio.ui.executor import QtExecutor
from studio.ui.feed_follower import FeedFollower

log = logging.getLogger(__name__)

PUMP_MS = 250


class SpaceSession(QObject):
    """Owns the per-space machinery. ``core_event`` re-emits core events on the main thread."""

    core_event = Signal(object)  # studio.core.protocol.TypedEvent
    problem_changed = Signal(str)  # why the queue's books can't be kept; "" once they can

    def __init__(self, studio: Studio, space: Space, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.space = space
        recover_jobs(space)
        recover_interrupted(space)
        # every change, this process's or another's, once and in seq order
        self.follower = FeedFollower(space, self)
        self.follower.changed.connect(self._on_event)
        config = scheduler_config(
            studio.library, space.providers.names() if space.providers else []
        )
        self.executor = QtExecutor(max(4, sum(lim.concurrency for lim in config.limits.values())))
        self.scheduler = Scheduler(space, self.executor, config=config, usage=studio.library)
        self._timer = QTimer(self)
        self._timer.setInterval(PUMP_MS)
        self._timer.timeout.connect(self.pump)
        self._timer.start()
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.pump)
        self._problem = ""

    def problem(self) -> str:
        """The scheduler's :meth:`~studio.jobs.scheduler.Scheduler.problem`, or ""."""
        return self._problem

    def pump(self) -> None:
        try:
            wake = self.scheduler.pump()
        except Exception:  # never let a scheduler fault take the window down
            log.exception("scheduler pump failed")
            return
        finally:
            problem = self.scheduler.problem() or ""
            if problem != self._problem:  # jobs may stay unfinished: the window says why
                self._problem = problem
                if problem:
                    log.warning("the job queue stopped: %s", problem)
                self.problem_changed.emit(problem)
        if wake is not None and wake < PUMP_MS:
            self._soon.start(max(0, wake))

    def _on_event(self, event: TypedEvent) -> None:
        match event:
            case TypedEvent(data=JobData() | AssetRestoredData()):
                self._soon.start()  # the queue may have work now
            case TypedEvent(kind="queue:resumed", data=Empty()):
                self._soon.start()
        self.core_event.emit(event)

    def close(self) -> None:
        self._timer.stop()
        self._soon.stop()
        self.scheduler.stop()
        self.executor.shutdown(wait=True)
        self.scheduler.close()
        self.follower.close()
        self.space.close()
