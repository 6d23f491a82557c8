"""Bad input: each gives the right code and one readable sentence."""

from __future__ import annotations

import os
import pickle
import struct
import zlib
from collections.abc import Callable
from pathlib import Path

import av
import pytest

from studio.media import MediaError, MediaLimits, probe, render_previews, sniff
from tests.media.conftest import Sample, encode_audio, encode_video, first_encoder


def assert_error(exc: MediaError, code: str, *needles: str) -> None:
    assert exc.code == code, (exc.code, exc.message)
    assert str(exc) == exc.message
    assert "Traceback" not in exc.message and "\n" not in exc.message
    assert exc.message[0].islower() and not exc.message.endswith(".")
    for needle in needles:
        assert needle in exc.message, exc.message


def probe_error(path: Path, limits: MediaLimits | None = None) -> MediaError:
    with pytest.raises(MediaError) as info:
        probe(path) if limits is None else probe(path, limits)
    return info.value


def png_bytes(width: int, height: int) -> bytes:
    """A valid 1-bit greyscale PNG of any size, all zero, compressed to almost nothing."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    row = b"\x00" * (1 + (width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", idat) + chunk(b"IEND", b"")


# --------------------------------------------------------------------------- files


def test_zero_bytes_is_empty(tmp_path: Path) -> None:
    p = tmp_path / "nothing.png"
    p.touch()
    assert_error(probe_error(p), "empty", "the file is empty")
    with pytest.raises(MediaError) as info:
        sniff(p)
    assert info.value.code == "empty"


def test_directory_is_unreadable(tmp_path: Path) -> None:
    d = tmp_path / "folder.png"
    d.mkdir()
    assert_error(probe_error(d), "unreadable", "folder")
    with pytest.raises(MediaError) as info:
        sniff(d)
    assert info.value.code == "unreadable"


def test_missing_file_is_unreadable(tmp_path: Path) -> None:
    assert_error(probe_error(tmp_path / "gone.jpg"), "unreadable", "does not exist")


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root can read anything"
)
def test_permission_denied_is_unreadable(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path]
) -> None:
    p = copy_as(samples["png"].path, "locked.png")
    p.chmod(0)
    try:
        assert_error(probe_error(p), "unreadable", "permission")
    finally:
        p.chmod(0o644)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="POSIX only")
def test_a_pipe_is_unreadable_and_does_not_block(tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.wav"
    os.mkfifo(fifo)
    assert_error(probe_error(fifo), "unreadable", "not a regular file")
    with pytest.raises(MediaError) as info:
        sniff(fifo)
    assert info.value.code == "unreadable"


def test_over_the_size_limit_is_too_large(samples: dict[str, Sample]) -> None:
    err = probe_error(samples["jpeg"].path, MediaLimits(max_bytes=100_000))
    assert_error(err, "too_large", "KiB", "over the 97.7 KiB import limit")


def test_too_large_message_uses_gib() -> None:
    from studio.media.kinds import human_bytes

    assert human_bytes(int(3.1 * 1024**3)) == "3.1 GiB"
    assert human_bytes(2 * 1024**3) == "2 GiB"
    assert human_bytes(5) == "5 bytes"


def test_over_the_duration_limit_is_too_large(samples: dict[str, Sample]) -> None:
    err = probe_error(samples["wav"].path, MediaLimits(max_duration_ms=1000))
    assert_error(err, "too_large", "the audio is 2 s long", "over the 1 s limit")


# --------------------------------------------------------------------------- content


def test_text_renamed_png_is_unsupported(tmp_path: Path) -> None:
    p = tmp_path / "notes.png"
    p.write_text("Shopping list\n- eggs\n- flour ✓\n", encoding="utf-8")
    assert_error(probe_error(p), "unsupported", "not an image, audio or video", "looks like text")


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "PDF"),
        (b"PK\x03\x04\x14\x00\x00\x00\x08\x00", "ZIP"),
        (b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"/>', "SVG"),
        (b"\x00\x01\x02\x03\x04\x05\x06\x07\x08" * 20, "unknown kind"),
        (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic", "HEIC"),
        (b"RIFF\x00\x01\x00\x00AVI LIST", "AVI"),
    ],
)
def test_other_files_say_what_they_look_like(tmp_path: Path, content: bytes, needle: str) -> None:
    p = tmp_path / "thing.jpg"
    p.write_bytes(content)
    assert_error(probe_error(p), "unsupported", needle)


def test_matroska_and_audio_only_webm_are_refused_with_reason(tmp_path: Path) -> None:
    mkv = tmp_path / "clip.mkv"
    encode_video(mkv, "matroska", "mpeg4", None, seconds=0.2)
    assert_error(probe_error(mkv), "unsupported", "Matroska")

    opus = first_encoder("libopus", "opus")
    if opus is None:
        pytest.skip("no opus encoder")
    webm = tmp_path / "voice.webm"
    encode_audio(webm, "webm", opus, 0.5, rate=48000, strict="experimental")
    assert_error(probe_error(webm), "unsupported", "audio-only WebM")


def test_truncated_jpeg_is_corrupt(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path]
) -> None:
    for name in ("jpeg", "jpeg_progressive"):
        data = samples[name].path.read_bytes()
        p = copy_as(samples[name].path, f"cut_{name}.jpg")
        p.write_bytes(data[: len(data) * 2 // 3])
        assert_error(probe_error(p), "corrupt", "the image is truncated or corrupt")


def test_truncated_png_is_corrupt(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path]
) -> None:
    data = samples["png"].path.read_bytes()
    p = copy_as(samples["png"].path, "cut.png")
    for cut in (len(data) - 12, len(data) // 2, 40):  # no IEND / mid-IDAT / inside IHDR
        p.write_bytes(data[:cut])
        assert_error(probe_error(p), "corrupt", "truncated or corrupt")


@pytest.mark.parametrize("name", ["gif", "bmp", "tiff", "webp"])
def test_other_truncated_images_are_corrupt(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path], name: str
) -> None:
    data = samples[name].path.read_bytes()
    p = copy_as(samples[name].path, f"cut.{name}")
    p.write_bytes(data[: len(data) // 2])
    assert_error(probe_error(p), "corrupt", "truncated or corrupt")


def test_png_with_damaged_pixels_fails_in_render_previews(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path], tmp_path: Path
) -> None:
    """Structure intact (CRCs recomputed) but the deflate stream is garbage."""
    data = bytearray(samples["png"].path.read_bytes())
    pos = data.index(b"IDAT") - 4
    (length,) = struct.unpack_from(">I", data, pos)
    start = pos + 8
    data[start : start + length] = bytes((b * 7 + 13) & 0xFF for b in data[start : start + length])
    struct.pack_into(">I", data, start + length, zlib.crc32(data[pos + 4 : start + length]))
    p = copy_as(samples["png"].path, "garbled.png")
    p.write_bytes(bytes(data))
    info = probe(p)  # cheap structural check passes…
    with pytest.raises(MediaError) as err:  # …the real decode catches it
        render_previews(p, info, tmp_path / "out")
    assert_error(err.value, "corrupt", "the image is truncated or corrupt")
    assert not (tmp_path / "out" / "thumb.webp").exists()


def test_truncated_mp4_is_corrupt(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path]
) -> None:
    sample = samples.get("mp4")
    if sample is None:
        pytest.skip("no h264 encoder")
    data = sample.path.read_bytes()
    p = copy_as(sample.path, "cut.mp4")
    for cut in (len(data) * 3 // 5, len(data) - 100):
        p.write_bytes(data[:cut])
        assert_error(probe_error(p), "corrupt", "the video is truncated or corrupt")


def test_trailing_junk_after_an_mp4_is_tolerated(
    samples: dict[str, Sample], copy_as: Callable[[Path, str], Path]
) -> None:
    sample = samples.get("mp4")
    if sample is None:
        pytest.skip("no h264 encoder")
    p = copy_as(sample.path, "junk.mp4")
    p.write_bytes(sample.path.read_bytes() + b"JUNKJUNK and some more trailing bytes")
    assert probe(p).ext == "mp4"


def test_video_garbage_after_header_is_corrupt(tmp_path: Path) -> None:
    p = tmp_path / "fake.mp4"
    p.write_bytes(b"\x00\x00\x00\x18ftypisom\x00\x00\x02\x00isomiso2" + os.urandom(4000))
    assert probe_error(p).code == "corrupt"


# --------------------------------------------------------------------------- bombs


def test_decompression_bomb_is_refused_without_decoding(tmp_path: Path) -> None:
    p = tmp_path / "bomb.png"
    p.write_bytes(png_bytes(20000, 20000))  # 400 Mpx, ~50 KB on disk
    assert p.stat().st_size < 200_000
    err = probe_error(p)
    assert_error(err, "bomb", "20000×20000 pixels", "over the 89 million pixel safety limit")


def test_image_between_pillow_warning_and_error_is_a_bomb(tmp_path: Path) -> None:
    import warnings

    p = tmp_path / "big.png"
    p.write_bytes(png_bytes(10000, 10000))  # 100 Mpx: Pillow would only warn
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning may escape
        assert_error(probe_error(p), "bomb", "10000×10000")


def test_small_pixel_limit_makes_a_small_image_a_bomb(samples: dict[str, Sample]) -> None:
    err = probe_error(samples["png"].path, MediaLimits(max_pixels=1000))
    assert_error(err, "bomb", "640×480 pixels", "over the 1,000 pixel safety limit")


def test_limits_above_pillows_default_are_honoured(tmp_path: Path) -> None:
    p = tmp_path / "huge.png"
    p.write_bytes(png_bytes(20000, 20000))
    info = probe(p, MediaLimits(max_pixels=500_000_000))
    assert (info.width, info.height) == (20000, 20000)


def test_render_previews_applies_limits_too(samples: dict[str, Sample], tmp_path: Path) -> None:
    info = probe(samples["png"].path)
    with pytest.raises(MediaError) as err:
        render_previews(samples["png"].path, info, tmp_path, limits=MediaLimits(max_pixels=100))
    assert err.value.code == "bomb"


# --------------------------------------------------------------------------- the error type


def test_media_error_pickles_with_code_and_message() -> None:
    err = MediaError("corrupt", "the image is truncated or corrupt")
    back = pickle.loads(pickle.dumps(err))
    assert (back.code, back.message, str(back)) == (err.code, err.message, err.message)


def test_av_is_importable_for_fixtures() -> None:
    assert av.codec.Codec("flac", "w").name == "flac"
