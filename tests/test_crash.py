"""SIGKILL during a burst of imports and commands, many times: the space stays whole
and every change the worker saw committed is there."""

from __future__ import annotations

import os
import random
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from studio.core.check import check_space
from studio.core.imports import recover_interrupted
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from tests.sql import query

ROOT = Path(__file__).resolve().parents[1]

WORKER = r"""
import sys, random
from pathlib import Path
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.core.actor import Actor
from studio.core import commands as c
from studio.core.imports import import_files

home, files = Path(sys.argv[1]), [Path(p) for p in sys.argv[3:]]
rnd = random.Random(int(sys.argv[2]))
me = Actor.local_owner()
studio = Studio(home, providers=build_providers)
space = studio.open_space("crash")
out = sys.stdout
i = 0
while True:
    i += 1
    roll = rnd.random()
    if roll < 0.3:
        report = import_files(space, [rnd.choice(files)], me)
        for item in report.imported:
            out.write(f"IMPORT {space.last_seq()} {item.variant_id}\n")
    else:
        name = f"run{sys.argv[2]}-{i}"
        applied = space.apply(c.CreateAsset(name, c.MediaKindName.IMAGE), me)
        aid = applied.created["asset_id"]
        space.apply(c.MoveAssets((c.Position(aid, i, -i),)), me)
        last = space.apply(c.UpdateAsset(aid, tags=("crash", f"n{i}")), me)
        out.write(f"ASSET {last.seq} {aid} {name}\n")
    out.flush()
"""


@pytest.fixture
def media_files(tmp_path: Path) -> list[Path]:
    files = []
    for n, size in enumerate([(64, 48), (900, 700), (2400, 1600)]):
        p = tmp_path / f"pic{n}.png"
        # compress_level=1: noise barely compresses; level 6 spent seconds trying
        Image.effect_noise(size, 40 + n * 20).convert("RGB").save(p, compress_level=1)
        files.append(p)
    return files


# each run is an interpreter start, a kill and a check of the whole space (~1.5 s): the
# default run kills a few times, -m slow many more
@pytest.mark.parametrize(
    "runs", [pytest.param(4, id="4-kills"), pytest.param(24, id="24-kills", marks=pytest.mark.slow)]
)
def test_sigkill_during_imports_and_commands(
    tmp_path: Path, media_files: list[Path], runs: int
) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Crash")
    rnd = random.Random(1234)
    committed_assets: dict[str, str] = {}
    committed_variants: set[str] = set()
    highest_seq = 0
    for run in range(runs):
        proc = subprocess.Popen(
            [sys.executable, "-c", WORKER, str(home), str(run), *map(str, media_files)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        # let it get going — its first committed line (the interpreter starts in ~0.3 s, in
        # seconds on a loaded machine) — then kill it mid-burst
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        first = proc.stdout.readline() if ready else ""
        time.sleep(0.2 + rnd.random() * 0.7)
        os.kill(proc.pid, signal.SIGKILL)
        rest, err = proc.communicate(timeout=30)
        out = first + rest
        assert proc.returncode == -signal.SIGKILL, err
        for line in out.splitlines():
            parts = line.split()
            if len(parts) < 3 or not parts[1].isdigit():
                continue  # a line cut by the kill
            highest_seq = max(highest_seq, int(parts[1]))
            if parts[0] == "ASSET" and len(parts) == 4:
                committed_assets[parts[2]] = parts[3]
            elif parts[0] == "IMPORT":
                committed_variants.add(parts[2])

        with Studio(home, providers=build_providers) as s, s.open_space("crash") as space:
            report = check_space(space)
            assert report.ok, report.problems
            recover_interrupted(space)  # the killed import is orphaned: it turns failed
            stuck = query(space, "SELECT COUNT(*) FROM variants WHERE status = 'uploading'")
            assert stuck == [(0,)]
            assert space.last_seq() >= highest_seq
            live = {a.id: a for a in space.snapshot().assets}
            for aid, name in committed_assets.items():
                assert live[aid].name == name
                assert "crash" in live[aid].tags
            for vid in committed_variants:
                assert space.variant_detail(vid).row.status == "completed"
    assert len(committed_assets) > runs, "the worker barely ran; the test proves little"
    assert committed_variants, "no import finished before a kill"
    proc = subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home), "check", "crash"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert proc.stdout.startswith("ok:"), proc.stdout  # no warnings left either
