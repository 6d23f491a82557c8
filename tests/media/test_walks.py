"""A JPEG is walked (its markers scanned end to end) once per import, not once for its
probe, once for its thumbnail and once for its metadata; a changed file is walked again."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from studio.media import structure
from studio.media.metadata import read_generation_info
from studio.media.previews import probe_and_render
from studio.media.structure import metadata_cuts
from tests.media.conftest import photo_like


def _count_walks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    real = structure._walk_jpeg
    walks: list[int] = []

    def counting(data):  # type: ignore[no-untyped-def]
        walks.append(len(data))
        return real(data)

    monkeypatch.setattr(structure, "_walk_jpeg", counting)
    return walks


def test_a_jpeg_is_walked_once_for_probe_thumbnail_and_metadata(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "photo.jpg"
    photo_like(900, 700, seed=3).save(path, quality=90)
    walks = _count_walks(monkeypatch)
    info, previews = probe_and_render(path, tmp_path / "out")
    read_generation_info(path, info.mime)
    assert walks == [path.stat().st_size]
    assert (info.width, info.height) == (900, 700)
    assert previews.thumb is not None
    with Image.open(previews.thumb) as thumb:
        assert thumb.size == (512, 398)


def test_a_changed_jpeg_is_walked_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "photo.jpg"
    photo_like(300, 200, seed=1).save(path, quality=90)
    walks = _count_walks(monkeypatch)
    with open(path, "rb") as f:
        assert metadata_cuts(f, "jpg") == ((), ())
    with open(path, "rb") as f:
        metadata_cuts(f, "jpg")
    assert len(walks) == 1
    photo_like(300, 200, seed=2).save(path, quality=60)  # same name, new content
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))  # even with the same mtime
    with open(path, "rb") as f:
        metadata_cuts(f, "jpg")
    assert len(walks) == 2
