"""The scheduler: limits, retries with backoff, Retry-After, cancellation, leases."""

from __future__ import annotations

import random
import threading
import time

import pytest

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.events import Event
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor, ThreadExecutor
from studio.jobs.policy import ProviderLimits, RateWindow, RetryPolicy, retry_delay_s
from studio.jobs.recovery import STUCK_AFTER_MS, recover_jobs
from studio.jobs.scheduler import Scheduler, SchedulerConfig
from studio.jobs.usage import UsageEvent
from tests.conftest import OWNER, FakeClock
from tests.sql import query
from workers.base import ErrorKind, ProviderError
from workers.testing import ScriptedProvider

IMAGE = c.MediaKindName.IMAGE
PLAIN = c.GenerationOptions(no_style=True)


def request(space: Space, n: int = 1) -> list[str]:
    if n == 1:
        return [
            space.apply(c.RequestGeneration("x", IMAGE, options=PLAIN), OWNER).created["job_id"]
        ]
    return (
        space.apply(c.RequestBatch("x", IMAGE, n, options=PLAIN), OWNER)
        .created["job_ids"]
        .split(",")
    )


def job(space: Space, jid: str):  # type: ignore[no-untyped-def]
    return next(j for j in space.jobs() if j.id == jid)


def test_full_jitter_backoff_is_bounded_and_honours_retry_after() -> None:
    rng = random.Random(3)
    policy = RetryPolicy(base_s=2, cap_s=60)
    for attempt, ceiling in [(1, 2), (2, 4), (3, 8), (6, 60), (20, 60)]:
        delays = [retry_delay_s(attempt, policy, rng) for _ in range(200)]
        assert min(delays) >= 0 and max(delays) <= ceiling
        assert max(delays) > ceiling * 0.8  # full jitter spreads over the range
    assert all(retry_delay_s(1, policy, rng, retry_after_s=30) >= 30 for _ in range(50))


def test_rate_window() -> None:
    w = RateWindow(per_minute=2)
    assert w.next_allowed(0) == 0
    w.record(0)
    w.record(10)
    assert w.next_allowed(20) == 60_000
    assert w.next_allowed(60_001) == 60_001
    assert RateWindow(None).next_allowed(5) == 5


class Usage:
    def __init__(self) -> None:
        self.events: list[UsageEvent] = []

    def record_usage(self, event: UsageEvent) -> None:
        self.events.append(event)


def test_transient_errors_retry_with_retry_after_and_injected_clock(
    space: Space, provider: ScriptedProvider, clock: FakeClock
) -> None:
    provider.script.extend(
        [
            ProviderError(ErrorKind.RATE_LIMITED, "429 slow down", retry_after=30),
            ProviderError(ErrorKind.TRANSIENT, "503 try later"),
        ]
    )
    (jid,) = request(space)
    usage = Usage()
    sched = Scheduler(
        space,
        InlineExecutor(),
        usage=usage,
        rng=random.Random(1),
        config=SchedulerConfig(retry=RetryPolicy(base_s=2, cap_s=60)),
    )
    t0 = clock.now
    sched.pump()  # attempt 1: rate limited
    row = job(space, jid)
    assert (row.status, row.attempts, row.error_code) == ("queued", 1, "RATE_LIMITED")
    assert row.not_before >= t0 + 30_000  # Retry-After honoured
    assert space.variant_detail(row.variant_id).row.status == "pending"
    wait = sched.pump()  # too early: nothing starts, and it says how long to wait
    assert wait is not None and wait > 29_000 and job(space, jid).attempts == 1
    clock.advance(wait)
    sched.pump()  # attempt 2: transient
    row = job(space, jid)
    assert (row.status, row.attempts, row.error_code) == ("queued", 2, "TRANSIENT")
    assert row.not_before - clock.now <= 4_000 + 5  # full jitter below 2 * base
    clock.advance(5_000)
    sched.pump()  # attempt 3 succeeds
    assert job(space, jid).status == "succeeded"
    assert [(u.provider, u.units, u.cost_usd) for u in usage.events] == [("scripted", 1.0, 0.01)]


@pytest.mark.parametrize(
    "kind",
    [
        ErrorKind.AUTH,
        ErrorKind.QUOTA,
        ErrorKind.SAFETY_BLOCKED,
        ErrorKind.INVALID_REQUEST,
        ErrorKind.MALFORMED,
    ],
)
def test_permanent_errors_are_not_retried(
    space: Space, provider: ScriptedProvider, kind: ErrorKind
) -> None:
    provider.script.append(ProviderError(kind, f"the provider said: {kind.value}"))
    (jid,) = request(space)
    usage = Usage()
    Scheduler(space, InlineExecutor(), usage=usage).pump()
    row = job(space, jid)
    assert (row.status, row.attempts) == ("failed", 1)
    variant = space.variant_detail(row.variant_id).row
    assert variant.status == "failed" and variant.error_code == kind.value.upper()
    assert variant.error_message == f"the provider said: {kind.value}"
    assert usage.events[0].units == 0 and usage.events[0].cost_usd == 0


def test_retries_stop_at_max_attempts(
    space: Space, provider: ScriptedProvider, clock: FakeClock
) -> None:
    provider.script.extend([ProviderError(ErrorKind.PROVIDER_DOWN, "down")] * 5)
    (jid,) = request(space)
    sched = Scheduler(space, InlineExecutor())
    for _ in range(5):
        sched.pump()
        clock.advance(400_000)
    row = job(space, jid)
    assert (row.status, row.attempts, row.error_code) == ("failed", 3, "PROVIDER_DOWN")


def test_concurrency_limit_per_provider(studio: Studio) -> None:
    slow = ScriptedProvider("scripted", latency_s=0.15)
    studio._providers.add(slow)  # type: ignore[union-attr]
    studio.create_space("Conc")
    with studio.open_space("conc") as space:
        jobs = request(space, 6)
        executor = ThreadExecutor(8)
        sched = Scheduler(
            space,
            executor,
            clock=lambda: time.time_ns() // 1_000_000,
            config=SchedulerConfig(limits={"scripted": ProviderLimits(concurrency=2)}),
        )
        assert sched.run_until_idle(timeout_s=20)
        executor.shutdown()
        assert slow.max_concurrent == 2
        assert all(job(space, j).status == "succeeded" for j in jobs)


def test_rate_limit_per_minute(space: Space, provider: ScriptedProvider, clock: FakeClock) -> None:
    jobs = request(space, 3)
    sched = Scheduler(
        space,
        InlineExecutor(),
        config=SchedulerConfig(limits={"scripted": ProviderLimits(4, per_minute=2)}),
    )
    wait = sched.pump()
    assert [job(space, j).status for j in jobs].count("succeeded") == 2
    assert wait is not None and 59_000 < wait <= 60_000
    clock.advance(wait)
    sched.pump()
    assert all(job(space, j).status == "succeeded" for j in jobs)


def test_pause_and_resume(space: Space) -> None:
    (jid,) = request(space)
    space.apply(c.PauseQueue(), OWNER)
    sched = Scheduler(space, InlineExecutor())
    assert sched.run_until_idle(timeout_s=2)  # paused and nothing running: idle
    assert job(space, jid).status == "queued"
    space.apply(c.ResumeQueue(), OWNER)
    sched.pump()
    assert job(space, jid).status == "succeeded"


def test_priority_and_queue_positions(space: Space) -> None:
    low = request(space)[0]
    high = space.apply(
        c.RequestGeneration(
            "urgent", IMAGE, options=c.GenerationOptions(no_style=True, priority=5)
        ),
        OWNER,
    ).created["job_id"]
    sched = Scheduler(space, InlineExecutor())
    assert sched.positions() == {high: 1, low: 2}


def test_cancel_a_running_job_never_completes(studio: Studio) -> None:
    slow = ScriptedProvider("scripted", latency_s=5)
    studio._providers.add(slow)  # type: ignore[union-attr]
    studio.create_space("Cancel")
    with studio.open_space("cancel") as space:
        (jid,) = request(space)
        executor = ThreadExecutor(2)
        sched = Scheduler(space, executor)
        sched.pump()
        deadline = time.monotonic() + 5
        while not slow.requests and time.monotonic() < deadline:
            time.sleep(0.01)
        t0 = time.monotonic()
        space.apply(c.CancelJob(jid), OWNER)
        assert sched.run_until_idle(timeout_s=5)
        assert time.monotonic() - t0 < 2  # the provider stopped promptly
        executor.shutdown()
        row = job(space, jid)
        assert row.status == "cancelled"
        variant = space.variant_detail(row.variant_id).row
        assert (variant.status, variant.error_code, variant.media_path) == (
            "failed",
            "CANCELLED",
            None,
        )


def test_deleting_a_variant_mid_run_discards_the_result(studio: Studio) -> None:
    gate = threading.Event()
    slow = ScriptedProvider("scripted", latency_s=0.3)
    studio._providers.add(slow)  # type: ignore[union-attr]
    studio.create_space("Del")
    with studio.open_space("del") as space:
        applied = space.apply(c.RequestGeneration("x", IMAGE, options=PLAIN), OWNER)
        executor = ThreadExecutor(2)
        sched = Scheduler(space, executor)
        sched.pump()
        while not slow.requests:
            time.sleep(0.01)
        space.apply(c.DeleteAsset(applied.created["asset_id"]), OWNER)
        assert sched.run_until_idle(timeout_s=5)
        executor.shutdown()
        gate.set()
        row = job(space, applied.created["job_id"])
        assert row.status == "parked"  # set aside until the asset is restored
        detail = space.variant_detail(applied.created["variant_id"])
        assert detail.row.status == "pending" and detail.row.media_path is None
        slug = query(space, "SELECT slug FROM assets WHERE id = ?", (applied.created["asset_id"],))[
            0
        ][0]
        assert not (space.media_dir / slug / applied.created["variant_id"]).exists()


def test_queued_jobs_of_deleted_assets_wait_until_restored(space: Space) -> None:
    applied = space.apply(c.RequestGeneration("x", IMAGE, options=PLAIN), OWNER)
    space.apply(c.DeleteAsset(applied.created["asset_id"]), OWNER)
    sched = Scheduler(space, InlineExecutor())
    assert sched.run_until_idle(timeout_s=1)
    assert job(space, applied.created["job_id"]).status == "parked"
    space.apply(c.RestoreAsset(applied.created["asset_id"]), OWNER)
    sched.pump()
    assert job(space, applied.created["job_id"]).status == "succeeded"


def test_recovery_requeues_only_jobs_whose_owner_is_dead(
    space: Space, clock: FakeClock, studio: Studio
) -> None:
    live, dead, legacy = request(space, 3)
    gone = studio.open_space(space.slug)
    space.apply(c.StartJob(live, space.holder_id, 1_000), Actor.system())
    space.apply(c.StartJob(dead, gone.holder_id, 1_000), Actor.system())
    space.apply(c.StartJob(legacy, "local", 1_000), Actor.system())  # not a holder id
    gone.close()  # its holder is dead now
    other = studio.open_space(space.slug)
    try:
        assert recover_jobs(other) == 2  # at once: no lease wait for the dead
        assert {job(space, j).status for j in (dead, legacy)} == {"queued"}
        clock.advance(2_000)  # the live owner's lease expired, but it is alive
        assert recover_jobs(other) == 0 and job(space, live).status == "running"
        clock.advance(STUCK_AFTER_MS)  # expired long ago: stuck
        assert recover_jobs(other) == 1
    finally:
        other.close()
    row = job(space, live)
    assert row.status == "queued" and row.attempts == 1
    assert space.variant_detail(row.variant_id).row.status == "pending"
    assert Scheduler(space, InlineExecutor()).run_until_idle(timeout_s=5)
    assert {job(space, j).status for j in (live, dead, legacy)} == {"succeeded"}


def test_progress_events_reach_subscribers(space: Space) -> None:
    seen: list[Event] = []
    space.subscribe(seen.append)
    request(space)
    Scheduler(space, InlineExecutor()).pump()
    progress = [e for e in seen if e.type == "job:progress"]
    assert progress and progress[-1].data["progress"] == 1.0 and progress[-1].seq == 0


def test_malformed_media_from_a_provider_fails_cleanly(
    space: Space, provider: ScriptedProvider
) -> None:
    from workers.base import GenerationOutput

    def bad_run(request, context):  # type: ignore[no-untyped-def]
        return GenerationOutput(mime="image/png", ext="png", data=b"definitely not a png")

    provider.run = bad_run  # type: ignore[method-assign]
    (jid,) = request(space)
    Scheduler(space, InlineExecutor()).pump()
    row = job(space, jid)
    assert row.status == "failed" and row.error_code == "MALFORMED"
    assert "unusable" in (row.error_message or "")


def test_stop_requeues_running_jobs_without_counting_the_attempt(studio: Studio) -> None:
    slow = ScriptedProvider("scripted", latency_s=5)
    studio._providers.add(slow)  # type: ignore[union-attr]
    studio.create_space("Stop")
    with studio.open_space("stop") as space:
        (jid,) = request(space)
        executor = ThreadExecutor(2)
        sched = Scheduler(space, executor)
        sched.pump()
        while not slow.requests:
            time.sleep(0.01)
        assert sched.stop() == 1
        executor.shutdown(wait=True)
        row = job(space, jid)
        assert (row.status, row.attempts) == ("queued", 0)
        assert space.variant_detail(row.variant_id).row.status == "pending"
