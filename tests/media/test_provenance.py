"""Provenance embedded in exported files (PNG/JPEG/WebP XMP + JSON, audio and video
tags), read back on re-import; C2PA kept byte for byte."""

from __future__ import annotations

import hashlib
import json
import struct
import zlib
from pathlib import Path

import av
import pytest
from PIL import Image, PngImagePlugin

from studio.cli.main import main
from studio.core import commands as c
from studio.core.exports import export_variants
from studio.core.imports import import_files
from studio.core.space import Space
from studio.core.studio import Studio
from studio.media.metadata import FORGE_KEY, read_generation_info
from studio.media.provenance import AV_KEY, TRAINED_ALGORITHMIC, read_container_recipe
from tests.conftest import OWNER
from tests.media.conftest import Sample, photo_like

A1111 = "a brass robot\nNegative prompt: rust\nSteps: 12, Sampler: Euler, Seed: 7, Size: 96x64"


def _made_png(path: Path) -> Path:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", A1111)
    photo_like(96, 64).save(path, pnginfo=info)
    return path


def _images(tmp: Path) -> dict[str, Path]:
    out = {"png": _made_png(tmp / "made.png")}
    photo_like(96, 64).save(tmp / "p.jpg", quality=90)
    out["jpeg"] = tmp / "p.jpg"
    photo_like(96, 64).save(tmp / "lossy.webp", quality=80)
    out["webp"] = tmp / "lossy.webp"
    photo_like(96, 64, alpha=True).save(tmp / "alpha.webp", lossless=True)
    out["webp_lossless_alpha"] = tmp / "alpha.webp"
    frames = [photo_like(40, 30, seed=i) for i in range(3)]
    frames[0].save(tmp / "anim.webp", save_all=True, append_images=frames[1:], duration=100)
    out["webp_animated"] = tmp / "anim.webp"
    return out


def _pixels(path: Path) -> list[bytes]:
    with Image.open(path) as im:
        frames = []
        for i in range(getattr(im, "n_frames", 1)):
            im.seek(i)
            frames.append(im.convert("RGBA").tobytes())
        return frames


def _import_one(space: Space, path: Path) -> str:
    report = import_files(space, [path], OWNER)
    assert not report.refused, report.refused
    return report.imported[0].variant_id


@pytest.mark.parametrize("kind", ["png", "jpeg", "webp", "webp_lossless_alpha", "webp_animated"])
def test_image_provenance_round_trip(space: Space, tmp_path: Path, kind: str) -> None:
    src = _images(tmp_path)[kind]
    vid = _import_one(space, src)
    fork = space.apply(c.ForkVariant(vid, name="Fork"), OWNER).created["variant_id"]
    [out] = export_variants(space, [fork], tmp_path / "out")
    assert out.how == "embedded" and out.path.name.endswith(src.suffix)
    assert _pixels(out.path) == _pixels(src)  # the image data is untouched
    with Image.open(out.path) as im:
        xmp = im.info.get("xmp") or im.info.get("XML:com.adobe.xmp")
        xmp_text = xmp.decode() if isinstance(xmp, bytes) else str(xmp)
    assert "<forge:recipe>" in xmp_text
    generated = kind == "png"  # its A1111 parameters say a model made it
    assert (TRAINED_ALGORITHMIC in xmp_text) is generated
    found = read_generation_info(out.path, f"image/{'png' if kind == 'png' else kind[:4]}")
    assert found is not None and found.source_tool == "forge-studio"
    doc = found.provenance["forge-studio"]
    assert doc["variant_id"] == fork and doc["lineage"] == [
        {"variant_id": vid, "relation": "forked"}
    ]
    assert doc["recipe"]["operation"] == "fork"
    # re-imported: the recipe comes back as the new variant's provenance
    again = _import_one(space, out.path)
    detail = space.variant_detail(again)
    assert detail.recipe["source_tool"] == "forge-studio"
    assert (
        detail.generation_provenance["forge-studio"]["recipe"] == space.variant_detail(fork).recipe
    )
    assert detail.generation_provenance["forge-studio"]["lineage"][0]["variant_id"] == vid


def test_png_carries_the_compact_json_chunk(space: Space, tmp_path: Path) -> None:
    vid = _import_one(space, _made_png(tmp_path / "m.png"))
    [out] = export_variants(space, [vid], tmp_path / "out")
    with Image.open(out.path) as im:
        doc = json.loads(im.info[FORGE_KEY])
        assert im.info["parameters"] == A1111  # the tool's own chunk is kept too
    assert doc["recipe"]["source_tool"] == "automatic1111"
    assert doc["recipe"]["prompt"] == "a brass robot" and doc["app"] == "forge-studio"
    # exporting an exported file again replaces our chunks instead of stacking them
    again = _import_one(space, out.path)
    [out2] = export_variants(space, [again], tmp_path / "out2")
    raw = out2.path.read_bytes()
    assert raw.count(FORGE_KEY.encode()) == 1 and raw.count(b"XML:com.adobe.xmp") == 1


@pytest.mark.parametrize("kind", ["mp3", "flac", "ogg_vorbis", "wav", "m4a"])
def test_audio_provenance_round_trip(
    space: Space, tmp_path: Path, audio: dict[str, Sample], kind: str
) -> None:
    if kind not in audio:
        pytest.skip(f"no {kind} encoder here")
    vid = _import_one(space, audio[kind].path)
    [out] = export_variants(space, [vid], tmp_path / "out")
    assert out.how == "embedded"
    text = read_container_recipe(out.path, audio[kind].mime)
    assert text is not None and json.loads(text)["variant_id"] == vid
    again = space.variant_detail(_import_one(space, out.path))
    assert again.recipe["source_tool"] == "forge-studio"
    assert again.generation_provenance["forge-studio"]["variant_id"] == vid
    assert again.row.duration_ms == space.variant_detail(vid).row.duration_ms


@pytest.mark.parametrize("kind", ["mp4", "webm_vp9"])
def test_video_provenance_round_trip(
    space: Space, tmp_path: Path, video: dict[str, Sample], kind: str
) -> None:
    if kind not in video:
        pytest.skip(f"no {kind} encoder here")
    vid = _import_one(space, video[kind].path)
    [out] = export_variants(space, [vid], tmp_path / "out")
    with av.open(str(out.path)) as got, av.open(str(video[kind].path)) as want:
        tag = got.metadata.get(AV_KEY) or got.metadata[AV_KEY.upper()]  # Matroska: upper case
        assert json.loads(tag)["variant_id"] == vid
        assert [s.type for s in got.streams] == [s.type for s in want.streams]
        assert got.streams.video[0].codec_context.name == want.streams.video[0].codec_context.name
        count = sum(1 for _ in got.demux(got.streams.video[0]))
        assert count == sum(1 for _ in want.demux(want.streams.video[0]))
    again = space.variant_detail(_import_one(space, out.path))
    assert again.recipe["source_tool"] == "forge-studio"
    assert (again.row.width, again.row.height) == (video[kind].width, video[kind].height)


def _with_c2pa(src: Path, dest: Path) -> Path:
    """A JPEG with an APP11 JUMBF segment labelled c2pa (as C2PA embeds its manifest)."""
    raw = src.read_bytes()
    box = b"\x00\x00\x00\x20jumb\x00\x00\x00\x18jumdc2pa\x00\x11\x00\x10" + b"\x00" * 8
    payload = b"JP\x00\x01\x00\x00\x00\x01" + box + b"signed-claim-bytes"
    seg = b"\xff\xeb" + struct.pack(">H", len(payload) + 2) + payload
    dest.write_bytes(raw[:2] + seg + raw[2:])
    return dest


def _png_with_cabx(src: Path, dest: Path) -> Path:
    raw = src.read_bytes()
    at = raw.index(b"IDAT") - 4
    data = b"jumbc2pa-manifest"
    chunk = (
        struct.pack(">I", len(data))
        + b"caBX"
        + data
        + struct.pack(">I", zlib.crc32(b"caBX" + data))
    )
    dest.write_bytes(raw[:at] + chunk + raw[at:])
    return dest


@pytest.mark.parametrize("fmt", ["jpeg", "png"])
def test_c2pa_is_noted_and_kept_byte_for_byte(space: Space, tmp_path: Path, fmt: str) -> None:
    if fmt == "jpeg":
        photo_like(64, 48).save(tmp_path / "plain.jpg", quality=90)
        src = _with_c2pa(tmp_path / "plain.jpg", tmp_path / "gemini.jpg")
    else:
        src = _png_with_cabx(_made_png(tmp_path / "plain.png"), tmp_path / "gemini.png")
    vid = _import_one(space, src)
    assert space.variant_detail(vid).generation_provenance["c2pa"] == "present"
    [out] = export_variants(space, [vid], tmp_path / "out")
    assert out.how == "c2pa-kept"
    assert (
        hashlib.sha256(out.path.read_bytes()).digest() == hashlib.sha256(src.read_bytes()).digest()
    )


def test_export_a_collection_and_an_asset(space: Space, tmp_path: Path) -> None:
    a = _import_one(space, _made_png(tmp_path / "a.png"))
    photo_like(32, 32).save(tmp_path / "b.jpg")
    b = _import_one(space, tmp_path / "b.jpg")
    col = space.apply(c.CreateCollection("Picks"), OWNER).created["collection_id"]
    space.apply(c.AddCollectionItem(col, variant_id=b), OWNER)
    space.apply(c.AddCollectionItem(col, asset_id=space.variant_detail(a).row.asset_id), OWNER)
    done = export_variants(space, [col], tmp_path / "col")
    assert [d.variant_id for d in done] == [b, a]
    assert sorted(p.name for p in (tmp_path / "col").iterdir()) == sorted(d.path.name for d in done)
    from studio.core.errors import StorageError

    with pytest.raises(StorageError, match="already exists"):
        export_variants(space, [a], tmp_path / "col")


def test_cli_export(studio: Studio, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = studio.create_space("Shots")
    with studio.open_space(entry.slug) as sp:
        vid = _import_one(sp, _made_png(tmp_path / "m.png"))
    home = str(studio.paths.home)
    assert main(["--home", home, "export", entry.slug, vid, "--json"]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert Path(row["file"]).parent == studio.paths.exports_dir / entry.slug
    assert main(["--home", home, "export", entry.slug, "nope"]) == 1
    assert "there is no variant, asset or collection 'nope'" in capsys.readouterr().err


def test_large_provenance_chunks_are_replaced_not_stacked(space: Space, tmp_path: Path) -> None:
    info = PngImagePlugin.PngInfo()
    long_prompt = "a brass robot, " + ", ".join(f"detail {i}" for i in range(500))
    info.add_text("parameters", f"{long_prompt}\nSteps: 12, Sampler: Euler, Seed: 7")
    photo_like(64, 48).save(tmp_path / "long.png", pnginfo=info)
    vid = _import_one(space, tmp_path / "long.png")
    [out] = export_variants(space, [vid], tmp_path / "a")
    assert out.path.read_bytes().count(long_prompt.encode()) >= 2  # chunks of 6+ kB
    again = _import_one(space, out.path)
    [out2] = export_variants(space, [again], tmp_path / "b")
    raw = out2.path.read_bytes()
    assert raw.count(FORGE_KEY.encode()) == 1 and raw.count(b"XML:com.adobe.xmp") == 1
    with Image.open(out2.path) as im:
        doc = json.loads(im.info[FORGE_KEY])
    assert doc["variant_id"] == again and doc["provenance"]["forge-studio"]["variant_id"] == vid
