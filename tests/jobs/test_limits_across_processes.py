"""Per-provider limits hold across processes, and a space deleted while a worker runs
stays deleted."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.errors import StorageError
from studio.core.studio import LOCAL_LATENCY_KEY, Studio
from studio.jobs.executor import ThreadExecutor
from studio.jobs.scheduler import Scheduler
from studio.providers_setup import build_providers
from tests.conftest import OWNER
from workers.base import GenerationOutput, GenerationRequest, RunContext
from workers.testing import ScriptedProvider

ROOT = Path(__file__).resolve().parents[2]
PLAIN = c.GenerationOptions(no_style=True)


def _max_overlap(intervals: list[tuple[int, int]]) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    now = best = 0
    for _, step in edges:  # an end at the same ms as a start comes first (-1 < 1)
        now += step
        best = max(best, now)
    return best


def test_two_workers_keep_a_concurrency_limit_of_one(tmp_path: Path) -> None:
    home = tmp_path / "home"
    jobs = 6
    with Studio(home, providers=build_providers) as s:
        s.create_space("Two")
        s.library.set_setting(LOCAL_LATENCY_KEY, "0.25")
        s.library.set_setting("jobs.local.concurrency", "1")
        with s.open_space("two") as space:
            space.apply(
                c.RequestBatch(
                    "a lighthouse",
                    c.MediaKindName.IMAGE,
                    jobs,
                    options=c.GenerationOptions(no_style=True, size="512"),
                ),
                OWNER,
            )
    calls = tmp_path / "calls.txt"
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", RECORDING_WORKER, str(calls), "--home", str(home), *WORK],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        for _ in range(2)
    ]
    errors = [w.communicate(timeout=120)[1] for w in workers]
    with Studio(home, providers=build_providers) as s, s.open_space("two") as space:
        rows = space.jobs(limit=100)
        assert [(j.status, j.attempts) for j in rows] == [("succeeded", 1)] * jobs
    # the limit is on provider calls (storing a result holds no slot): never two at once
    spans = [tuple(int(t) for t in line.split()) for line in calls.read_text().splitlines()]
    assert len(spans) == jobs, spans
    assert _max_overlap([(a, b) for _, a, b in spans]) == 1, spans
    assert [w.returncode for w in workers] == [0, 0], errors


WORK = ("worker", "two", "--until-idle")
RECORDING_WORKER = """
import os, sys, time
import studio.providers_setup as setup
from workers.local import LocalProvider
from workers.registry import ProviderRegistry

out = sys.argv.pop(1)


class Recording(LocalProvider):
    def run(self, request, context):
        start = time.monotonic_ns()
        try:
            return super().run(request, context)
        finally:
            with open(out, "a") as f:
                f.write(f"{os.getpid()} {start} {time.monotonic_ns()}\\n")


setup.build_providers = lambda library: ProviderRegistry([Recording(latency_s=0.25)])
from studio.cli.main import main

sys.exit(main(sys.argv[1:]))
"""


class GatedProvider(ScriptedProvider):
    def __init__(self) -> None:
        super().__init__("scripted")
        self.entered = threading.Event()
        self.release = threading.Event()

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        self.entered.set()
        self.release.wait(10)
        return super().run(request, context)


def test_a_space_deleted_while_a_job_runs_stays_deleted(studio: Studio) -> None:
    gated = GatedProvider()
    studio._providers.add(gated)  # type: ignore[union-attr]
    studio.create_space("Gone")
    space = studio.open_space("gone")
    executor = ThreadExecutor(2)
    try:
        applied = space.apply(c.RequestGeneration("x", c.MediaKindName.IMAGE, options=PLAIN), OWNER)
        sched = Scheduler(space, executor)
        sched.pump()
        assert gated.entered.wait(5)
        trash = studio.delete_space("gone")
        gated.release.set()
        with pytest.raises(StorageError, match="deleted"):
            sched.run_until_idle(timeout_s=10)
        executor.shutdown()
        assert not space.media_dir.exists()  # not recreated by the job
        assert not (studio.paths.home / "spaces" / "gone.db").exists()
        assert not (studio.paths.home / "spaces" / "gone.db.holders").exists()
        with pytest.raises(StorageError, match="deleted"):
            space.apply(c.CreateAsset("late", c.MediaKindName.IMAGE), OWNER)
    finally:
        gated.release.set()
        space.close()
    conn = sqlite3.connect(trash / "gone.db")
    try:
        status = conn.execute(
            "SELECT status FROM jobs WHERE id = ?", (applied.created["job_id"],)
        ).fetchone()[0]
        assets = conn.execute("SELECT COUNT(*) FROM assets").fetchone()[0]
    finally:
        conn.close()
    assert status == "running"  # nothing finished into the trash
    assert assets == 1
    assert not list((trash / "media").rglob("original.*"))


def test_deleting_a_space_stops_a_worker_in_another_process(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Doomed")
        s.library.set_setting(LOCAL_LATENCY_KEY, "1.0")
        s.library.set_setting("jobs.local.concurrency", "1")
        with s.open_space("doomed") as space:
            space.apply(c.RequestBatch("x", c.MediaKindName.IMAGE, 3, options=PLAIN), OWNER)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    worker = subprocess.Popen(
        [sys.executable, "-m", "studio", "--home", str(home), "worker", "doomed"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        running = False
        while not running and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
            with Studio(home, providers=build_providers) as s, s.open_space("doomed") as space:
                running = any(j.status == "running" for j in space.jobs())
        assert running, "the worker never started a job"
        deleted_at = time.time_ns() // 1_000_000
        subprocess.run(
            [
                sys.executable,
                "-m",
                "studio",
                "--home",
                str(home),
                "space",
                "delete",
                "doomed",
                "--yes",
            ],
            check=True,
            capture_output=True,
            cwd=ROOT,
            env=env,
            timeout=60,
        )
        _out, err = worker.communicate(timeout=30)  # it stops by itself
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode != 0
    assert err.strip().splitlines()[-1] == (
        "studio: the space doomed was deleted or moved while it was open"
    ), err
    assert not (home / "media" / "doomed").exists()  # not recreated by the job
    assert not (home / "spaces" / "doomed.db").exists()
    (trash,) = (home / "trash").iterdir()
    conn = sqlite3.connect(trash / "doomed.db")
    try:
        late = conn.execute(
            "SELECT COUNT(*) FROM jobs WHERE finished_at >= ?", (deleted_at,)
        ).fetchone()[0]
    finally:
        conn.close()
    assert late == 0  # nothing finished into the trash
