"""Parallel import: the pool prepares, this process commits; same rows and files as one
by one; a crashed worker costs one file; a FLAC is opened by FFmpeg once; small tiers."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

import studio.core.imports as imports
import studio.media.pool as pool_mod
from studio.core.imports import import_files
from studio.core.space import Space
from studio.core.studio import Studio
from studio.media import MediaLimits
from studio.media.prepare import Failed, Prepared, prepare_file
from studio.media.previews import TIERS, tier_paths
from tests.conftest import OWNER
from tests.media.conftest import Sample

ME = OWNER


# `samples`: the session's generated media (tests/conftest.py), shared with tests/media


MIX = ["jpeg", "png", "wav", "webp", "jpeg_exif_rotated", "flac", "gif", "mp3"]


def crash_on_cursed(path: Path, stage: Path, limits: MediaLimits) -> Prepared | Failed:
    """A worker's prepare that dies hard (as a decoder's segfault would) on one file."""
    if "cursed" in path.name:
        os._exit(11)
    return prepare_file(path, stage, limits)


class CountingPool(pool_mod.PreparePool):
    submitted: list[Path] = []

    def submit(self, path, stage, limits):  # type: ignore[no-untyped-def]
        CountingPool.submitted.append(path)
        return super().submit(path, stage, limits)


def _rows(space: Space, report: imports.ImportReport) -> list[tuple[object, ...]]:
    out = []
    for item in report.imported:
        asset = space.asset(item.asset_id)
        d = space.variant_detail(item.variant_id)
        row = d.row
        files = []
        for rel in (row.media_path, row.thumb_path, *tier_paths(row.thumb_path or "")):
            assert rel is not None
            files.append((Path(rel).name, (space.media_dir / rel).read_bytes()))
        out.append(
            (
                asset.name,
                asset.x,
                asset.y,
                asset.media_kind,
                row.status,
                row.mime,
                row.width,
                row.height,
                row.duration_ms,
                d.sha256,
                d.size_bytes,
                d.original_name,
                files,
            )
        )
    return out


def test_a_pool_import_gives_the_same_rows_and_files_as_one_by_one(
    studio: Studio, samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [samples[k].path for k in MIX]
    monkeypatch.setattr(imports, "PreparePool", CountingPool)
    CountingPool.submitted = []
    serial_entry = studio.create_space("Serial")
    pooled_entry = studio.create_space("Pooled")
    with studio.open_space(serial_entry.slug) as serial:
        one_by_one = import_files(serial, paths, ME, workers=0)
        assert CountingPool.submitted == []
        want = _rows(serial, one_by_one)
    seen: list[tuple[int, int, str]] = []
    with studio.open_space(pooled_entry.slug) as pooled:
        report = import_files(
            pooled, paths, ME, workers=2, progress=lambda d, t, p: seen.append((d, t, p.name))
        )
        assert CountingPool.submitted == paths  # every file went through the pool
        assert report.refused == ()
        got = _rows(pooled, report)
        leftovers = list((pooled.media_dir / imports.STAGING).rglob("*"))
    assert got == want  # same names, places, probe facts, hashes, and byte-identical files
    assert seen == [(i + 1, len(paths), p.name) for i, p in enumerate(paths)]  # in order
    assert [p for p in leftovers if p.is_file()] == []


def test_a_worker_that_dies_costs_its_file_only(
    space: Space, samples: dict[str, Sample], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cursed = tmp_path / "cursed.png"
    cursed.write_bytes(samples["png"].path.read_bytes())
    paths = [samples["jpeg"].path, cursed, samples["wav"].path, samples["webp"].path]
    monkeypatch.setattr(imports, "_PREPARE", crash_on_cursed)
    report = import_files(space, paths, ME, workers=2)
    assert [i.path for i in report.imported] == [paths[0], paths[2], paths[3]]
    (bad,) = report.refused
    assert bad.path == cursed and bad.reason == imports.CRASHED
    assert len(space.snapshot().assets) == 3


def test_a_flac_is_opened_by_ffmpeg_once(
    space: Space, samples: dict[str, Sample], monkeypatch: pytest.MonkeyPatch
) -> None:
    import av

    opened: list[str] = []
    real_open = av.open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", counting_open)
    # (a plain PCM WAV is not opened at all: tests/media/test_wav.py)
    report = import_files(space, [samples["flac"].path], ME, workers=0)
    (item,) = report.imported
    assert len(opened) == 1, opened  # the probe's open also decodes the waveform
    thumb = space.variant_detail(item.variant_id).row.thumb_path
    assert thumb is not None
    with Image.open(space.media_dir / thumb) as im:
        assert im.size == (512, 256)
        px = im.convert("RGB").getpixel((256, 128))
    assert px != (22, 24, 29)  # a real waveform crosses the middle, not a blank picture


def test_small_tiers_are_stored_beside_every_imported_thumbnail(
    space: Space, samples: dict[str, Sample]
) -> None:
    report = import_files(space, [samples[k].path for k in ("jpeg", "wav", "png")], ME)
    assert len(report.imported) == 3
    for item in report.imported:
        thumb = space.variant_detail(item.variant_id).row.thumb_path
        assert thumb is not None
        tiers = tier_paths(thumb)
        assert [Path(t).name for t in tiers] == [f"thumb.{t}.webp" for t in TIERS]
        for tier, rel in zip(TIERS, tiers, strict=True):
            with Image.open(space.media_dir / rel) as im:
                assert im.format == "WEBP" and max(im.size) == tier


def test_pool_size_follows_the_cores_and_the_file_count(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pool_mod, "usable_cores", lambda: 4)
    assert pool_mod.workers_for(250) == 4
    assert pool_mod.workers_for(5) == 4
    assert pool_mod.workers_for(pool_mod.POOL_MIN_FILES - 1) == 0  # a pool costs more
    assert pool_mod.workers_for(3, requested=8) == 3
    monkeypatch.setattr(pool_mod, "usable_cores", lambda: 1)
    assert pool_mod.workers_for(250) == 0


def test_small_tiers_are_stored_after_a_generation(space: Space) -> None:
    from studio.core import commands as c
    from studio.jobs.executor import InlineExecutor
    from studio.jobs.scheduler import Scheduler

    applied = space.apply(
        c.RequestGeneration(
            "a kite", c.MediaKindName.IMAGE, options=c.GenerationOptions(no_style=True, seed=3)
        ),
        ME,
    )
    scheduler = Scheduler(space, InlineExecutor())
    assert scheduler.run_until_idle(timeout_s=10)
    scheduler.close()
    row = space.variant_detail(applied.created["variant_id"]).row
    assert row.status == "completed" and row.thumb_path is not None
    for tier, rel in zip(TIERS, tier_paths(row.thumb_path), strict=True):
        with Image.open(space.media_dir / rel) as im:  # the scripted provider's 8x8 image
            assert im.format == "WEBP" and max(im.size) == min(tier, 8)


UNGUARDED = """
import sys
from pathlib import Path
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.core.actor import Actor
from studio.core.imports import import_files

home, files = Path(sys.argv[1]), [Path(p) for p in sys.argv[2:]]
with Studio(home, providers=build_providers) as studio, studio.open_space("plain") as space:
    report = import_files(space, files, Actor.local_owner(), workers=2)
print("IMPORTED", len(report.imported), len(report.refused))
"""


def test_a_script_without_a_main_guard_still_imports_everything(
    tmp_path: Path, samples: dict[str, Sample]
) -> None:
    """Spawned workers re-run such a script and die at once: the import then prepares
    the files in its own process instead of refusing them all."""
    import subprocess
    import sys

    home = tmp_path / "home"
    with Studio(home) as s:
        s.create_space("Plain")
    script = tmp_path / "unguarded.py"
    script.write_text(UNGUARDED)
    paths = [str(samples[k].path) for k in ("jpeg", "png", "wav", "webp")]
    root = Path(__file__).resolve().parents[2]
    proc = subprocess.run(
        [sys.executable, str(script), str(home), *paths],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(root)},
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "IMPORTED 4 0" in proc.stdout.splitlines()[-1], proc.stdout


def test_a_bundled_app_prepares_in_a_fork_server_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    """The bundle's entry point calls freeze_support() first (packaging/launch.py), so
    its workers can re-run the bundled program: no more in-process only when frozen."""
    import sys

    monkeypatch.setattr(pool_mod, "usable_cores", lambda: 8)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    assert pool_mod.workers_for(250) == 8
    assert pool_mod._context().get_start_method() == "forkserver"
