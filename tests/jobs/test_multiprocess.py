"""Several processes on one space at once: a worker runs jobs, an importer imports, a
follower tails the change log, and another process opens the space, runs the start-up
recovery every command runs, and closes it again, many times. No job may run twice, no
live import may be failed, no committed file may go missing, and `studio check` must
end clean."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from studio.core import commands as c
from studio.core.studio import LOCAL_LATENCY_KEY, Studio
from studio.providers_setup import build_providers
from tests.conftest import OWNER

ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}

IMPORTER = r"""
import sys
from pathlib import Path
from studio.core.actor import Actor
from studio.core.imports import import_files, recover_interrupted
from studio.core.studio import Studio
from studio.providers_setup import build_providers

home, rounds, files = Path(sys.argv[1]), int(sys.argv[2]), [Path(p) for p in sys.argv[3:]]
for i in range(rounds):
    # what `studio import` does: open, recover, import, close
    with Studio(home, providers=build_providers) as studio, studio.open_space("multi") as space:
        recover_interrupted(space)
        report = import_files(space, [files[i % len(files)]], Actor.local_owner())
        for item in report.imported:
            print("IMPORTED", item.variant_id, flush=True)
        for refused in report.refused:
            print("REFUSED", refused.reason, flush=True)
"""

OPENER = r"""
import random, sys, time
from pathlib import Path
from studio.core.imports import recover_interrupted
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.jobs.recovery import recover_jobs

home, rounds = Path(sys.argv[1]), int(sys.argv[2])
rnd = random.Random(rounds)
requeued = failed = 0
for _ in range(rounds):
    # what every command that runs the queue does at start: open, recover, close
    with Studio(home, providers=build_providers) as studio, studio.open_space("multi") as space:
        time.sleep(rnd.random() * 0.03)
        requeued += recover_jobs(space)
        failed += recover_interrupted(space)
        time.sleep(rnd.random() * 0.03)
print("REQUEUED", requeued, "FAILED", failed, flush=True)
"""


def _py(script: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", script, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )


def _studio(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env=ENV,
    )


class Follower:
    """`studio log --follow`, stopped and started again from the last seq it printed
    (like a viewer that comes and goes), collecting every seq it saw."""

    def __init__(self, home: Path) -> None:
        self.home = home
        self.seqs: list[int] = []
        self.followed = 0
        self.errors: list[str] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        rnd = random.Random(7)
        # the CLI takes ~0.5 s to start, 4 s and more on a loaded machine: a round that
        # printed nothing doubles the next one's window (up to 20 s)
        window = 2.5
        for _ in range(1000):  # bounded; stop() ends it much sooner
            since = self.seqs[-1] if self.seqs else 0
            proc = _studio(self.home, "log", "multi", "--follow", "--json", "--since", str(since))
            self._stop.wait(window + 1.5 * rnd.random())
            proc.send_signal(signal.SIGKILL)
            out, err = proc.communicate(timeout=30)
            window = 2.5 if out.strip() else min(window * 2, 20.0)
            for line in out.splitlines():
                try:
                    self.seqs.append(int(json.loads(line)["seq"]))
                except (ValueError, KeyError):
                    break  # a line cut by the kill: start again after the last whole one
            if proc.returncode not in (0, -signal.SIGKILL):
                self.errors.append(err)
            if self._stop.is_set():
                return

    def stop(self) -> None:
        """Stop following, then read what is left once (``studio log`` without
        ``--follow``), so ``seqs`` should cover the whole log."""
        self._stop.set()
        self._thread.join(timeout=60)
        self.followed = len(self.seqs)
        since = self.seqs[-1] if self.seqs else 0
        proc = _studio(self.home, "log", "multi", "--json", "--since", str(since))
        out, err = proc.communicate(timeout=60)
        if proc.returncode != 0:
            self.errors.append(err)
        self.seqs.extend(int(json.loads(line)["seq"]) for line in out.splitlines())


def run_together(tmp_path: Path, *, jobs: int, imports: int, opens: int) -> None:
    home = tmp_path / "home"
    files = []
    for n, size in enumerate([(64, 48), (300, 200), (120, 160)]):
        p = tmp_path / f"pic{n}.png"
        Image.effect_noise(size, 40 + n * 20).convert("RGB").save(p)
        files.append(str(p))
    with Studio(home, providers=build_providers) as s:
        s.create_space("Multi")
        s.library.set_setting(LOCAL_LATENCY_KEY, "0.3")
        s.library.set_setting("jobs.local.concurrency", "2")
        with s.open_space("multi") as space:
            for start in range(0, jobs, 16):
                space.apply(
                    c.RequestBatch(
                        "a lighthouse",
                        c.MediaKindName.IMAGE,
                        min(16, jobs - start),
                        options=c.GenerationOptions(no_style=True, size="512"),
                    ),
                    OWNER,
                )

    follower = Follower(home)
    opener = _py(OPENER, str(home), str(opens))
    time.sleep(0.3)  # the opener is cycling before the others start
    worker = _studio(home, "worker", "multi")
    importer = _py(IMPORTER, str(home), str(imports), *files)
    procs = [opener, worker, importer]
    try:
        imp_out, imp_err = importer.communicate(timeout=120)
        assert importer.returncode == 0, imp_err
        op_out, op_err = opener.communicate(timeout=120)
        assert opener.returncode == 0, op_err
        # everything it found belonged to live processes: it re-queued and failed nothing
        assert op_out.split() == ["REQUEUED", "0", "FAILED", "0"], op_out
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            with Studio(home, providers=build_providers) as s, s.open_space("multi") as space:
                active = space.jobs(active_only=True)
            if not active or worker.poll() is not None:
                break
            time.sleep(0.2)
        assert worker.poll() is None, worker.communicate()[1]
        assert not active, "the worker did not finish the queue"
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGKILL)
        for p in procs:
            p.communicate(timeout=30)
        follower.stop()
    imported = [line.split()[1] for line in imp_out.splitlines() if line.startswith("IMPORTED")]
    assert len(imported) == imports, imp_out + imp_err  # no live import was failed

    with Studio(home, providers=build_providers) as s, s.open_space("multi") as space:
        all_jobs = space.jobs(limit=10_000)
        assert len(all_jobs) == jobs
        # each job ran exactly once: nobody re-queued work a live worker still ran
        assert [(j.status, j.attempts) for j in all_jobs] == [("succeeded", 1)] * jobs
        variants = space.all_variants()
        assert {v.status for v in variants} == {"completed"}
        for v in variants:
            assert v.media_path is not None
            assert (space.media_dir / v.media_path).is_file(), v.media_path
        for vid in imported:
            assert space.variant_detail(vid).row.status == "completed"
        last = space.last_seq()

    # the follower saw every committed step, once, in order
    assert not follower.errors, follower.errors
    assert follower.followed > 0, "the follower never printed while following"
    assert follower.seqs == list(range(1, last + 1))

    check = subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home), "check", "multi"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=ENV,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.stdout.startswith("ok:"), check.stdout


def test_worker_import_follower_and_an_opener_together(tmp_path: Path) -> None:
    run_together(tmp_path, jobs=6, imports=4, opens=40)


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("STUDIO_SLOW"), reason="long loop: set STUDIO_SLOW=1")
def test_worker_import_follower_and_an_opener_together_long(tmp_path: Path) -> None:
    run_together(tmp_path, jobs=32, imports=30, opens=1000)
