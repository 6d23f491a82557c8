"""The library of spaces: create, list, rename, delete, resolve."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.core.errors import ErrorCode, StudioError
from studio.core.studio import Studio
from tests.conftest import add_variant


def test_create_lays_out_files_as_designed(studio: Studio) -> None:
    entry = studio.create_space("My Game: Act I")
    home = studio.paths.home
    assert entry.slug == "my-game-act-i"
    assert (home / "library.db").is_file()
    assert (home / "spaces" / "my-game-act-i.db").is_file()
    assert (home / "media" / "my-game-act-i").is_dir()
    assert entry.file == "spaces/my-game-act-i.db"


def test_slugs_are_unique_and_fixed(studio: Studio) -> None:
    a = studio.create_space("Demo")
    b = studio.create_space("demo!")
    assert (a.slug, b.slug) == ("demo", "demo-2")
    renamed = studio.rename_space("demo", "Something else")
    assert renamed.slug == "demo" and renamed.name == "Something else"
    assert studio.resolve(a.id).name == "Something else"


def test_list_orders_by_last_opened(studio: Studio) -> None:
    studio.create_space("One")
    studio.create_space("Two")
    studio.open_space("one").close()
    assert next(e.slug for e in studio.spaces()) == "one"
    assert studio.resolve("one").last_opened_at is not None


def test_unknown_space_is_a_clear_error(studio: Studio) -> None:
    with pytest.raises(StudioError) as err:
        studio.open_space("nope")
    assert err.value.code is ErrorCode.NOT_FOUND
    assert "no space 'nope'" in err.value.message


def test_delete_moves_file_and_media_to_trash(studio: Studio) -> None:
    entry = studio.create_space("Doomed")
    with studio.open_space("doomed") as sp:
        add_variant(sp)
    studio.library.set_setting(f"ui.view.{entry.id}", "{}")
    studio.library.set_setting("jobs.local.concurrency", "3")
    trash = studio.delete_space("doomed")
    assert studio.library.setting(f"ui.view.{entry.id}") is None
    assert studio.library.setting("jobs.local.concurrency") == "3"
    assert (trash / "doomed.db").is_file()
    assert any((trash / "media").rglob("original.bin"))
    assert not (studio.paths.home / entry.file).exists()
    assert studio.spaces() == []
    again = studio.create_space("Doomed")  # the slug is free again
    assert again.slug == "doomed"


def test_home_defaults_to_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "h"))
    with Studio() as s:
        assert s.paths.home == tmp_path / "h"


def test_unusable_home_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StudioError) as err:
        Studio(blocker / "home")
    assert err.value.code is ErrorCode.STORAGE_ERROR
