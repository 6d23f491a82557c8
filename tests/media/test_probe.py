"""probe() on every accepted format, generated fresh for the run."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.media import MediaInfo, MediaKind, probe, sniff
from tests.media.conftest import Sample

IMAGE_SAMPLES = [
    "png",
    "png_big",
    "png_tiny",
    "apng",
    "jpeg",
    "jpeg_progressive",
    "jpeg_cmyk",
    "jpeg_exif_rotated",
    "webp",
    "webp_lossless",
    "webp_animated",
    "gif",
    "gif_animated",
    "gif_transparent",
    "bmp",
    "tiff",
    "tiff_16bit",
]
AUDIO_SAMPLES = [
    "wav",
    "wav_mono",
    "mp3",
    "flac",
    "ogg_vorbis",
    "ogg_opus",
    "m4a",
    "mp4_audio_only",
]
VIDEO_SAMPLES = ["mp4", "mov", "mp4_big", "mp4_rotated", "webm_vp9", "webm_vp8"]
ALL_SAMPLES = IMAGE_SAMPLES + AUDIO_SAMPLES + VIDEO_SAMPLES


def get(samples: dict[str, Sample], name: str) -> Sample:
    if name not in samples:
        pytest.skip(f"the bundled FFmpeg has no encoder for {name}")
    return samples[name]


def assert_matches(info: MediaInfo, sample: Sample) -> None:
    assert info.kind == MediaKind(sample.kind)
    assert info.mime == sample.mime
    assert info.ext == sample.ext
    assert info.size_bytes == sample.path.stat().st_size
    assert (info.width, info.height) == (sample.width, sample.height)
    if sample.duration_ms is None:
        assert info.duration_ms is None
    else:
        assert info.duration_ms is not None
        assert abs(info.duration_ms - sample.duration_ms) <= 50, info.duration_ms


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_probe_reports_kind_mime_ext_size_dimensions_duration(
    samples: dict[str, Sample], name: str
) -> None:
    sample = get(samples, name)
    assert_matches(probe(sample.path), sample)


@pytest.mark.parametrize("name", ALL_SAMPLES)
def test_sniff_agrees_with_probe(samples: dict[str, Sample], name: str) -> None:
    sample = get(samples, name)
    kind, mime, ext = sniff(sample.path)
    assert (kind.value, mime, ext) == (sample.kind, sample.mime, sample.ext)


def test_all_accepted_formats_are_covered(samples: dict[str, Sample]) -> None:
    from studio.media import AUDIO_FORMATS, IMAGE_FORMATS, VIDEO_FORMATS

    seen = {s.ext for s in samples.values()}
    required = set(IMAGE_FORMATS + AUDIO_FORMATS) | {"mp4", "mov"}
    assert required <= seen
    assert seen <= set(IMAGE_FORMATS + AUDIO_FORMATS + VIDEO_FORMATS)


@pytest.mark.parametrize(
    ("name", "new_name"),
    [
        ("png", "lies.jpg"),
        ("jpeg", "lies.png"),
        ("gif", "lies.webp"),
        ("wav", "lies.mp4"),
        ("flac", "lies.mp3"),
        ("mp3", "lies.wav"),
        ("mp4", "lies.m4a"),
        ("m4a", "lies.mp4"),
        ("webm_vp9", "lies.mov"),
        ("tiff", "noextension"),
    ],
)
def test_extension_lies_are_ignored(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path], name: str, new_name: str
) -> None:
    sample = get(samples, name)
    info = probe(copy_as(sample.path, new_name))
    assert (info.kind.value, info.mime, info.ext) == (sample.kind, sample.mime, sample.ext)


def test_mp3_without_id3_tag_is_recognised(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path]
) -> None:
    src = get(samples, "mp3").path.read_bytes()
    assert src.startswith(b"ID3")
    tag_size = 10 + ((src[6] << 21) | (src[7] << 14) | (src[8] << 7) | src[9])
    bare = copy_as(get(samples, "mp3").path, "bare.bin")
    bare.write_bytes(src[tag_size:])
    info = probe(bare)
    assert (info.kind, info.ext) == (MediaKind.AUDIO, "mp3")
    assert info.duration_ms is not None and abs(info.duration_ms - 2000) <= 80


def test_animated_images_are_images_with_duration(samples: dict[str, Sample]) -> None:
    for name in ("gif_animated", "webp_animated", "apng"):
        info = probe(samples[name].path)
        assert info.kind is MediaKind.IMAGE
        assert info.duration_ms == samples[name].duration_ms


def test_media_info_is_frozen(samples: dict[str, Sample]) -> None:
    info = probe(samples["png"].path)
    with pytest.raises(AttributeError):
        info.width = 1  # type: ignore[misc]


def test_importing_the_package_is_cheap_and_qt_free() -> None:
    import subprocess

    code = (
        "import sys, studio.media as m; "
        "heavy = [n for n in ('av', 'numpy', 'PIL', 'mutagen', 'PySide6') if n in sys.modules]; "
        "print(heavy)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"


def test_probe_is_thread_safe_and_leaves_warning_filters_alone(
    samples: dict[str, Sample],
) -> None:
    import warnings
    from concurrent.futures import ThreadPoolExecutor

    before = list(warnings.filters)
    names = [n for n in IMAGE_SAMPLES if n in samples] * 4
    with ThreadPoolExecutor(max_workers=4) as pool:
        infos = list(pool.map(lambda n: probe(samples[n].path), names))
    assert [i.ext for i in infos] == [samples[n].ext for n in names]
    assert list(warnings.filters) == before
