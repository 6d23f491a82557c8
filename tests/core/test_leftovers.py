"""What killed imports and jobs leave in the media folder: reported by check, swept at open."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.check import check_space
from studio.core.imports import import_files
from studio.core.leftovers import find_leftovers, sweep_leftovers
from studio.core.space import Space
from studio.core.studio import Studio
from tests.conftest import OWNER, FakeClock

HOUR = 3600 * 1000
ROOT = Path(__file__).resolve().parents[2]


def png(path: Path) -> Path:
    from PIL import Image

    Image.new("RGB", (32, 24), (200, 30, 30)).save(path)
    return path


def real_now_ms() -> int:
    return time.time_ns() // 1_000_000


def test_debris_is_reported_by_check_and_swept_at_the_next_open(
    studio: Studio, space: Space, clock: FakeClock, tmp_path: Path
) -> None:
    (done,) = import_files(space, [png(tmp_path / "a.png")], OWNER).imported
    kept = space.variant_detail(done.variant_id).row
    slug = space.asset(done.asset_id).slug
    media = space.media_dir
    vdir = media / slug / done.variant_id
    # debris of four kinds
    tmp_in_variant = vdir / ".original.png.0123456789ab.tmp"
    tmp_in_variant.write_bytes(b"half a file")
    ghost = media / slug / "no-such-variant" / "original.png"
    ghost.parent.mkdir()
    ghost.write_bytes(b"a file whose row never committed")
    staging = media / ".staging" / "dead-import" / "source.png"
    staging.parent.mkdir(parents=True)
    staging.write_bytes(b"staged copy")
    failed = space.apply(c.BeginUpload(c.MediaKindName.IMAGE, "f.png"), OWNER)
    fvid = failed.created["variant_id"]
    fslug = space.asset(failed.created["asset_id"]).slug
    orphan = media / fslug / fvid / "original.png"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"copied before the import died")
    space.apply(c.FailVariant(fvid, "IMPORT_INTERRUPTED", "interrupted"), Actor.system())
    # and things that are not debris: in-progress uploads, deleted-but-undoable media
    busy = space.apply(c.BeginUpload(c.MediaKindName.IMAGE, "b.png"), OWNER)
    bslug = space.asset(busy.created["asset_id"]).slug
    in_progress = media / bslug / busy.created["variant_id"] / "original.png"
    in_progress.parent.mkdir(parents=True)
    in_progress.write_bytes(b"being imported by someone")
    space.apply(c.DeleteAsset(done.asset_id), OWNER)
    debris = {tmp_in_variant, ghost, staging.parent, orphan}

    assert find_leftovers(space) == []  # everything is fresh: could still be in use
    clock.now = real_now_ms() + 2 * HOUR

    found = {left.path for left in find_leftovers(space)}
    assert found == debris
    report = check_space(space)
    leftovers = [w for w in report.warnings if w.startswith("leftover ")]
    assert len(leftovers) == 4 and any("no-such-variant" in w for w in leftovers)

    space.close()
    with studio.open_space(space.slug) as again:  # open sweeps
        assert not any(p.exists() for p in debris)
        assert (media / (kept.media_path or "")).is_file()  # a deleted asset can come back
        assert (media / (kept.thumb_path or "")).is_file()
        assert in_progress.is_file()
        assert find_leftovers(again) == []
        assert not [w for w in check_space(again).warnings if w.startswith("leftover ")]


def test_sweep_at_open_does_not_walk_again_soon(
    studio: Studio, space: Space, clock: FakeClock
) -> None:
    clock.now = real_now_ms() + 2 * HOUR
    space.close()
    with studio.open_space(space.slug):
        pass  # swept now
    late = space.media_dir / ".late.tmp"
    late.write_bytes(b"x")
    clock.now = real_now_ms() + 3 * HOUR
    with studio.open_space(space.slug) as sp:
        assert late.exists()  # swept an hour ago: not walked again yet
        assert [left.path for left in sweep_leftovers(sp)] == [late]
    assert not late.exists()


def test_a_killed_import_leaves_nothing_after_recovery_and_a_sweep(
    studio: Studio, space: Space, clock: FakeClock, tmp_path: Path
) -> None:
    """A real process, killed (SIGKILL) right after it moved the original into place."""
    src = png(tmp_path / "victim.png")
    script = textwrap.dedent(
        f"""
        import os, signal, sys
        from pathlib import Path
        sys.path.insert(0, {str(ROOT)!r})
        import studio.core.imports as imports
        from studio.core.actor import Actor
        from studio.core.studio import Studio
        from studio.providers_setup import build_providers

        real_place = imports.place_file
        def place_and_die(src, dest):
            real_place(src, dest)
            os.kill(os.getpid(), signal.SIGKILL)
        imports.place_file = place_and_die
        with Studio(Path({str(studio.paths.home)!r}), providers=build_providers) as s, s.open_space({space.slug!r}) as sp:
            imports.import_files(sp, [Path({str(src)!r})], Actor.local_owner())
        """
    )
    space.close()
    proc = subprocess.run([sys.executable, "-c", script], timeout=60, capture_output=True)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    from studio.core.imports import recover_interrupted

    clock.now = real_now_ms() + 2 * HOUR
    with studio.open_space(space.slug) as sp:
        (variant,) = sp.all_variants()
        assert variant.status == "uploading"
        originals = list(sp.media_dir.rglob("original.png"))
        assert len(originals) == 1  # placed, never completed
        assert recover_interrupted(sp) == 1
        # recovery clears the failed upload's folder itself: nothing is left to sweep
        assert not originals[0].exists()
        assert find_leftovers(sp) == []
        assert not list((sp.media_dir / ".staging").rglob("*.*"))


def test_a_live_process_staging_folder_is_never_swept_however_old(
    studio: Studio, space: Space, clock: FakeClock, tmp_path: Path
) -> None:
    """Each open space stages under ``.staging/<holder-id>/``: while that holder lives, its
    folder is work in progress, even after hours without a write (an idle app)."""
    other = studio.open_space(space.slug)  # a second live holder of the same space
    try:
        mine = other.staging_dir()
        busy = mine / "half-import" / "source.png"
        busy.parent.mkdir(parents=True)
        busy.write_bytes(b"being staged")
        clock.now = real_now_ms() + 5 * HOUR
        assert find_leftovers(space) == []
        sweep_leftovers(space)
        assert busy.exists()
    finally:
        other.close()
    assert mine.exists()  # closing removes an empty folder only; this one holds work
    found = {left.path for left in find_leftovers(space)}
    assert mine in found  # its holder is gone now: its staging is debris


def test_the_sweep_lets_the_gil_go_as_it_walks(
    space: Space, tmp_path: Path, gil_pauses: list[float]
) -> None:
    """The sweep runs beside the window opening a big space (about a second of Python
    per 50,000 variants): it hands the GIL over every couple of milliseconds, once per
    variant folder at most."""
    report = import_files(space, [png(tmp_path / f"p{i}.png") for i in range(6)], OWNER)
    assert len(report.imported) == 6
    gil_pauses.clear()  # the sweep's own, not the import's
    assert sweep_leftovers(space) == []
    assert len(gil_pauses) >= 6  # a variant folder each, and the rows read
