"""How many door steps the scheduler spends per job (issue 18, item 6): every step is
a transaction, a commit and Python work under the GIL, which capped the waiting CLI at
short provider latencies."""

from __future__ import annotations

from collections.abc import Callable

from studio.core import commands as c
from studio.core.space import Space
from studio.jobs.policy import ProviderLimits
from studio.jobs.scheduler import Scheduler, SchedulerConfig
from tests.conftest import OWNER
from tests.sql import query

IMAGE = c.MediaKindName.IMAGE
PLAIN = c.GenerationOptions(no_style=True)


class HeldExecutor:
    """Keeps the bodies submitted, to run when the test says (the runs stay running)."""

    def __init__(self) -> None:
        self.held: list[Callable[[], None]] = []

    def submit(self, fn: Callable[[], None]) -> None:
        self.held.append(fn)

    def run_all(self) -> None:
        while self.held:
            self.held.pop(0)()

    def shutdown(self, wait: bool = True) -> None:
        self.run_all()


def queue(space: Space, n: int) -> list[str]:
    created = space.apply(c.RequestBatch("x", IMAGE, n, options=PLAIN), OWNER).created
    return created["job_ids"].split(",")


def start_steps(space: Space) -> list[str]:
    """The step ids of the job:start changes, one per row."""
    return [
        row[0] for row in query(space, "SELECT step_id FROM changes WHERE command = 'job:start'")
    ]


def running(space: Space) -> int:
    return sum(1 for j in space.jobs() if j.status == "running")


def config(concurrency: int) -> SchedulerConfig:
    return SchedulerConfig(limits={"scripted": ProviderLimits(concurrency)})


def test_free_slots_are_filled_in_one_door_step(space: Space) -> None:
    queue(space, 6)
    executor = HeldExecutor()
    sched = Scheduler(space, executor, config=config(4))
    try:
        sched.pump()
        steps = start_steps(space)
        assert len(steps) == 4 and running(space) == 4  # the limit holds
        assert len(set(steps)) == 1  # one transaction claimed all four (was four)
        assert len(executor.held) == 4
        executor.run_all()  # their runs end; two slots' worth of jobs remain
        sched.pump()
        steps = start_steps(space)
        assert len(steps) == 6 and len(set(steps)) == 2
        executor.run_all()
        assert [j.status for j in space.jobs()].count("succeeded") == 6
    finally:
        sched.close()


def test_a_refused_batch_falls_back_to_one_by_one_within_the_limit(space: Space) -> None:
    """Another scheduler's running jobs count against the limit inside the claim: the
    batch that would pass it is refused whole (nothing written) and the jobs that fit
    are claimed one by one."""
    queue(space, 8)
    first, second = HeldExecutor(), HeldExecutor()
    a = Scheduler(space, first, config=config(2))
    b = Scheduler(space, second, config=config(4))
    try:
        a.pump()
        assert running(space) == 2 and len(first.held) == 2
        b.pump()  # free here: 4; across the space only 2 more may run
        assert running(space) == 4 and len(second.held) == 2
        steps = start_steps(space)
        assert len(steps) == 4 and len(set(steps)) == 3  # a's batch, then b one by one
        first.run_all()
        second.run_all()
    finally:
        a.close()
        b.close()


def test_a_job_cancelled_before_the_batch_is_not_started(space: Space) -> None:
    jobs = queue(space, 3)
    space.apply(c.DeleteVariant(_variant_of(space, jobs[1])), OWNER)
    executor = HeldExecutor()
    sched = Scheduler(space, executor, config=config(4))
    try:
        sched.pump()
        assert len(executor.held) == 2
        statuses = {j.id: j.status for j in space.jobs()}
        assert statuses[jobs[0]] == statuses[jobs[2]] == "running"
        assert statuses[jobs[1]] == "parked"
        executor.run_all()
    finally:
        sched.close()


def _variant_of(space: Space, job_id: str) -> str:
    return next(j.variant_id for j in space.jobs() if j.id == job_id)
