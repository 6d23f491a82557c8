"""Every job ends: a failure that can't be stored as given is normalised, storage errors
are retried, and when the books still can't be written the waiters stop with an error
instead of waiting forever."""

from __future__ import annotations

import os
import resource
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.errors import StorageError
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from studio.providers_setup import build_providers
from tests.conftest import OWNER, FakeClock
from workers.base import ErrorKind, GenerationOutput, GenerationRequest, ProviderError, RunContext
from workers.testing import ScriptedProvider

ROOT = Path(__file__).resolve().parents[2]
PLAIN = c.GenerationOptions(no_style=True)

HOSTILE_TEXTS = [
    "x" * 100_000,  # far over the stored limit
    "bad \ud800 half of a surrogate pair",  # not encodable as UTF-8
    "",  # nothing at all
    "\x00\x1b[31mred\r\nsecond line\u2028",  # control characters
    "é" * 3000,
]


def request(space: Space) -> str:
    applied = space.apply(c.RequestGeneration("x", c.MediaKindName.IMAGE, options=PLAIN), OWNER)
    return applied.created["job_id"]


def job(space: Space, jid: str):  # type: ignore[no-untyped-def]
    return next(j for j in space.jobs() if j.id == jid)


@pytest.mark.parametrize("text", HOSTILE_TEXTS, ids=range(len(HOSTILE_TEXTS)))
def test_any_provider_error_text_ends_the_job(
    space: Space, provider: ScriptedProvider, text: str
) -> None:
    provider.script.append(ProviderError(ErrorKind.INVALID_REQUEST, text))
    jid = request(space)
    assert Scheduler(space, InlineExecutor()).run_until_idle(timeout_s=5)
    row = job(space, jid)
    assert (row.status, row.error_code) == ("failed", "INVALID_REQUEST")
    assert 0 < len(row.error_message) <= 2000
    assert row.error_message.isprintable()
    row.error_message.encode("utf-8")  # stored as valid text
    variant = space.variant_detail(row.variant_id).row
    assert (variant.status, variant.error_message) == ("failed", row.error_message)


@pytest.mark.parametrize("text", HOSTILE_TEXTS[:2], ids=range(2))
def test_a_crashing_provider_with_any_text_ends_the_job(
    space: Space, provider: ScriptedProvider, text: str
) -> None:
    def crash(request: GenerationRequest, context: RunContext) -> GenerationOutput:
        raise RuntimeError(text)

    provider.run = crash  # type: ignore[method-assign]
    jid = request(space)
    assert Scheduler(space, InlineExecutor()).run_until_idle(timeout_s=5)
    row = job(space, jid)
    assert (row.status, row.error_code) == ("failed", "INTERNAL")
    assert len(row.error_message) <= 2000


@contextmanager
def full_disk(space: Space) -> Iterator[threading.Event]:
    """Fault injection at the storage boundary: while the event is set, every write
    transaction fails as SQLite does on a full disk."""
    full = threading.Event()
    db = space._db
    real = db.write

    @contextmanager
    def write() -> Iterator[sqlite3.Connection]:
        if full.is_set():
            raise sqlite3.OperationalError("database or disk is full")
        with real() as conn:
            yield conn

    db.write = write  # type: ignore[method-assign]
    try:
        yield full
    finally:
        db.write = real  # type: ignore[method-assign]


def test_a_full_disk_at_job_start_stops_the_waiter_with_an_error(space: Space) -> None:
    jid = request(space)
    with full_disk(space) as full:
        full.set()
        sched = Scheduler(space, InlineExecutor())
        t0 = time.monotonic()
        with pytest.raises(StorageError, match="disk is full"):
            sched.run_until_idle(timeout_s=20)
        assert time.monotonic() - t0 < 5
        assert "start job" in (sched.problem() or "")
        full.clear()
        assert sched.run_until_idle(timeout_s=5)  # room again: it runs
    assert job(space, jid).status == "succeeded"
    assert sched.problem() is None


def test_a_failure_that_cannot_be_written_is_kept_and_written_later(
    space: Space, provider: ScriptedProvider
) -> None:
    jid = request(space)
    with full_disk(space) as full:

        def fill_then_fail(request: GenerationRequest, context: RunContext) -> GenerationOutput:
            full.set()  # the disk fills up while the job runs
            raise ProviderError(ErrorKind.SAFETY_BLOCKED, "blocked")

        provider.run = fill_then_fail  # type: ignore[method-assign]
        sched = Scheduler(space, InlineExecutor())
        with pytest.raises(StorageError, match="record the failure"):
            sched.run_until_idle(timeout_s=20)
        assert job(space, jid).status == "running"  # not written, but not forgotten
        full.clear()
        assert sched.run_until_idle(timeout_s=5)  # the next pump writes it
    row = job(space, jid)
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        "SAFETY_BLOCKED",
        "blocked",
    )


def test_a_result_that_cannot_be_saved_leaves_nothing_behind(
    space: Space, provider: ScriptedProvider
) -> None:
    jid = request(space)
    with full_disk(space) as full:
        real_run = provider.run

        def fill_after(request: GenerationRequest, context: RunContext) -> GenerationOutput:
            out = real_run(request, context)
            full.set()  # the result can't be committed
            return out

        provider.run = fill_after  # type: ignore[method-assign]
        sched = Scheduler(space, InlineExecutor())
        with pytest.raises(StorageError):
            sched.run_until_idle(timeout_s=20)
        full.clear()
        provider.run = real_run  # type: ignore[method-assign]
        sched.pump()  # records the retryable failure
    row = job(space, jid)
    assert (row.status, row.error_code) == ("queued", "STORAGE_ERROR")
    slug = space.snapshot().assets[0].slug
    assert not (space.media_dir / slug).exists()  # the files went back to staging, then away
    assert not any((space.media_dir / ".staging").rglob("original.*"))


def _limit_file_size(limit: int) -> None:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # fail the write (EFBIG), don't kill
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


def test_worker_until_idle_ends_when_the_disk_is_full(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Full")
        with s.open_space("full") as space:
            jid = request(space)
    # a real full disk for the worker: no file may grow past 40 KB (room for SQLite's
    # 32 KB shared-memory files, not for the job's writes), with SIGXFSZ ignored so
    # writes fail instead of killing
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "--home", str(home), "worker", "full", "--until-idle"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        preexec_fn=lambda: _limit_file_size(40_000),
    )
    try:
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode != 0
    last = err.strip().splitlines()[-1]  # log lines may come before it
    assert last.startswith("studio: could not "), err
    assert "disk" in last or "full" in last, err
    with Studio(home, providers=build_providers) as s, s.open_space("full") as space:
        # nothing lost: the worker is gone, so its claim (if written) is recovered, and
        # the job runs once there is room
        assert job(space, jid).status in ("queued", "running")
        assert Scheduler(space, InlineExecutor()).run_until_idle(timeout_s=10)
        assert job(space, jid).status == "succeeded"


@pytest.mark.parametrize("retry_after", [float("inf"), 1e12, float("nan"), -5.0])
def test_an_absurd_retry_after_still_ends_in_bounded_time(
    space: Space, provider: ScriptedProvider, clock: FakeClock, retry_after: float
) -> None:
    provider.script.append(
        ProviderError(ErrorKind.RATE_LIMITED, "slow down", retry_after=retry_after)
    )
    jid = request(space)
    sched = Scheduler(space, InlineExecutor())
    sched.pump()
    row = job(space, jid)
    assert (row.status, row.error_code) == ("queued", "RATE_LIMITED")
    assert row.not_before <= clock.now + 3600 * 1000  # honoured up to an hour, no more
    clock.advance(3600 * 1000 + 1)
    assert sched.run_until_idle(timeout_s=5)
    assert job(space, jid).status == "succeeded"


def test_a_hung_provider_is_abandoned_and_its_late_result_refused(
    space: Space, provider: ScriptedProvider, clock: FakeClock
) -> None:
    from studio.jobs.executor import ThreadExecutor
    from studio.jobs.scheduler import SchedulerConfig

    entered, release = threading.Event(), threading.Event()
    real_run = provider.run

    def hang(request: GenerationRequest, context: RunContext) -> GenerationOutput:
        entered.set()
        release.wait(10)  # deaf to cancellation
        return real_run(request, context)

    provider.run = hang  # type: ignore[method-assign]
    jid = request(space)
    executor = ThreadExecutor(2)
    sched = Scheduler(space, executor, config=SchedulerConfig(run_timeout_ms=60_000))
    try:
        sched.pump()
        assert entered.wait(5)
        clock.advance(61_000)
        sched.pump()  # overdue: abandoned, the job fails (retryably) as TIMEOUT
        row = job(space, jid)
        assert (row.status, row.error_code) == ("queued", "TIMEOUT") and sched.busy() == 0
        provider.run = real_run  # type: ignore[method-assign]
        release.set()  # the hung run returns late: its result must not be used
        time.sleep(0.3)
        assert job(space, jid).status == "queued"
        clock.advance(10 * 60_000)
        assert sched.run_until_idle(timeout_s=10)
    finally:
        release.set()
        executor.shutdown()
    row = job(space, jid)
    assert (row.status, row.attempts) == ("succeeded", 2)
    assert not any((space.media_dir / ".staging").rglob("original.*"))
