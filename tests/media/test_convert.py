"""``studio convert``: every target decoded back (format, size, duration), provenance
embedded, wrong targets refused with nothing written."""

from __future__ import annotations

import json
from pathlib import Path

import av
import pytest
from PIL import Image, PngImagePlugin

from studio.cli.main import main
from studio.core.convert import PROGRESS_TOTAL, ConvertOptions, convert_variant
from studio.core.errors import StorageError, ValidationError
from studio.core.imports import import_files
from studio.core.space import Space
from studio.core.studio import Studio
from studio.media.metadata import read_generation_info
from studio.media.provenance import AV_KEY, read_container_recipe
from tests.conftest import OWNER
from tests.media.conftest import Sample, photo_like


def _import(space: Space, path: Path) -> str:
    report = import_files(space, [path], OWNER)
    assert not report.refused, report.refused
    return report.imported[0].variant_id


@pytest.fixture
def picture(space: Space, tmp_path: Path) -> str:
    info = PngImagePlugin.PngInfo()
    info.add_text("parameters", "a teapot\nSteps: 5, Sampler: Euler, Seed: 3, Size: 300x200")
    photo_like(300, 200, alpha=True).save(tmp_path / "teapot.png", pnginfo=info)
    return _import(space, tmp_path / "teapot.png")


IMAGE_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "avif": "AVIF", "tiff": "TIFF"}


@pytest.mark.parametrize("to", sorted(IMAGE_FORMATS))
def test_image_targets(space: Space, picture: str, tmp_path: Path, to: str) -> None:
    out = convert_variant(
        space, picture, ConvertOptions(to, quality=80, max_size=150), out=tmp_path, exports=tmp_path
    )
    with Image.open(out.path) as im:
        assert im.format == IMAGE_FORMATS[to] and im.size == (150, 100)
        im.load()
    raw = out.path.read_bytes()
    assert b"forge:recipe" in raw and b"trainedAlgorithmicMedia" in raw
    if to in ("png", "jpeg", "webp"):
        found = read_generation_info(out.path, out.mime)
        assert found is not None and found.source_tool == "forge-studio"
        doc = found.provenance["forge-studio"]
        assert doc["variant_id"] == picture and doc["converted"]["to"] == out.mime
        assert doc["recipe"]["prompt"] == "a teapot"


def test_a_png_with_huge_metadata_converts(space: Space, tmp_path: Path) -> None:
    import struct
    import zlib

    path = tmp_path / "big.png"
    photo_like(64, 48).save(path)
    raw = path.read_bytes()
    at = raw.index(b"IDAT") - 4
    bomb = b"wf\0\0" + zlib.compress(bytes(50 * 2**20), 9)  # unpacks past Pillow's limit
    chunk = (
        struct.pack(">I", len(bomb))
        + b"zTXt"
        + bomb
        + struct.pack(">I", zlib.crc32(b"zTXt" + bomb))
    )
    path.write_bytes(raw[:at] + chunk + raw[at:])
    out = convert_variant(
        space, _import(space, path), ConvertOptions("webp"), out=tmp_path, exports=tmp_path
    )
    with Image.open(out.path) as im:
        assert im.format == "WEBP" and im.size == (64, 48)


def test_quality_changes_the_size(space: Space, picture: str, tmp_path: Path) -> None:
    low = convert_variant(
        space, picture, ConvertOptions("jpeg", quality=10), out=tmp_path / "l.jpg", exports=tmp_path
    )
    high = convert_variant(
        space, picture, ConvertOptions("jpeg", quality=95), out=tmp_path / "h.jpg", exports=tmp_path
    )
    assert low.size_bytes < high.size_bytes
    with Image.open(high.path) as im:
        assert im.size == (300, 200)  # no --max-size: never resized


def test_wrong_kind_and_existing_file_refused(space: Space, picture: str, tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="an image cannot be converted to mp3"):
        convert_variant(space, picture, ConvertOptions("mp3"), out=tmp_path, exports=tmp_path)
    with pytest.raises(ValidationError, match="quality"):
        convert_variant(
            space, picture, ConvertOptions("jpeg", quality=0), out=tmp_path, exports=tmp_path
        )
    out = tmp_path / "out"
    out.mkdir()
    (out / "taken.png").write_bytes(b"mine")
    with pytest.raises(StorageError, match="already exists"):
        convert_variant(space, picture, ConvertOptions("png"), out=out / "taken.png", exports=out)
    assert (out / "taken.png").read_bytes() == b"mine"
    assert [p.name for p in out.iterdir()] == ["taken.png"]


def _duration_ms(path: Path) -> int:
    with av.open(str(path)) as c:
        return int(c.duration * 1000 / av.time_base) if c.duration else 0


@pytest.mark.parametrize(
    "to,codec", [("wav", "pcm_s16le"), ("mp3", "mp3"), ("flac", "flac"), ("ogg", "opus")]
)
def test_audio_targets(
    space: Space, audio: dict[str, Sample], tmp_path: Path, to: str, codec: str
) -> None:
    vid = _import(space, audio["wav"].path)
    out = convert_variant(space, vid, ConvertOptions(to), out=None, exports=tmp_path / "exports")
    assert out.path.parent == tmp_path / "exports" / space.slug
    with av.open(str(out.path)) as c:
        assert c.streams.audio[0].codec_context.name.startswith(codec)  # mp3: "mp3float"
        frames = sum(f.samples for f in c.decode(audio=0))
        rate = c.streams.audio[0].codec_context.sample_rate
    assert abs(frames / rate * 1000 - audio["wav"].duration_ms) < 80
    text = read_container_recipe(out.path, out.mime)
    assert text is not None and json.loads(text)["variant_id"] == vid


@pytest.mark.parametrize("to,codec,acodec", [("mp4", "h264", "aac"), ("webm", "vp9", "opus")])
def test_video_targets(
    space: Space, video: dict[str, Sample], tmp_path: Path, to: str, codec: str, acodec: str
) -> None:
    sample = video["webm_vp9"] if to == "mp4" else video["mp4"]
    vid = _import(space, sample.path)
    out = convert_variant(
        space, vid, ConvertOptions(to, max_size=160), out=tmp_path, exports=tmp_path
    )
    with av.open(str(out.path)) as c:
        v = c.streams.video[0]
        assert v.codec_context.name == codec
        assert (v.codec_context.width, v.codec_context.height) == (160, 120)
        tag = c.metadata.get(AV_KEY) or c.metadata[AV_KEY.upper()]
        assert json.loads(tag)["converted"]["to"] == out.mime
        has_audio = bool(c.streams.audio)
        if has_audio:
            assert c.streams.audio[0].codec_context.name == acodec
        frames = sum(1 for _ in c.decode(video=0))
    with av.open(str(sample.path)) as c:
        assert has_audio == bool(c.streams.audio)
        assert frames == sum(1 for _ in c.decode(video=0))
    assert abs(_duration_ms(out.path) - sample.duration_ms) < 200


def test_cli_convert(studio: Studio, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    entry = studio.create_space("Conv")
    photo_like(64, 32).save(tmp_path / "p.png")
    with studio.open_space(entry.slug) as sp:
        vid = _import(sp, tmp_path / "p.png")
    home = str(studio.paths.home)
    assert main(["--home", home, "convert", entry.slug, vid, "--to", "webp", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["mime"] == "image/webp" and Path(out["file"]).is_file()
    assert main(["--home", home, "convert", entry.slug, vid, "--to", "flac"]) == 1
    assert (
        capsys.readouterr().err.strip()
        == "studio: an image cannot be converted to flac (an audio format)"
    )


# --------------------------------------------------------------------------- progress


def _recorded(calls: list[tuple[int, int, str]]) -> None:
    dones = [d for d, _t, _w in calls]
    assert dones == sorted(dones)  # never backwards
    assert {t for _d, t, _w in calls} == {PROGRESS_TOTAL}
    assert calls[-1][0] == PROGRESS_TOTAL


def test_video_conversion_reports_frames_then_sound(
    space: Space, video: dict[str, Sample], tmp_path: Path
) -> None:
    """Before: no progress at all (the app showed a busy bar)."""
    vid = _import(space, video["mp4"].path)  # 2 s at 25 fps, with sound
    calls: list[tuple[int, int, str]] = []
    convert_variant(
        space,
        vid,
        ConvertOptions("webm", max_size=96),
        out=tmp_path,
        exports=tmp_path,
        progress=lambda d, t, w: calls.append((d, t, w)),
    )
    _recorded(calls)
    texts = [w for _d, _t, w in calls]
    assert texts[0] == "frame 1 of 50" and calls[0][0] == 0
    at_frames_end = max(d for d, _t, w in calls if w == "frame 50 of 50")
    assert at_frames_end == 900  # the frames are 90 % of the work, the sound the rest
    assert texts[-1] == "sound 2.0 of 2.0 s"
    assert any(w.startswith("sound 1.") for w in texts)
    assert texts.index("frame 50 of 50") < texts.index(texts[-1])


def test_audio_conversion_reports_seconds(
    space: Space, audio: dict[str, Sample], tmp_path: Path
) -> None:
    vid = _import(space, audio["wav"].path)
    calls: list[tuple[int, int, str]] = []
    convert_variant(
        space,
        vid,
        ConvertOptions("mp3"),
        out=tmp_path,
        exports=tmp_path,
        progress=lambda d, t, w: calls.append((d, t, w)),
    )
    _recorded(calls)
    seconds = audio["wav"].duration_ms / 1000
    assert calls[-1][2] == f"sound {seconds:.1f} of {seconds:.1f} s"
    assert len({d for d, _t, _w in calls}) > 10  # a moving figure, not just start and end


def test_cli_convert_bar() -> None:
    import io

    from studio.cli.archive import ConvertBar

    out = io.StringIO()
    bar = ConvertBar(out, live=True)
    bar(0, PROGRESS_TOTAL, "frame 1 of 50")
    bar(PROGRESS_TOTAL, PROGRESS_TOTAL, "sound 2.0 of 2.0 s")
    bar.end()
    lines = out.getvalue().split("\r")
    assert lines[1].rstrip() == "converting [                              ]    0% frame 1 of 50"
    assert lines[2].rstrip() == f"converting [{'#' * 30}]  100% sound 2.0 of 2.0 s"
    quiet = io.StringIO()
    ConvertBar(quiet, live=False)(5, 10, "frame 3")
    assert quiet.getvalue() == ""
