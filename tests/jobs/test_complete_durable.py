"""``job:complete`` moves a result into place under the write lock but syncs that move
after its commit, outside the lock: a power cut in between can keep the commit and lose
the move, and the next open puts the staged result in place. A refused completion
leaves nothing behind."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.check import check_space
from studio.core.errors import StudioError
from studio.core.handlers import generate
from studio.core.import_recovery import recover_interrupted
from studio.core.studio import LOCAL_LATENCY_KEY, Studio
from studio.jobs.executor import ThreadExecutor
from studio.jobs.scheduler import Scheduler
from studio.providers_setup import build_providers
from tests.conftest import OWNER

PLAIN = c.GenerationOptions(no_style=True)
ROOT = Path(__file__).resolve().parents[2]


def test_the_moved_result_is_synced_after_the_commit_outside_the_write_lock(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio.create_space("Sync")
    with studio.open_space("sync") as space:
        space.apply(c.RequestBatch("x", c.MediaKindName.IMAGE, 3, options=PLAIN), OWNER)
        synced: list[tuple[Path, bool, bool]] = []
        real = generate.fsync_dir

        def recording(path: Path) -> None:
            db = space._db
            synced.append((path, db.lock.held_here(), db.conn.in_transaction))
            real(path)

        monkeypatch.setattr(generate, "fsync_dir", recording)
        assert Scheduler(space, ThreadExecutor(2)).run_until_idle(timeout_s=20)
        variants = [space.variant_detail(v.id).row for v in space.all_variants()]
        assert [v.status for v in variants] == ["completed"] * 3
        folders = {(space.media_dir / (v.media_path or "")).parent.parent for v in variants}
        moved = [s for s in synced if s[0] in folders]
        assert len(moved) >= 3  # each completion synced its asset's folder
        assert all(not held and not in_tx for _p, held, in_tx in moved), moved
        assert check_space(space).ok


def test_a_refused_completion_leaves_no_folder_behind(studio: Studio) -> None:
    studio.create_space("Refused")
    with studio.open_space("refused") as space:
        applied = space.apply(c.RequestBatch("x", c.MediaKindName.IMAGE, 1, options=PLAIN), OWNER)
        vid = applied.created["variant_ids"]
        [job] = space.jobs()
        slug = space.asset(applied.created["asset_ids"]).slug
        system = Actor.system()
        space.apply(c.StartJob(job.id, space.holder_id, 60_000), system)
        stage = space.staging_dir() / f"job-{job.id}-1"
        stage.mkdir()
        (stage / "original.png").write_bytes(b"png")
        result = c.CompleteVariant(  # names a file the staged folder does not hold
            vid, f"{slug}/{vid}/missing.png", "image/png", 3, hashlib.sha256(b"png").hexdigest()
        )
        staged = stage.relative_to(space.media_dir).as_posix()
        try:
            space.apply(c.CompleteJob(job.id, result, space.holder_id, 1, staged), system)
        except StudioError as exc:
            assert "missing" in exc.message
        else:
            raise AssertionError("the completion was not refused")
        assert (stage / "original.png").read_bytes() == b"png"  # moved back
        assert not (space.media_dir / slug).exists()  # no empty asset folder left


# A worker whose power goes right after a completion commits: the commit is kept, the
# move of the result into place is not (what a file system may do without the sync).
LOST = r"""
import os, signal, sys
from studio.core import tx as txmod
from studio.core.handlers import generate

moved = {}
real_move = generate._move_staged


def move(tx, staged_dir, result, variant, **kw):
    moved["src"] = tx.media_dir / staged_dir
    moved["dest"] = tx.media_dir / variant["asset_slug"] / variant["id"]
    real_move(tx, staged_dir, result, variant, **kw)


def after_commit(self, hook):
    def power_cut():
        os.replace(moved["dest"], moved["src"])
        os.kill(os.getpid(), signal.SIGKILL)

    self.commit_hooks.append(power_cut)


generate._move_staged = move
txmod.Tx.after_commit = after_commit
from studio.cli.main import main

sys.exit(main(sys.argv[1:]))
"""


def _power_cut_after_a_commit(tmp_path: Path) -> Path:
    """A home whose one job's ``job:complete`` committed while the move of its result
    was lost (a real worker process killed right after the commit)."""
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as s:
        s.create_space("Cut")
        s.library.set_setting(LOCAL_LATENCY_KEY, "0")
        s.library.set_setting("jobs.local.concurrency", "1")
        with s.open_space("cut") as space:
            opts = c.GenerationOptions(no_style=True, size="512")
            space.apply(c.RequestBatch("a kite", c.MediaKindName.IMAGE, 1, options=opts), OWNER)
    proc = subprocess.run(
        [sys.executable, "-c", LOST, "--home", str(home), "worker", "cut", "--until-idle"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    return home


@pytest.mark.parametrize("liveness", ["known", "unknown"])
def test_a_committed_result_whose_move_a_power_cut_took_back_is_put_in_place(
    tmp_path: Path, liveness: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = _power_cut_after_a_commit(tmp_path)
    with Studio(home, providers=build_providers) as s, s.open_space("cut") as space:
        [variant] = space.all_variants()
        detail = space.variant_detail(variant.id)
        row = detail.row
        assert row.status == "completed" and row.media_path and row.thumb_path
        # the power cut's state: the row committed, its files still staged
        assert not (space.media_dir / row.media_path).exists()
        [stage] = (space.media_dir / ".staging").glob("*/job-*")
        if liveness == "unknown":  # no flock here: the dead holder's folder is kept
            mine = space.holder_id
            monkeypatch.setattr(space, "holder_alive", lambda h: True if h == mine else None)
        recover_interrupted(space)
        data = (space.media_dir / row.media_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == detail.sha256
        assert (space.media_dir / row.thumb_path).is_file()
        assert not stage.exists()
        [job] = space.jobs()
        assert job.status == "succeeded"
        report = check_space(space)
        assert report.ok and not report.warnings, report.problems + report.warnings


def test_the_sweep_at_open_puts_a_committed_result_in_place_before_removing_its_staging(
    tmp_path: Path,
) -> None:
    """Any CLI command opens with the leftover sweep (when the last was over 6 h ago):
    the dead worker's staging folder holds the only copy of a committed result, so the
    sweep makes the lost move before it removes the folder (it deleted it before)."""
    home = _power_cut_after_a_commit(tmp_path)
    with Studio(home) as s:
        media = s.paths.space_media("cut")
    os.utime(media / ".swept", (0, 0))  # a day's work since the last sweep
    with Studio(home, providers=build_providers) as s, s.open_space("cut") as space:
        [variant] = space.all_variants()
        detail = space.variant_detail(variant.id)
        row = detail.row
        assert row.status == "completed" and row.media_path and row.thumb_path
        data = (space.media_dir / row.media_path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == detail.sha256
        assert (space.media_dir / row.thumb_path).is_file()
        assert not list((space.media_dir / ".staging").glob("*/job-*"))  # swept after
        report = check_space(space)
        assert report.ok and not report.warnings, report.problems + report.warnings


def test_a_staging_the_sweep_cannot_look_into_is_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Where the sweep cannot tell whether a dead worker's staging holds a committed
    result (the space's read fails), it keeps the folder rather than delete the only
    copy, and the open goes on."""
    from studio.core import leftovers
    from studio.core.errors import StorageError

    home = _power_cut_after_a_commit(tmp_path)
    with Studio(home) as s:
        media = s.paths.space_media("cut")
    os.utime(media / ".swept", (0, 0))

    def unreadable(space: object, holder_dir: Path) -> int:
        raise StorageError("the space file is busy")

    monkeypatch.setattr(leftovers, "finish_moves", unreadable)
    with Studio(home, providers=build_providers) as s, s.open_space("cut") as space:
        assert list((space.media_dir / ".staging").glob("*/job-*"))  # kept
