"""Ownership: checking for other holders never drops one's own lock, recovery acts only
on work whose owner is dead, and a losing run never deletes the winner's files."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.check import check_space
from studio.core.studio import Studio
from studio.jobs.executor import ThreadExecutor
from studio.jobs.recovery import recover_jobs
from studio.jobs.scheduler import RECOVER_EVERY_MS, Scheduler
from studio.providers_setup import build_providers
from tests.conftest import OWNER, FakeClock
from workers.base import GenerationOutput, GenerationRequest, RunContext
from workers.testing import ScriptedProvider

PLAIN = c.GenerationOptions(no_style=True)
ROOT = Path(__file__).resolve().parents[2]


def test_asking_whether_alone_never_drops_the_askers_lock(studio: Studio) -> None:
    studio.create_space("Locks")
    first = studio.open_space("locks")
    second = studio.open_space("locks")
    try:
        assert first.alone() is False  # the second is open
        second.close()
        third = studio.open_space("locks")
        try:
            # the first is still open: the third must not think it is alone
            assert third.alone() is False
            assert first.alone() is False
        finally:
            third.close()
        assert first.alone() is True
    finally:
        first.close()


HOLD = r"""
import sys, time
from pathlib import Path
from studio.core.studio import Studio
from studio.providers_setup import build_providers
space = Studio(Path(sys.argv[1]), providers=build_providers).open_space("dead")
print(space.holder_id, flush=True)
time.sleep(60)
"""


def test_a_killed_holder_is_dead_and_its_lock_file_goes(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Dead")
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(home)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert proc.stdout is not None
        holder = proc.stdout.readline().strip()
        with Studio(home, providers=build_providers) as s, s.open_space("dead") as survivor:
            holders = home / "spaces" / "dead.db.holders"
            assert sorted(p.name for p in holders.iterdir()) == sorted([survivor.holder_id, holder])
            assert survivor.holder_alive(holder) is True
            assert survivor.alone() is False
            proc.send_signal(signal.SIGKILL)  # the lock goes with the process; the file stays
            proc.wait(timeout=10)
            assert survivor.holder_alive(holder) is False
            assert [p.name for p in holders.iterdir()] == [survivor.holder_id]  # cleaned up
            assert survivor.alone() is True
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


class GatedProvider(ScriptedProvider):
    """Blocks in ``run`` until released, counting runs per prompt."""

    def __init__(self) -> None:
        super().__init__("scripted")
        self.entered = threading.Semaphore(0)
        self.release = threading.Event()

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        self.entered.release()
        self.release.wait(10)
        return super().run(request, context)


def test_a_losing_run_never_deletes_the_winners_files(studio: Studio) -> None:
    gated = GatedProvider()
    studio._providers.add(gated)  # type: ignore[union-attr]
    studio.create_space("Dup")
    a = studio.open_space("dup")
    b = studio.open_space("dup")
    ex_a, ex_b = ThreadExecutor(2), ThreadExecutor(2)
    try:
        applied = a.apply(c.RequestGeneration("x", c.MediaKindName.IMAGE, options=PLAIN), OWNER)
        jid, vid = applied.created["job_id"], applied.created["variant_id"]
        sched_a = Scheduler(a, ex_a)
        sched_a.pump()
        assert gated.entered.acquire(timeout=5)  # A runs it
        # the job is taken from A while A still runs it (as a mistaken recovery did)
        a.apply(c.RequeueJob(jid, "taken over"), Actor.system())
        sched_b = Scheduler(b, ex_b)
        sched_b.pump()
        assert gated.entered.acquire(timeout=5)  # B runs it too
        gated.release.set()
        assert sched_b.run_until_idle(timeout_s=10)
        assert sched_a.run_until_idle(timeout_s=10)
        ex_a.shutdown()
        ex_b.shutdown()
        row = a.variant_detail(vid).row
        assert row.status == "completed" and row.media_path is not None
        assert (a.media_dir / row.media_path).is_file()  # B's file survived A's late finish
        report = check_space(a)
        assert report.ok, report.problems
        assert not list((a.media_dir / ".staging").rglob("*.png"))  # no staging debris
    finally:
        a.close()
        b.close()


def test_recovery_leaves_a_live_workers_job_alone(studio: Studio) -> None:
    gated = GatedProvider()
    studio._providers.add(gated)  # type: ignore[union-attr]
    studio.create_space("Live")
    worker = studio.open_space("live")
    viewer = studio.open_space("live")
    recover_jobs(worker)  # what a worker does at start, here while another has it open
    viewer.close()
    executor = ThreadExecutor(2)
    try:
        applied = worker.apply(
            c.RequestGeneration("x", c.MediaKindName.IMAGE, options=PLAIN), OWNER
        )
        sched = Scheduler(worker, executor)
        sched.pump()
        assert gated.entered.acquire(timeout=5)
        for _ in range(5):  # other processes come and go, each running recovery
            other = studio.open_space("live")
            assert other.alone() is False
            assert recover_jobs(other) == 0
            other.close()
        gated.release.set()
        assert sched.run_until_idle(timeout_s=10)
        executor.shutdown()
        (job,) = worker.jobs()
        assert (job.id, job.status, job.attempts) == (applied.created["job_id"], "succeeded", 1)
        assert len(gated.requests) == 1  # it ran once
    finally:
        gated.release.set()
        worker.close()


def test_a_dead_workers_job_is_taken_over_while_another_runs(studio: Studio) -> None:
    studio.create_space("Takeover")
    with studio.open_space("takeover") as space:
        applied = space.apply(c.RequestGeneration("x", c.MediaKindName.IMAGE, options=PLAIN), OWNER)
        dead = studio.open_space("takeover")
        dead.apply(
            c.StartJob(applied.created["job_id"], dead.holder_id, 10 * 60_000), Actor.system()
        )
        dead.close()
        sched = Scheduler(space, ThreadExecutor(1))
        t0 = time.monotonic()
        assert sched.run_until_idle(timeout_s=10)  # no need to wait for the lease
        assert time.monotonic() - t0 < 5
        (job,) = space.jobs()
        assert (job.status, job.attempts) == ("succeeded", 2)


def test_a_busy_worker_takes_over_the_jobs_of_one_that_died(
    studio: Studio, clock: FakeClock
) -> None:
    gated = GatedProvider()
    studio._providers.add(gated)  # type: ignore[union-attr]
    studio.create_space("Busy")
    space = studio.open_space("busy")
    executor = ThreadExecutor(4)
    try:
        mine, theirs = (
            space.apply(c.RequestBatch("x", c.MediaKindName.IMAGE, 2, options=PLAIN), OWNER)
            .created["job_ids"]
            .split(",")
        )
        other = studio.open_space("busy")
        other.apply(c.StartJob(theirs, other.holder_id, 10 * 60_000), Actor.system())
        sched = Scheduler(space, executor)
        sched.pump()  # runs its own job; the other worker's is left alone
        assert gated.entered.acquire(timeout=5)
        assert {j.id: j.status for j in space.jobs()} == {mine: "running", theirs: "running"}
        other.close()  # the other worker dies, its lease still far from expiring
        clock.advance(RECOVER_EVERY_MS)
        sched.pump()  # still busy, it notices and takes the job over
        assert gated.entered.acquire(timeout=5)
        gated.release.set()
        assert sched.run_until_idle(timeout_s=10)
        executor.shutdown()
        jobs = {j.id: (j.status, j.attempts) for j in space.jobs()}
        assert jobs == {mine: ("succeeded", 1), theirs: ("succeeded", 2)}
    finally:
        gated.release.set()
        space.close()


def test_debris_of_a_crashed_completion_is_replaced_but_never_a_rows_files(
    studio: Studio,
) -> None:
    studio.create_space("Debris")
    with studio.open_space("debris") as space:
        applied = space.apply(c.RequestBatch("x", c.MediaKindName.IMAGE, 2, options=PLAIN), OWNER)
        first, second = applied.created["variant_ids"].split(",")
        aid = applied.created["asset_ids"]
        slug = space.asset(aid).slug
        # a run that crashed between moving its folder into place and its commit
        debris = space.media_dir / slug / first
        debris.mkdir(parents=True)
        (debris / "original.png").write_bytes(b"half of an old attempt")
        # a committed row of another variant points into the second one's folder
        taken = space.media_dir / slug / second
        taken.mkdir()
        (taken / "original.png").write_bytes(b"committed")
        upload = space.apply(c.BeginUpload(c.MediaKindName.IMAGE, "a.png", asset_id=aid), OWNER)
        space.apply(
            c.CompleteVariant(
                upload.created["variant_id"],
                f"{slug}/{second}/original.png",
                "image/png",
                9,
                hashlib.sha256(b"committed").hexdigest(),
            ),
            Actor.system(),
        )
        assert Scheduler(space, ThreadExecutor(2)).run_until_idle(timeout_s=10)
        row = space.variant_detail(first).row
        assert row.status == "completed" and row.media_path is not None
        assert (space.media_dir / row.media_path).read_bytes() != b"half of an old attempt"
        refused = space.variant_detail(second).row
        assert refused.status == "failed" and "another variant" in (refused.error_message or "")
        assert (taken / "original.png").read_bytes() == b"committed"
        assert check_space(space).ok
