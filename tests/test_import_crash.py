"""SIGKILL in the middle of a parallel import: every row points at whole files, the
pool's workers die with the app, and the next open cleans up what was in flight."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from PIL import Image

from studio.core.check import check_space
from studio.core.imports import recover_interrupted
from studio.core.studio import Studio
from studio.media.previews import tier_paths
from studio.providers_setup import build_providers
from tests.media.conftest import write_wav
from tests.sql import query

ROOT = Path(__file__).resolve().parents[1]

IMPORTER = r"""
import sys
from pathlib import Path
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.core.actor import Actor
from studio.core.imports import import_files

home, files = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
with Studio(home, providers=build_providers) as studio, studio.open_space("crash") as space:
    def step(done, total, path):
        print(f"DONE {done}", flush=True)
    import_files(space, files, Actor.local_owner(), workers=2, progress=step)
print("FINISHED", flush=True)
"""


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` (Linux /proc)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    out: set[int] = set()
    frontier = {pid}
    while frontier:
        frontier = {p for p, pp in parents.items() if pp in frontier} - out
        out |= frontier
    return out


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited (nobody reaped it yet)


def test_a_killed_parallel_import_leaves_only_whole_files_and_no_workers(
    tmp_path: Path,
) -> None:
    files = []
    for i in range(18):
        p = tmp_path / f"photo{i}.jpg"
        Image.effect_noise((1000, 750), 30 + i).convert("RGB").save(p, quality=90)
        files.append(p)
    for i in range(3):
        w = tmp_path / f"clip{i}.wav"
        write_wav(w, 3.0)
        files.insert(3 + 6 * i, w)
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Crash")
    proc = subprocess.Popen(
        [sys.executable, "-c", IMPORTER, str(home), *map(str, files)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    done = 0
    end = time.monotonic() + 90
    while done < 4 and time.monotonic() < end:  # a few rows committed, most in flight
        line = proc.stdout.readline()
        if not line:
            break
        if line.startswith("DONE"):
            done = int(line.split()[1])
    workers = _descendants(proc.pid)
    os.kill(proc.pid, signal.SIGKILL)
    _out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL, err
    assert 4 <= done < len(files), "the kill must land mid-import"
    assert workers, "the import ran no worker processes"
    gone_by = time.monotonic() + 10
    while any(_running(p) for p in workers) and time.monotonic() < gone_by:
        time.sleep(0.1)
    assert not any(_running(p) for p in workers), "pool workers outlived the app"

    with Studio(home, providers=build_providers) as s, s.open_space("crash") as space:
        recover_interrupted(space)  # the killed holder's uploads fail, its staging goes
        rows = query(
            space,
            "SELECT id, status, media_path, thumb_path, sha256, size_bytes FROM variants",
        )
        assert rows and {r[1] for r in rows} <= {"completed", "failed"}
        completed = [r for r in rows if r[1] == "completed"]
        assert len(completed) >= done
        for _vid, _status, media, thumb, sha, size in completed:
            data = (space.media_dir / media).read_bytes()
            assert len(data) == size and hashlib.sha256(data).hexdigest() == sha
            assert (space.media_dir / thumb).stat().st_size > 0
            for tier in tier_paths(thumb):
                with Image.open(space.media_dir / tier) as im:
                    im.load()
        report = check_space(space)
        assert report.ok, report.problems
        staging = space.media_dir / ".staging"
        assert not staging.exists() or not any(staging.rglob("*.*")), "staging debris left"
