"""Regressions found by attacking the merged hardening of #9 (hostile homes, races with a
space delete, …). Each test failed before its fix."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.core import space as space_module
from studio.core.errors import ConflictError, StorageError
from studio.core.imports import import_files
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.store.backup import list_backups
from tests.conftest import OWNER, add_asset


def test_a_home_whose_name_is_not_utf8_holds_spaces(tmp_path: Path) -> None:
    # a folder name with bytes that are not UTF-8 reaches us as surrogate escapes
    home = Path(os.fsdecode(os.fsencode(tmp_path) + b"/h\xff\xfe"))
    with Studio(home, providers=build_providers) as studio:
        entry = studio.create_space("S")
        with studio.open_space(entry.slug) as space:
            assert space.media_dir.is_dir()
        assert [e.slug for e in studio.spaces()] == [entry.slug]
    assert (home / "spaces" / f"{entry.slug}.db").is_file()


def test_an_import_racing_a_space_delete_never_recreates_its_media_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "in.png"
    Image.new("RGB", (32, 24), "red").save(src)
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("S")
        with studio.open_space(entry.slug) as space:
            media = space.media_dir
            trash = tmp_path / "trash"
            asset = space.asset

            def asset_then_delete(aid: str) -> Any:
                found = asset(aid)
                if not trash.exists():  # the space is deleted right after the row is made
                    os.rename(media, trash)
                return found

            monkeypatch.setattr(space, "asset", asset_then_delete)
            report = import_files(space, [src], OWNER)
        assert not media.exists()  # not recreated, not even empty
        assert not report.imported
        assert [r.reason for r in report.refused] == [
            f"the space {entry.slug} was deleted or moved while it was open"
        ]


def test_a_file_swapped_while_the_space_opens_never_swallows_its_writes(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio.create_space("Art")
    with studio.open_space("art") as sp:
        add_asset(sp, "One")
    studio.open_space("art").close()  # a backup holding One
    for keeper in studio._backups.values():
        keeper.join()
    opened = space_module.open_space_file

    backup = list_backups(studio.paths.space_backups("art"))[0].path
    db_path = studio.paths.space_db("art")

    def open_then_swap(*args: Any, **kw: Any) -> Any:
        db = opened(*args, **kw)
        # something that takes no locks swaps the file right after we opened it
        monkeypatch.setattr(space_module, "open_space_file", opened)
        shutil.copyfile(backup, db_path.with_name("swap.tmp"))
        os.replace(db_path.with_name("swap.tmp"), db_path)
        return db

    monkeypatch.setattr(space_module, "open_space_file", open_then_swap)
    with studio.open_space("art") as sp:
        try:
            add_asset(sp, "Two")
        except StorageError as exc:  # refused: fine, the user sees it
            refused: str | None = exc.message
        else:
            refused = None
    with studio.open_space("art") as sp:
        names = sorted(a.name for a in sp.snapshot().assets)
    # a write that reported success is in the space file the studio uses
    assert refused is not None or "Two" in names, names
    assert refused == "the space art was deleted or moved while it was open"


def test_a_restore_while_a_space_is_being_opened_is_refused(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    studio.create_space("Art")
    with studio.open_space("art") as sp:
        add_asset(sp, "One")
    studio.open_space("art").close()  # a backup holding One
    for keeper in studio._backups.values():
        keeper.join()
    with studio.open_space("art") as sp:
        add_asset(sp, "Two")
    opened = space_module.open_space_file
    refusals: list[str] = []

    def open_then_restore(*args: Any, **kw: Any) -> Any:
        db = opened(*args, **kw)
        monkeypatch.setattr(space_module, "open_space_file", opened)
        try:  # another process restores the space right as we open its file
            studio.restore_space("art")
        except ConflictError as exc:
            refusals.append(exc.message)
        return db

    monkeypatch.setattr(space_module, "open_space_file", open_then_restore)
    with studio.open_space("art") as sp:
        add_asset(sp, "Three")
    assert refusals == ["the space 'art' is open in another Forge Studio; close it there first"]
    with studio.open_space("art") as sp:
        assert sorted(a.name for a in sp.snapshot().assets) == ["One", "Three", "Two"]


def test_an_open_waits_for_a_restore_in_progress_and_says_so_if_it_lasts(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fcntl

    from studio.core import holders

    studio.create_space("Art")
    lock = os.open(f"{studio.paths.space_db('art')}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(lock, fcntl.LOCK_EX)  # what a restore holds while it swaps the file
        monkeypatch.setattr(holders, "OPEN_WAIT_S", 0.2)
        with pytest.raises(StorageError) as refused:
            studio.open_space("art")
        assert refused.value.message == "the space art is being restored from a backup; try again"
        assert not any(studio.paths.space_db("art").with_name("art.db.holders").iterdir())
    finally:
        os.close(lock)
    with studio.open_space("art") as sp:  # once the restore is done
        add_asset(sp, "One")


def test_a_batch_import_racing_a_space_delete_never_recreates_its_media_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    files = []
    for n in range(3):
        files.append(tmp_path / f"in{n}.png")
        Image.new("RGB", (32, 24 + n), "red").save(files[-1])
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("S")
        with studio.open_space(entry.slug) as space:
            media = space.media_dir
            apply = space.apply

            def apply_then_delete(cmd: Any, actor: Any, **kw: Any) -> Any:
                applied = apply(cmd, actor, **kw)
                if type(cmd).__name__ == "CompleteVariant" and media.exists():
                    os.rename(media, tmp_path / "trash")  # deleted after the first file
                return applied

            monkeypatch.setattr(space, "apply", apply_then_delete)
            report = import_files(space, files, OWNER)
        assert not media.exists()  # not recreated by the files after the delete
        assert len(report.imported) == 1
        assert [r.reason for r in report.refused] == 2 * [
            f"the space {entry.slug} was deleted or moved while it was open"
        ]
