"""The pool's workers never wait for the disk: the importing process fsyncs each
prepared file (the copy, its thumbnail) on threads of its own, and no row is begun for
a file before its data is synced; a failed sync refuses the file without a row."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

import studio.core.imports as imports
import studio.media.files as files_mod
from studio.core.imports import import_files
from studio.core.space import Space
from studio.media import MediaLimits
from studio.media.prepare import Prepared, prepare_file
from tests.conftest import OWNER
from tests.core.test_import_batches import noise_photos
from tests.sql import query

N_FILES = 6


def _photos(folder: Path, n: int = N_FILES) -> list[Path]:
    return noise_photos(folder, n, (640, 480))


def test_preparing_a_file_never_fsyncs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A worker waiting in fsync leaves its core idle: the sync is the importer's."""
    src = _photos(tmp_path, 1)[0]
    stage = tmp_path / "stage"
    stage.mkdir()

    def no_fsync(fd: int) -> None:
        raise AssertionError("a worker fsynced")

    monkeypatch.setattr(os, "fsync", no_fsync)
    made = prepare_file(src, stage, MediaLimits())
    assert isinstance(made, Prepared), made
    assert made.staged.path in made.unsynced and made.previews.thumb in made.unsynced


def test_the_importer_syncs_every_file_before_its_row_is_begun(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _photos(tmp_path)
    events: list[tuple[str, str]] = []  # ("sync", staged file) / ("begin", original name)
    real_sync = files_mod.fsync_file

    def recording_sync(path: Path) -> None:
        real_sync(path)
        events.append(("sync", f"{path.parent.name}/{path.name}"))

    real_step = space.apply_step

    def recording_step(cmds, actor, **kw):  # type: ignore[no-untyped-def]
        for cmd in cmds:
            if cmd.kind == "variant:upload":
                events.append(("begin", cmd.original_name))
        return real_step(cmds, actor, **kw)

    real_apply = space.apply

    def recording_apply(cmd, actor, **kw):  # type: ignore[no-untyped-def]
        if cmd.kind == "variant:upload":
            events.append(("begin", cmd.original_name))
        return real_apply(cmd, actor, **kw)

    real_register = imports._register
    stage_of: dict[str, str] = {}  # staging folder -> the file's name

    def recording_register(sp, batch, *args):  # type: ignore[no-untyped-def]
        for path, stage, _outcome in batch:
            stage_of[stage.name] = path.name
        return real_register(sp, batch, *args)

    monkeypatch.setattr(imports, "fsync_file", recording_sync)
    monkeypatch.setattr(space, "apply_step", recording_step)
    monkeypatch.setattr(space, "apply", recording_apply)
    monkeypatch.setattr(imports, "_register", recording_register)
    # two workers: other processes, where these patches do not exist — every sync seen
    # here is the importing process's own
    report = import_files(space, files, OWNER, workers=2)
    assert len(report.imported) == N_FILES and report.refused == ()
    synced: dict[str, list[int]] = {}
    for i, (what, name) in enumerate(events):
        if what == "sync":
            synced.setdefault(name.split("/")[0], []).append(i)
    assert sorted(synced) == sorted(stage_of)
    for stage, at in synced.items():
        names = {events[i][1].split("/")[1] for i in at}
        assert names == {"source.jpg", "thumb.webp"}  # the copy and its thumbnail
        begun = events.index(("begin", stage_of[stage]))
        assert max(at) < begun, (stage_of[stage], events)


def test_a_failed_sync_refuses_the_file_without_a_row(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = _photos(tmp_path)
    real_sync = files_mod.fsync_file

    def failing_for_p03(path: Path) -> None:
        if path.name == "source.jpg" and path.read_bytes() == (tmp_path / "p03.jpg").read_bytes():
            raise OSError(5, "Input/output error")
        real_sync(path)

    monkeypatch.setattr(imports, "fsync_file", failing_for_p03)
    report = import_files(space, files, OWNER, workers=2)
    assert [r.path.name for r in report.refused] == ["p03.jpg"]
    assert "Input/output error" in report.refused[0].reason
    assert len(report.imported) == N_FILES - 1
    names = sorted(r[0] for r in query(space, "SELECT original_name FROM variants"))
    assert names == sorted(p.name for p in files if p.name != "p03.jpg")
    statuses = {r[0] for r in query(space, "SELECT status FROM variants")}
    assert statuses == {"completed"}


def test_a_prepared_files_staging_folder_becomes_its_variant_folder(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One rename puts a prepared file in place (its staging folder holds just its
    files): no folder made and no file moved one by one. A staging folder holding
    anything else is left behind and its files are moved as before."""
    moved_into: set[Path] = set()  # folders a file was moved into one by one
    real_place = imports.place_file

    def recording_place(src: Path, dest: Path) -> None:
        real_place(src, dest)
        moved_into.add(dest.parent)

    monkeypatch.setattr(imports, "place_file", recording_place)
    real_prepare = imports.prepare_file

    def prepare_with_debris(path: Path, stage: Path, limits: MediaLimits):  # type: ignore[no-untyped-def]
        made = real_prepare(path, stage, limits)
        if path.name == "p01.jpg":
            (stage / "debris.tmp").write_bytes(b"left by something")
        return made

    monkeypatch.setattr(imports, "prepare_file", prepare_with_debris)  # workers=0: here
    files = noise_photos(tmp_path, 3, (320, 240))
    report = import_files(space, files, OWNER, workers=0)
    assert len(report.imported) == 3, report.refused
    one_by_one = set()
    for item in report.imported:
        v = space.read.variant_files(item.variant_id)[0]
        assert v.media_path is not None
        folder = space.media_dir / Path(v.media_path).parent
        names = sorted(os.listdir(folder))
        assert names == sorted(
            [Path(v.media_path).name, "thumb.webp", "thumb.64.webp", "thumb.16.webp"]
        )
        if folder in moved_into:
            one_by_one.add(item.path.name)
    assert one_by_one == {"p01.jpg"}
    assert not any(space.staging_dir().iterdir())  # the debris went with its stage
