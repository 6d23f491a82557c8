"""Preparing a file for import writes its staging files once, under their own names:
the staging folder is the import's alone and its files are renamed into place later,
so a temporary name and a rename each (which wait on the file system's journal) would
buy nothing. What fails half-way still leaves nothing behind."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

import studio.media.files as files_mod
from studio.media import MediaLimits
from studio.media.files import atomic_writer
from studio.media.prepare import Prepared, prepare_file
from studio.media.previews import tier_paths


def test_preparing_a_file_renames_nothing_in_its_staging_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = tmp_path / "photo.jpg"
    Image.effect_noise((900, 600), 40).convert("RGB").save(src, quality=90)
    stage = tmp_path / "stage"
    stage.mkdir()
    renames: list[str] = []
    real_replace = os.replace

    def counting_replace(a, b, *args, **kw):  # type: ignore[no-untyped-def]
        renames.append(str(b))
        return real_replace(a, b, *args, **kw)

    monkeypatch.setattr(os, "replace", counting_replace)
    made = prepare_file(src, stage, MediaLimits())
    assert isinstance(made, Prepared)
    assert renames == []
    assert made.staged.path.read_bytes() == src.read_bytes()
    assert made.previews.thumb is not None
    names = sorted(p.name for p in stage.iterdir())
    assert names == sorted(
        ["source.jpg", "thumb.webp", *(Path(t).name for t in tier_paths("thumb.webp"))]
    )
    for p in stage.iterdir():
        if p.suffix == ".webp":
            with Image.open(p) as im:
                im.load()


def test_an_in_place_write_that_fails_leaves_no_file(tmp_path: Path) -> None:
    dest = tmp_path / "stage" / "source.jpg"
    with pytest.raises(files_mod.CopyLimitExceeded), atomic_writer(dest, in_place=True) as f:
        f.write(b"half")
        raise files_mod.CopyLimitExceeded(4)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
