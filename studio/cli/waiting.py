"""Running the queue from the command line until some jobs end (``generate --wait``) or
nothing is left (``worker``), following the jobs through the change feed.

The loop never polls the jobs table: it sleeps on the scheduler's wake-up (a job body
ended here, a queued job's time came, or :data:`studio.jobs.scheduler.IDLE_WAIT_S` for
what another process commits) and learns each job's status from the ``job:*`` events
of the change feed the scheduler reads anyway. The jobs are read once, at the start.
"""

from __future__ import annotations

import sys
import threading
import time
from typing import Any

from studio.core.events import Event
from studio.store.records import JobRow

FINAL = ("succeeded", "failed", "cancelled", "parked")  # parked: its variant was deleted
FAILED = ("failed", "cancelled")
BAR_EVERY_S = 0.1
"""How often the terminal's bar is redrawn at most (each redraw walks every job)."""


class JobWatch:
    """The jobs a waiter follows (``wanted``; None: every job not ended when it began)
    and their latest rows, kept current from the change feed's ``job:*`` events (and
    ``job:progress`` for the bar)."""

    def __init__(self, wanted: set[str] | None) -> None:
        self.wanted = wanted
        self.jobs: dict[str, JobRow] = {}
        self._progress: dict[str, float] = {}
        self._seq: dict[str, int] = {}  # the change each job's row is from
        # kept as rows change, so a turn of the loop costs the same with 10 or 100,000
        # jobs followed (asking "done?" or printing the endings walked them all)
        self._open: set[str] = set()  # followed jobs not ended
        self._ended: list[str] = []  # jobs that ended since the last take_ended()
        self._told: set[str] = set()  # every job ever in _ended (each is told once)
        self._lock = threading.Lock()

    def _put(self, row: JobRow) -> None:
        """Keep ``row`` as its job's latest (the lock held)."""
        self.jobs[row.id] = row
        if row.status in FINAL:
            self._open.discard(row.id)
            if row.id not in self._told:
                self._told.add(row.id)
                self._ended.append(row.id)
        else:
            self._open.add(row.id)

    def start(self, active: list[JobRow], ended: list[JobRow]) -> None:
        """The rows read once at the start: the active jobs, and (``wanted`` only) the
        wanted ones that had ended already."""
        with self._lock:
            for row in [*active, *ended]:
                if (self.wanted is None or row.id in self.wanted) and row.id not in self.jobs:
                    self._put(row)

    def missing(self) -> set[str]:
        """Wanted jobs not yet seen (ended before the start, or another process's)."""
        with self._lock:
            return set() if self.wanted is None else self.wanted - set(self.jobs)

    def forget_missing(self) -> None:
        """Stop waiting for wanted jobs that are nowhere (none should be)."""
        with self._lock:
            if self.wanted is not None:
                self.wanted = self.wanted & set(self.jobs)

    def on_event(self, event: Event) -> None:
        if event.type == "job:progress":  # transient, this process's bodies
            self._progress[str(event.data.get("job_id"))] = float(event.data["progress"] or 0)
            return
        if not event.type.startswith("job:") or "status" not in event.data:
            return
        job_id = str(event.data["id"])
        if self.wanted is not None and job_id not in self.wanted:
            return
        try:
            row = JobRow(**{k: event.data[k] for k in JobRow._fields})
        except KeyError:  # an older row shape: the start's read stays
            return
        with self._lock:
            if event.seq is not None and event.seq < self._seq.get(job_id, -1):
                return  # an older change than the one already applied
            self._seq[job_id] = event.seq if event.seq is not None else -1
            self._put(row)

    def done(self) -> bool:
        """Has every wanted job ended? (Never, for a worker: the scheduler decides.)"""
        if self.wanted is None:
            return False
        with self._lock:
            return len(self.jobs) >= len(self.wanted) and not self._open

    def take_ended(self) -> list[JobRow]:
        """The latest rows of the jobs that ended since the last call, in that order."""
        with self._lock:
            ended, self._ended = self._ended, []
            return [self.jobs[j] for j in ended]

    def rows(self) -> list[JobRow]:
        with self._lock:
            rows = list(self.jobs.values())
        return [
            r._replace(progress=self._progress.get(r.id, r.progress))
            if r.status == "running"
            else r
            for r in rows
        ]

    def failed(self) -> int:
        with self._lock:
            return sum(1 for j in self.jobs.values() if j.status in FAILED)


def run_queue(studio: Any, space: Any, wanted: set[str] | None, *, forever: bool = False) -> int:
    """Run the queue until ``wanted`` jobs end (None: until idle; ``forever``: until
    interrupted). Returns how many of the followed jobs failed. Raises StorageError
    when job outcomes can't be recorded (a full disk, a space deleted meanwhile) rather
    than wait forever for them."""
    from studio.core.import_recovery import recover_interrupted
    from studio.jobs.config import scheduler_config
    from studio.jobs.executor import ThreadExecutor, body_threads
    from studio.jobs.recovery import recover_jobs
    from studio.jobs.scheduler import Scheduler

    recover_jobs(space)
    recover_interrupted(space)
    config = scheduler_config(studio.library, space.providers.names())
    executor = ThreadExecutor(body_threads(sum(lim.concurrency for lim in config.limits.values())))
    sched = Scheduler(space, executor, config=config, usage=studio.library)
    watch = JobWatch(wanted)
    sched.watch(watch.on_event)  # from here on, every change reaches the watch
    unsubscribe = space.subscribe(lambda e: watch.on_event(e) if e.type == "job:progress" else None)
    bar = _Progress(sys.stderr.isatty())
    try:
        # read once, after the feed's start: a change in between arrives as an event too
        watch.start(space.jobs(active_only=True, limit=1_000_000), [])
        if watch.missing():  # wanted jobs that ended (or were taken) before the start
            watch.start([], space.jobs(limit=1_000_000))
            watch.forget_missing()
        if forever:
            sched.run_until(lambda: False, on_tick=lambda: bar.show(watch))
        elif wanted is None:
            sched.run_until_idle(on_tick=lambda: bar.show(watch))
        else:
            sched.run_until(watch.done, on_tick=lambda: bar.show(watch))
        bar.show(watch, final=True)
    finally:
        unsubscribe()
        executor.shutdown(wait=True)
        sched.close()
        bar.done()
    # jobs still running elsewhere (another worker's) are not failures
    return watch.failed()


class _Progress:
    """A one-line bar on a terminal, redrawn at most every :data:`BAR_EVERY_S`; plain
    lines per finished job otherwise."""

    def __init__(self, tty: bool) -> None:
        self.tty = tty
        self._drawn = 0.0

    def show(self, watch: JobWatch, *, final: bool = False) -> None:
        if self.tty:
            now = time.monotonic()
            if not final and now - self._drawn < BAR_EVERY_S:
                return
            self._drawn = now
            jobs = watch.rows()
            total = len(jobs) or 1
            done = sum(1 for j in jobs if j.status in FINAL)
            running = [j for j in jobs if j.status == "running"]
            frac = (done + sum((j.progress or 0) for j in running)) / total
            bar = "#" * int(frac * 30)
            failed = sum(1 for j in jobs if j.status in FAILED)
            sys.stderr.write(
                f"\r[{bar:<30}] {done}/{total} done, {len(running)} running"
                + (f", {failed} failed" if failed else "")
            )
            sys.stderr.flush()
            return
        for j in watch.take_ended():
            extra = (
                f" ({j.error_code}: {j.error_message})"
                if j.error_code and j.status != "succeeded"
                else ""
            )
            print(f"job {j.id} {j.status}{extra}", file=sys.stderr)

    def done(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
