"""The host runs the generation jobs of the spaces it shares (with its own provider
keys): peers queue them with their commands and see the placeholders fill in, through
the same steps as every other change. One thread per shared space runs the scheduler,
as ``studio worker`` does, until the host stops."""

from __future__ import annotations

import logging
import threading

from studio.core.errors import StudioError, ValidationError
from studio.core.import_recovery import recover_interrupted
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.config import scheduler_config
from studio.jobs.executor import ThreadExecutor, body_threads
from studio.jobs.recovery import recover_jobs
from studio.jobs.scheduler import Scheduler
from workers.registry import ProviderRegistry

log = logging.getLogger(__name__)

IDLE_S = 0.1


class JobRunner(threading.Thread):
    """Runs ``space``'s queue until :meth:`stop`; a problem recording outcomes (a full
    disk) is logged and ends the runner, never the host."""

    def __init__(self, studio: Studio, space: Space) -> None:
        super().__init__(name=f"jobs-{space.slug}", daemon=True)
        self._studio = studio
        self._space = space
        self._stopping = threading.Event()
        self._wake = threading.Event()  # a slot freed, or stop(): pump again at once
        self.problem: StudioError | None = None

    def stop(self, timeout: float = 30.0) -> None:
        self._stopping.set()
        self._wake.set()
        if self.is_alive():
            self.join(timeout)

    def run(self) -> None:
        space = self._space
        if not isinstance(space.providers, ProviderRegistry):  # made without providers
            self.problem = ValidationError(f"{space.slug} was opened without providers")
            log.warning("the jobs of %s will not run: %s", space.slug, self.problem)
            return
        try:
            recover_jobs(space)
            recover_interrupted(space)
            names = space.providers.names() if space.providers is not None else []
            config = scheduler_config(self._studio.library, names)
            # as `studio worker` runs them, at background priority: serving peers first
            workers = body_threads(sum(lim.concurrency for lim in config.limits.values()))
            executor = ThreadExecutor(workers, background=True)
            sched = Scheduler(space, executor, config=config, usage=self._studio.library)
            sched.on_slot_free(self._wake.set)  # refill a freed slot without waiting
        except StudioError as exc:
            self.problem = exc
            log.warning("the jobs of %s will not run: %s", space.slug, exc)
            return
        try:
            while not self._stopping.is_set():
                self._wake.clear()  # a slot freed from now on pumps again
                wake = sched.pump()
                sched.raise_problem()
                self._wake.wait(IDLE_S if wake is None else min(IDLE_S, wake / 1000))
        except StudioError as exc:
            self.problem = exc
            log.warning("the jobs of %s stopped: %s", space.slug, exc)
        finally:
            executor.shutdown(wait=True)
            sched.close()
