"""Regressions found by attacking the merged hardening of #9 (hostile homes, races with a
space delete, …). Each test failed before its fix."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.core.imports import import_files
from studio.core.studio import Studio
from tests.conftest import OWNER


def test_a_home_whose_name_is_not_utf8_holds_spaces(tmp_path: Path) -> None:
    # a folder name with bytes that are not UTF-8 reaches us as surrogate escapes
    home = Path(os.fsdecode(os.fsencode(tmp_path) + b"/h\xff\xfe"))
    with Studio(home) as studio:
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
    with Studio(tmp_path / "home") as studio:
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
