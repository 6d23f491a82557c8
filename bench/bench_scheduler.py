"""Scheduler throughput and overhead.

Targets (issue 3): with a fake provider of fixed latency L and concurrency C, 1,000 jobs
finish at >= 0.9 x C/L jobs/s; per-job overhead at latency 0 under 2 ms (median).
Run: .venv/bin/python bench/bench_scheduler.py [--jobs 1000] [--latency 0.2] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import itertools

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.space import Space
from studio.jobs.executor import InlineExecutor, ThreadExecutor
from studio.jobs.policy import ProviderLimits
from studio.jobs.scheduler import Scheduler, SchedulerConfig
from workers.registry import ProviderRegistry
from workers.testing import ScriptedProvider

ME = Actor.local_owner()


def make_space(tmp: Path, provider: ScriptedProvider, jobs: int) -> Space:
    space = Space.create(
        tmp / "b.db", tmp / "m", space_id="b", slug="b", providers=ProviderRegistry([provider])
    )
    opts = c.GenerationOptions(no_style=True)
    done = 0
    while done < jobs:
        n = min(16, jobs - done)
        space.apply(c.RequestBatch("bench", c.MediaKindName.IMAGE, n, options=opts), ME)
        done += n
    return space


def throughput(jobs: int, latency: float, conc: int) -> tuple[float, float]:
    with tempfile.TemporaryDirectory() as tmp:
        provider = ScriptedProvider("scripted", latency_s=latency)
        space = make_space(Path(tmp), provider, jobs)
        executor = ThreadExecutor(conc)
        sched = Scheduler(
            space,
            executor,
            config=SchedulerConfig(limits={"scripted": ProviderLimits(concurrency=conc)}),
        )
        t0 = time.perf_counter()
        assert sched.run_until_idle(timeout_s=600)
        elapsed = time.perf_counter() - t0
        executor.shutdown()
        ok = sum(j.status == "succeeded" for j in space.jobs(limit=100_000))
        assert ok == jobs, ok
        space.close()
        return jobs / elapsed, provider.max_concurrent


def overhead(jobs: int) -> tuple[list[float], list[float]]:
    """Per job, latency 0, one at a time: claim + run + store media + commit. Returns the
    per-job times and the part of each spent storing media (write, fsync, probe, thumb)."""
    import studio.jobs.scheduler as sched_mod

    storing: list[float] = []
    real_store = sched_mod.store_output

    def timed_store(*args, **kwargs):  # type: ignore[no-untyped-def]
        t0 = time.perf_counter()
        try:
            return real_store(*args, **kwargs)
        finally:
            storing.append(time.perf_counter() - t0)

    sched_mod.store_output = timed_store  # type: ignore[assignment]
    with tempfile.TemporaryDirectory() as tmp:
        provider = ScriptedProvider("scripted")
        space = make_space(Path(tmp), provider, jobs)
        sched = Scheduler(
            space,
            InlineExecutor(),
            config=SchedulerConfig(limits={"scripted": ProviderLimits(concurrency=1)}),
        )
        stamps: list[float] = []
        space.subscribe(
            lambda e: (
                stamps.append(time.perf_counter())
                if e.type == "job:updated" and e.data["status"] == "succeeded"
                else None
            )
        )
        t0 = time.perf_counter()
        while sched.has_work():  # the inline executor runs each job inside pump()
            sched.pump()
        stamps.insert(0, t0)
        space.close()
        sched_mod.store_output = real_store
        return [b - a for a, b in itertools.pairwise(stamps)], storing


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=1000)
    ap.add_argument("--latency", type=float, default=0.2)
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    ideal = args.concurrency / args.latency
    rate, seen = throughput(args.jobs, args.latency, args.concurrency)
    print(
        f"throughput {args.jobs} jobs, L={args.latency * 1000:.0f} ms, C={args.concurrency}: "
        f"{rate:.1f} jobs/s vs ideal C/L {ideal:.1f} -> {rate / ideal:.2f} (target >= 0.9); "
        f"peak concurrency {seen}"
    )
    times, storing = overhead(min(args.jobs, 300))
    sched_only = [t - s for t, s in zip(times, storing, strict=False)]
    print(
        f"per job at latency 0: total median {statistics.median(times) * 1000:.2f} ms = "
        f"storing media {statistics.median(storing) * 1000:.2f} ms (two fsync'd files, probe, "
        f"thumbnail) + scheduler {statistics.median(sched_only) * 1000:.2f} ms "
        f"(claim, dispatch, commit; target < 2 ms)"
    )


if __name__ == "__main__":
    main()
