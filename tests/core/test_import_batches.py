"""Files the pool finished while this process was busy are registered together: two
door steps per batch, not two per file; a kill inside a batch leaves no half-registered
file, and what it interrupted imports again."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

import studio.core.imports as imports
from studio.core.check import check_space
from studio.core.imports import import_files, recover_interrupted
from studio.core.space import Space
from studio.core.studio import Studio
from studio.media import MediaLimits
from studio.media.prepare import Failed, Prepared, prepare_file
from studio.providers_setup import build_providers
from tests.conftest import OWNER, add_asset
from tests.media.conftest import write_wav
from tests.sql import query

ROOT = Path(__file__).resolve().parents[2]
N_FILES = 8
_WAIT_S = 30.0


def first_waits_for_the_rest(path: Path, stage: Path, limits: MediaLimits) -> Prepared | Failed:
    """A worker's prepare in which the first file ends only once every other file's
    thumbnail is in its staging folder (all of them are made before the first file is
    submitted): when it arrives, the rest are finished too."""
    if path.name.startswith("p00"):
        end = time.monotonic() + _WAIT_S
        while time.monotonic() < end:
            others = [d for d in stage.parent.iterdir() if d != stage]
            if all((d / "thumb.webp").exists() for d in others):
                break
            time.sleep(0.02)
        time.sleep(0.3)  # their results cross back to the importing process
    return prepare_file(path, stage, limits)


def each_takes_a_while(path: Path, stage: Path, limits: MediaLimits) -> Prepared | Failed:
    """A worker's prepare that takes 40 ms more a file (a bigger photo, say)."""
    time.sleep(0.04)
    return prepare_file(path, stage, limits)


def noise_photos(folder: Path, n: int, size: tuple[int, int] = (320, 240)) -> list[Path]:
    """``n`` distinct noise JPEGs of ``size`` in ``folder``."""
    out = []
    for i in range(n):
        p = folder / f"p{i:02d}.jpg"
        Image.effect_noise(size, 20 + i).convert("RGB").save(p, quality=85)
        out.append(p)
    return out


def _photos(folder: Path, n: int = N_FILES) -> list[Path]:
    return noise_photos(folder, n)


def test_files_finished_meanwhile_are_registered_in_two_door_steps(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _photos(tmp_path)
    monkeypatch.setattr(imports, "_PREPARE", first_waits_for_the_rest)
    steps: list[int] = []
    real_step = space.apply_step

    def counting_step(cmds, actor, **kw):  # type: ignore[no-untyped-def]
        steps.append(len(cmds))
        return real_step(cmds, actor, **kw)

    monkeypatch.setattr(space, "apply_step", counting_step)
    seen: list[int] = []
    report = import_files(space, files, OWNER, workers=2, progress=lambda d, t, p: seen.append(d))
    assert report.refused == ()
    assert [i.path for i in report.imported] == files  # input order kept
    assert seen == list(range(1, N_FILES + 1))  # progress still per file
    # one by one: 2 steps a file (16); here the first file arrives with all the others
    # finished: every row begun in one step, every file completed in one more
    assert steps == [N_FILES, N_FILES]
    rows = query(space, "SELECT status, media_path, sha256 FROM variants")
    assert [r[0] for r in rows] == ["completed"] * N_FILES
    for _status, media, sha in rows:
        assert hashlib.sha256((space.media_dir / media).read_bytes()).hexdigest() == sha
    assert space.undo_history(OWNER)[0].label == f"Import {N_FILES} files"


def test_a_folder_that_cannot_be_synced_fails_its_file_alone(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A variant folder whose sync fails (EIO) inside a batch refuses that file with a
    reason; the batch's other files import, and no row stays 'uploading' (the error
    escaped the import and left every row of the batch 'uploading')."""
    files = _photos(tmp_path)
    monkeypatch.setattr(imports, "_PREPARE", first_waits_for_the_rest)
    real_sync = imports.fsync_dir
    calls: list[Path] = []

    def failing_second(path: Path) -> None:
        calls.append(path)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        real_sync(path)

    monkeypatch.setattr(imports, "fsync_dir", failing_second)
    report = import_files(space, files, OWNER, workers=2)
    assert len(report.imported) == N_FILES - 1
    assert len(report.refused) == 1 and "Input/output error" in report.refused[0].reason
    statuses = sorted(r[0] for r in query(space, "SELECT status FROM variants"))
    assert statuses == ["completed"] * (N_FILES - 1) + ["failed"]
    assert not calls[1].exists()  # the failed file's folder is gone


def test_files_finishing_one_after_another_still_share_door_steps(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _photos(tmp_path, 6)
    monkeypatch.setattr(imports, "_PREPARE", each_takes_a_while)
    monkeypatch.setattr(imports, "BATCH_WAIT_S", 1.0)  # 100 ms: a shared CI machine may lag
    steps: list[int] = []
    real_step = space.apply_step

    def counting_step(cmds, actor, **kw):  # type: ignore[no-untyped-def]
        steps.append(len(cmds))
        return real_step(cmds, actor, **kw)

    monkeypatch.setattr(space, "apply_step", counting_step)
    seen: list[int] = []
    # one worker: the files arrive one at a time, ~40 ms apart
    report = import_files(space, files, OWNER, workers=1, progress=lambda d, t, p: seen.append(d))
    assert [i.path for i in report.imported] == files and report.refused == ()
    assert seen == list(range(1, 7))
    assert sum(steps) == 12 and len(steps) <= 6, steps  # a batch waits for the next file


def test_a_batch_the_door_refuses_is_registered_file_by_file(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    photos = _photos(tmp_path, 3)
    sound = tmp_path / "s.wav"
    write_wav(sound, 0.5)
    files = [photos[0], sound, *photos[1:]]
    hero = add_asset(space, "Hero", kind="image")
    monkeypatch.setattr(imports, "_PREPARE", first_waits_for_the_rest)
    # all four arrive together; a sound can't be a variant of a picture, so the door
    # refuses the batch's step and each file goes alone with its own reason
    report = import_files(space, files, OWNER, into=hero, workers=2)
    assert [i.path for i in report.imported] == photos
    (refused,) = report.refused
    assert refused.path == sound and "is audio" in refused.reason
    assert {i.asset_id for i in report.imported} == {hero}
    rows = query(space, "SELECT status FROM variants")
    assert sorted(r[0] for r in rows) == ["completed"] * 3  # no row left 'uploading'


IMPORTER = r"""
import os, signal, sys
from pathlib import Path
import studio.core.imports as imports
from studio.core.actor import Actor
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from tests.core.test_import_batches import first_waits_for_the_rest

imports._PREPARE = first_waits_for_the_rest
real_place = imports._place
placed = []

def place_then_die(*args):
    out = real_place(*args)
    placed.append(out.variant_id)
    if len(placed) == 4:  # inside the big batch: rows begun, some files placed
        print("KILLING", flush=True)
        os.kill(os.getpid(), signal.SIGKILL)
    return out

imports._place = place_then_die
home, files = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
with Studio(home, providers=build_providers) as studio, studio.open_space("crash") as space:
    imports.import_files(space, files, Actor.local_owner(), workers=2)
print("FINISHED", flush=True)
"""


def test_a_kill_inside_a_batch_leaves_nothing_half_registered(tmp_path: Path) -> None:
    files = _photos(tmp_path)
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Crash")
    proc = subprocess.run(
        [sys.executable, "-c", IMPORTER, str(home), *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert "KILLING" in proc.stdout and "FINISHED" not in proc.stdout

    with Studio(home, providers=build_providers) as s, s.open_space("crash") as space:
        before = query(space, "SELECT status FROM variants")
        # every row begun in one step, half the files placed, none completed
        assert [r[0] for r in before] == ["uploading"] * N_FILES
        assert recover_interrupted(space) == N_FILES
        rows = query(space, "SELECT id, status, media_path FROM variants")
        assert [r[1] for r in rows] == ["failed"] * N_FILES
        for vid, _status, media in rows:
            assert media is None
            assert not any(space.media_dir.glob(f"*/{vid}")), "a failed row's files stayed"
        report = check_space(space)
        assert report.ok, report.problems
        staging = space.media_dir / imports.STAGING
        assert not staging.exists() or not any(staging.rglob("*.*")), "staging debris left"
        again = import_files(space, files, OWNER, workers=0)  # what the kill interrupted
        assert again.refused == () and len(again.imported) == N_FILES
        done = query(space, "SELECT media_path, sha256 FROM variants WHERE status = 'completed'")
        assert len(done) == N_FILES
        for media, sha in done:
            assert hashlib.sha256((space.media_dir / media).read_bytes()).hexdigest() == sha
        assert check_space(space).ok
