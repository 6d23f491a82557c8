"""``generate --wait`` and ``worker`` wait on the scheduler's wake-up: a provider slot is
refilled as soon as a call ends, and the jobs table is not read over and over."""

from __future__ import annotations

import itertools
import statistics
import threading
import time
from pathlib import Path

import pytest

import studio.providers_setup as providers_setup
from studio.cli.waiting import JobWatch, _Progress
from studio.core.events import Event
from studio.core.space import Space
from studio.store.library import Library
from studio.store.records import JobRow
from tests.cli.test_cli import Cli
from workers.base import GenerationOutput, GenerationRequest, RunContext
from workers.local import LocalProvider
from workers.registry import ProviderRegistry
from workers.testing import tiny_png

LATENCY_S = 0.2


class TimedLocal(LocalProvider):
    """The local provider's models, answering after a fixed latency with a small PNG;
    records when each call starts and ends (monotonic seconds)."""

    def __init__(self) -> None:
        super().__init__()
        self.calls: list[tuple[float, float]] = []
        self._lock = threading.Lock()

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        start = time.monotonic()
        context.sleep(LATENCY_S)
        with self._lock:
            self.calls.append((start, time.monotonic()))
        return GenerationOutput(mime="image/png", ext="png", data=tiny_png(request.seed))


@pytest.fixture
def timed(monkeypatch: pytest.MonkeyPatch) -> TimedLocal:
    provider = TimedLocal()

    def build(library: Library) -> ProviderRegistry:
        return ProviderRegistry([provider])

    monkeypatch.setattr(providers_setup, "build_providers", build)
    return provider


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], timed: TimedLocal) -> Cli:
    c = Cli(tmp_path / "home", capsys)
    c("space", "create", "Wait")
    assert c("settings", "jobs.local.concurrency", "1")[0] == 0
    return c


@pytest.fixture
def job_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts reads of the jobs table through ``Space.jobs``."""
    count = [0]
    real = Space.jobs

    def counted(self: Space, **kw: object) -> object:
        count[0] += 1
        return real(self, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(Space, "jobs", counted)
    return count


def _gaps(calls: list[tuple[float, float]]) -> list[float]:
    """From each call's end to the next call's start (one slot: calls never overlap)."""
    calls = sorted(calls)
    return [nxt[0] - prev[1] for prev, nxt in itertools.pairwise(calls)]


def test_generate_wait_refills_the_slot_at_once_and_reads_jobs_once(
    cli: Cli, timed: TimedLocal, job_reads: list[int]
) -> None:
    out = cli.json("generate", "wait", "a red kite", "--count", "6", "--wait")
    assert isinstance(out, dict)
    assert [v["status"] for v in out["variants"]] == ["completed"] * 6
    assert len(timed.calls) == 6
    gaps = _gaps(timed.calls)
    assert min(gaps) >= 0  # one slot: never two calls at once
    # polling every 0.1 s left the slot empty 0–100 ms (plus storing) after each call;
    # woken by the call's end, the next one starts within a thread switch and a claim
    assert max(gaps) < 0.06, gaps
    assert statistics.median(gaps) < 0.03, gaps
    # the jobs are read at the start only (not on every turn of a loop)
    assert job_reads[0] <= 2, job_reads[0]


def test_worker_until_idle_ends_promptly_after_the_last_job(
    cli: Cli, timed: TimedLocal, job_reads: list[int]
) -> None:
    assert cli("generate", "wait", "a blue kite", "--count", "4")[0] == 0
    t0 = time.monotonic()
    code, _, err = cli("worker", "wait", "--until-idle")
    took = time.monotonic() - t0
    assert code == 0, err
    assert err.count("succeeded") == 4  # one line per job that ended
    assert len(timed.calls) == 4
    assert max(_gaps(timed.calls)) < 0.06
    # four calls of 0.2 s one after another, then storing the last: nothing more
    assert took < 4 * LATENCY_S + 0.5, took
    assert job_reads[0] <= 2, job_reads[0]


def _row(job_id: str, status: str) -> JobRow:
    fields = dict.fromkeys(JobRow._fields)
    fields.update(id=job_id, status=status, progress=0.0)
    return JobRow(**fields)  # type: ignore[arg-type]


def _event(seq: int, job_id: str, status: str) -> Event:
    return Event("job:updated", _row(job_id, status)._asdict(), seq)


def test_a_turn_of_the_wait_loop_does_not_walk_every_job(
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Asking "done?" and printing the endings cost the same with 20,000 jobs followed
    as with 10: both walked every job on every turn (quadratic in the jobs)."""
    n = 20_000
    ids = [f"j{i}" for i in range(n)]
    watch = JobWatch(set(ids))
    watch.start([_row(j, "queued") for j in ids], [])
    bar = _Progress(tty=False)
    t0 = time.process_time()
    for turn in range(2_000):  # a turn per job ended, as the loop does
        watch.on_event(_event(turn + 1, ids[turn], "succeeded"))
        bar.show(watch)
        assert not watch.done()
    took = time.process_time() - t0
    assert took < 1.0, took  # walking 20,000 rows twice a turn: several seconds
    err = capsys.readouterr().err.splitlines()
    assert err == [f"job {j} succeeded" for j in ids[:2_000]]  # each ending told once
    for seq, j in enumerate(ids[2_000:], start=10_000):
        watch.on_event(_event(seq, j, "failed"))
    watch.on_event(_event(50_000, ids[0], "parked"))  # ended again: not told twice
    bar.show(watch)
    assert watch.done() and watch.failed() == n - 2_000
    assert len(capsys.readouterr().err.splitlines()) == n - 2_000
