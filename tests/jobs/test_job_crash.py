"""SIGKILL a worker mid-job, many times; starting again must end every job succeeded or
failed, with no variant stuck and no duplicates."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

from studio.core import commands as c
from studio.core.check import check_space
from studio.core.studio import LOCAL_LATENCY_KEY, Studio
from studio.providers_setup import build_providers
from tests.conftest import OWNER

ROOT = Path(__file__).resolve().parents[2]


def worker(home: Path, *extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "--home", str(home), "worker", "jobs", *extra],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def test_sigkill_mid_job_then_restart(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Jobs")
        s.library.set_setting(LOCAL_LATENCY_KEY, "0.4")
        s.library.set_setting("jobs.local.concurrency", "3")
        with s.open_space("jobs") as space:
            opts = c.GenerationOptions(no_style=True, size="512")
            applied = space.apply(
                c.RequestBatch("a lighthouse", c.MediaKindName.IMAGE, 8, options=opts), OWNER
            )
            space.apply(
                c.RequestBatch(
                    "waves",
                    c.MediaKindName.AUDIO,
                    3,
                    c.BatchMode.SET,
                    type="sfx",
                    options=c.GenerationOptions(no_style=True, duration_s=1.0),
                ),
                OWNER,
            )
            expected = len(space.all_variants())
            assert expected == 11 and applied.created["job_ids"]
    rnd = random.Random(99)
    kills = 0
    for _ in range(8):
        proc = worker(home)
        time.sleep(0.45 + rnd.random() * 0.6)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            kills += 1
        proc.communicate(timeout=30)
    assert kills >= 6
    proc = worker(home, "--until-idle")
    _out, err = proc.communicate(timeout=120)
    with Studio(home, providers=build_providers) as s, s.open_space("jobs") as space:
        jobs = space.jobs(limit=10_000)
        assert {j.status for j in jobs} <= {"succeeded", "failed"}, err
        assert all(j.status == "succeeded" or j.error_code == "INTERRUPTED" for j in jobs)
        variants = space.all_variants()
        assert len(variants) == expected  # no duplicates
        assert {v.status for v in variants} <= {"completed", "failed"}
        assert sum(v.status == "completed" for v in variants) >= 1
        # one job per variant: restarts reuse the same job, never add one
        assert len(jobs) == expected
        report = check_space(space)
        assert report.ok and not report.warnings, report.problems + report.warnings
