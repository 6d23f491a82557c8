"""render_previews(): thumbnails, posters and waveforms that really decode."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageChops, ImageStat

from studio.media import MediaKind, Previews, probe, render_previews
from studio.media.previews import POSTER_BOX, THUMB_BOX, probe_and_render, tier_image
from tests.media.conftest import VIDEO_FPS, VIDEO_SECONDS, Sample
from tests.media.test_probe import AUDIO_SAMPLES, IMAGE_SAMPLES, VIDEO_SAMPLES, get


def expected_fit(width: int, height: int, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(width, height))
    return round(width * scale), round(height * scale)


def render(sample: Sample, out: Path) -> Previews:
    return render_previews(sample.path, probe(sample.path), out)


def open_webp(path: Path) -> Image.Image:
    im = Image.open(path)
    assert im.format == "WEBP"
    im.load()
    return im


@pytest.mark.parametrize("name", IMAGE_SAMPLES)
def test_image_thumbnail_fits_512_keeps_aspect_never_upscales(
    samples: dict[str, Sample], tmp_path: Path, name: str
) -> None:
    sample = get(samples, name)
    previews = render(sample, tmp_path / "out")
    assert previews.poster is None
    assert previews.thumb == tmp_path / "out" / "thumb.webp"
    thumb = open_webp(previews.thumb)
    assert sample.width is not None and sample.height is not None
    want = expected_fit(sample.width, sample.height, THUMB_BOX)
    assert abs(thumb.width - want[0]) <= 1 and abs(thumb.height - want[1]) <= 1


def test_transparency_is_kept(samples: dict[str, Sample], tmp_path: Path) -> None:
    for name in ("png", "webp", "gif_transparent"):
        thumb = open_webp(render(samples[name], tmp_path / name).thumb or Path())
        assert thumb.mode == "RGBA", name
        alpha = np.asarray(thumb.getchannel("A"))
        assert alpha.min() < 64 and alpha.max() > 192, name


def test_exif_orientation_is_applied(samples: dict[str, Sample], tmp_path: Path) -> None:
    thumb = open_webp(render(samples["jpeg_exif_rotated"], tmp_path).thumb or Path())
    assert thumb.size == (300, 400)  # stored 400x300, displayed upright


def test_cmyk_and_16bit_sources_become_sane_rgb(samples: dict[str, Sample], tmp_path: Path) -> None:
    cmyk = open_webp(render(samples["jpeg_cmyk"], tmp_path / "c").thumb or Path())
    assert cmyk.mode == "RGB"
    deep = open_webp(render(samples["tiff_16bit"], tmp_path / "d").thumb or Path())
    arr = np.asarray(deep.convert("L"), dtype=np.int32)
    assert arr[:10].mean() < 40 and arr[-10:].mean() > 200  # a gradient, not all white


@pytest.mark.parametrize("name", VIDEO_SAMPLES)
def test_video_poster_and_thumbnail(samples: dict[str, Sample], tmp_path: Path, name: str) -> None:
    sample = get(samples, name)
    previews = render(sample, tmp_path / "out")
    assert previews.poster == tmp_path / "out" / "poster.webp"
    poster = open_webp(previews.poster)
    thumb = open_webp(previews.thumb or Path())
    assert sample.width is not None and sample.height is not None
    assert poster.size == expected_fit(sample.width, sample.height, POSTER_BOX)
    want = expected_fit(sample.width, sample.height, THUMB_BOX)
    assert abs(thumb.width - want[0]) <= 1 and abs(thumb.height - want[1]) <= 1


def test_poster_is_taken_about_ten_percent_in(samples: dict[str, Sample], tmp_path: Path) -> None:
    """The fixture writes frame i with blue = i * 255 / (n - 1)."""
    sample = get(samples, "mp4")
    poster = open_webp(render(sample, tmp_path).poster or Path())
    n = int(VIDEO_SECONDS * VIDEO_FPS)
    frame_index = round(0.1 * (n - 1))
    blue = np.asarray(poster)[:, :, 2].astype(np.float64)
    # Sample a corner away from the moving white block.
    assert abs(blue[-20:, -20:].mean() - frame_index * 255 / (n - 1)) < 12


def test_rotated_video_poster_is_upright(samples: dict[str, Sample], tmp_path: Path) -> None:
    sample = get(samples, "mp4_rotated")
    poster = open_webp(render(sample, tmp_path).poster or Path())
    assert poster.size == (180, 320)


@pytest.mark.parametrize("name", AUDIO_SAMPLES)
def test_audio_waveform_picture(samples: dict[str, Sample], tmp_path: Path, name: str) -> None:
    sample = get(samples, name)
    previews = render(sample, tmp_path / "out")
    assert previews.poster is None
    wave = open_webp(previews.thumb or Path())
    assert wave.size == (512, 256)
    arr = np.asarray(wave.convert("L"), dtype=np.int32)
    background = int(np.median(arr[:10, :]))
    assert background < 50  # dark
    # The tone swells in the middle: the middle columns are taller than the edges.
    lit = (np.abs(arr - background) > 40).sum(axis=0)
    assert lit[240:272].mean() > 1.5 * lit[:16].mean()
    assert lit[240:272].mean() > 150


def test_outputs_are_replaced_atomically_without_leftovers(
    samples: dict[str, Sample], tmp_path: Path
) -> None:
    out = tmp_path / "out"
    render(samples["jpeg"], out)
    first = (out / "thumb.webp").read_bytes()
    render(samples["png"], out)  # a second render replaces the file
    assert (out / "thumb.webp").read_bytes() != first
    assert sorted(p.name for p in out.iterdir()) == ["thumb.16.webp", "thumb.64.webp", "thumb.webp"]


def test_render_previews_creates_nested_out_dir(samples: dict[str, Sample], tmp_path: Path) -> None:
    out = tmp_path / "a" / "b" / "c"
    previews = render(samples["bmp"], out)
    assert previews.thumb is not None and previews.thumb.parent == out


def test_media_kind_is_a_str_enum() -> None:
    assert MediaKind.IMAGE == "image" and str(MediaKind.VIDEO) == "video"


@pytest.mark.parametrize("name", VIDEO_SAMPLES)
def test_a_video_is_opened_once_for_probe_poster_and_thumbnail(
    samples: dict[str, Sample], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """The import's path (probe_and_render) opens each video with FFmpeg once: the
    poster frame is sought in the probe's own open. The poster is the one the
    stand-alone render_previews (its own open) makes, pixel for pixel: the same frame,
    ~10 % in (the probe's first frame for a clip under 0.5 s), upright."""
    import av

    sample = get(samples, name)
    reference = open_webp(render(sample, tmp_path / "ref").poster or Path())
    real = av.open
    opened: list[str] = []

    def counting(*args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(args[0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(av, "open", counting)
    info, previews = probe_and_render(sample.path, tmp_path / "out")
    assert opened == [str(sample.path)]
    assert (info.width, info.height) == (sample.width, sample.height)
    poster = open_webp(previews.poster or Path())
    assert poster.size == reference.size
    diff = np.abs(np.asarray(poster, np.int16) - np.asarray(reference, np.int16))
    assert diff.mean() < 1.0
    assert previews.thumb is not None and previews.thumb.is_file()


@pytest.mark.parametrize("size", [(512, 384), (300, 200), (512, 512), (40, 30), (8, 8)])
def test_a_tier_fits_its_box_like_a_resize(size: tuple[int, int]) -> None:
    """Tiers come from the thumbnail by averaging blocks (``reduce``) and resampling
    only what is left: the same box and the same picture as a plain resize."""
    w, h = size
    # a smooth picture with an edge: what a block average and a resample agree on
    thumb = Image.linear_gradient("L").resize(size).convert("RGB")
    thumb.paste((200, 30, 30), (0, 0, w // 2, h // 2))
    for tier in (64, 16):
        made = tier_image(thumb, tier)
        plain = thumb.copy()
        plain.thumbnail((tier, tier))
        assert made is not thumb and made.mode == thumb.mode
        assert max(made.size) == min(tier, max(size))
        assert abs(made.width - plain.width) <= 1 and abs(made.height - plain.height) <= 1
        diff = ImageChops.difference(made.resize(plain.size), plain)
        assert max(ImageStat.Stat(diff).mean) < 12, ImageStat.Stat(diff).mean
