"""The local provider's pictures are stored without decoding them again: the thumbnail
comes from the picture in memory and matches the one made from the file."""

from __future__ import annotations

import dataclasses
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
from PIL import Image, ImageChops, ImageStat

import studio.jobs.output as output_module
from studio.jobs.output import store_output
from studio.media import probe, render_previews
from workers.base import BasicContext, GenerationRequest, Operation
from workers.local import LocalProvider


def _generate(tmp_path: Path, aspect: str) -> Any:
    request = GenerationRequest(
        operation=Operation.GENERATE,
        media_kind="image",
        prompt="three red circles on a blue sky",
        model="local-image",
        size="512",
        aspect_ratio=aspect,
        seed=3,
    )
    return LocalProvider().run(request, BasicContext(tmp_path / "scratch"))


@pytest.mark.parametrize("aspect", ["1:1", "16:9"])
def test_the_thumbnail_comes_from_the_picture_in_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aspect: str
) -> None:
    out = _generate(tmp_path, aspect)
    assert out.picture is not None and out.data is not None
    reference = tmp_path / "reference"
    reference.mkdir()
    original = reference / "original.png"
    original.write_bytes(out.data)
    expected = render_previews(original, probe(original), reference).thumb
    assert expected is not None

    def no_decode(*args: object, **kw: object) -> object:
        raise AssertionError("the file was decoded again for its previews")

    monkeypatch.setattr(output_module, "render_previews", no_decode)
    stage = tmp_path / "stage"
    stage.mkdir()
    done = store_output(stage, PurePosixPath("a") / "v1", "image", out)
    assert done.thumb_path == "a/v1/thumb.webp"
    assert (done.width, done.height) == out.picture.size
    # the small tiers too, as render_previews makes them (far zoom never decodes thumbs)
    assert (stage / "thumb.64.webp").is_file() and (stage / "thumb.16.webp").is_file()
    with Image.open(stage / "thumb.webp") as got, Image.open(expected) as want:
        assert got.size == want.size
        diff = ImageStat.Stat(ImageChops.difference(got.convert("RGB"), want.convert("RGB")))
        assert max(diff.mean) < 1.0  # the same picture, the same thumbnail


def test_a_picture_that_is_not_the_file_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _generate(tmp_path, "1:1")
    wrong = out.picture.resize((64, 64))
    calls: list[object] = []
    real = output_module.render_previews

    def counted(*args: Any, **kw: Any) -> Any:
        calls.append(args)
        return real(*args, **kw)

    monkeypatch.setattr(output_module, "render_previews", counted)
    stage = tmp_path / "stage"
    stage.mkdir()
    store_output(stage, PurePosixPath("a") / "v1", "image", dataclasses.replace(out, picture=wrong))
    assert len(calls) == 1  # the file decides: decoded as for any provider


@pytest.mark.parametrize("in_memory", [True, False])
def test_a_result_is_written_once_into_its_staging_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, in_memory: bool
) -> None:
    """The job's staging folder is its own (``job:complete`` moves it whole): its files
    are written under their names, no temporary and rename each."""
    import os

    out = _generate(tmp_path, "1:1")
    if not in_memory:
        out = dataclasses.replace(out, picture=None)
    renames: list[str] = []
    real_replace = os.replace

    def counting(a: Any, b: Any, *args: Any, **kw: Any) -> None:
        renames.append(str(b))
        real_replace(a, b, *args, **kw)

    monkeypatch.setattr(os, "replace", counting)
    stage = tmp_path / "stage"
    stage.mkdir()
    done = store_output(stage, PurePosixPath("a") / "v1", "image", out)
    assert renames == []
    names = sorted(p.name for p in stage.iterdir())
    assert names == ["original.png", "thumb.16.webp", "thumb.64.webp", "thumb.webp"]
    assert done.thumb_path == "a/v1/thumb.webp"
