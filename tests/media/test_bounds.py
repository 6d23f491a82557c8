"""Every decoder path is bounded: pixels of every frame and canvas, frames, metadata,
duration and memory. Hostile files are generated here, never committed."""

from __future__ import annotations

import struct
import subprocess
import sys
import textwrap
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.media import MediaError, MediaLimits, probe, render_previews
from studio.media.waveform import waveform_peaks
from tests.media.conftest import Sample, encode_audio, first_encoder
from tests.media.hostile import (
    apng,
    flac_with_pictures,
    flat_jpeg,
    gif,
    jpeg_with_scans,
    jpeg_with_segments,
    mjpeg_mov,
    png_chunk,
    png_with_chunks,
    tiff_with_tag,
    wav_with_chunk,
    webm_with_attachment,
    webp_with_chunk,
)

ROOT = Path(__file__).resolve().parents[2]
MiB = 1024**2


def refused(path: Path, limits: MediaLimits | None = None) -> MediaError:
    """probe + render_previews must refuse ``path`` with a MediaError (and nothing else)."""
    limits = limits or MediaLimits()
    with pytest.raises(MediaError) as err, warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning may escape either
        info = probe(path, limits)
        render_previews(path, info, path.parent / "out", limits=limits)
    assert "\n" not in err.value.message
    return err.value


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(data)
    return p


PEAK_RSS = """
def peak_rss_mb():
    # VmHWM: the peak resident set of this process image. (ru_maxrss is no good in a
    # child: Linux carries the parent's peak across fork + exec.)
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) // 1024
"""


def peak_rss_mb(code: str, preload: str = "import numpy, PIL.Image") -> tuple[int, str]:
    """Run ``code`` in a fresh interpreter; its peak RSS growth (MiB) and its stdout."""
    script = (
        textwrap.dedent(
            f"""
            import sys
            sys.path.insert(0, {str(ROOT)!r})
            {preload}  # the libraries' own footprint is not the file's
            from studio.media import probe, render_previews, MediaError, MediaLimits
            """
        )
        + PEAK_RSS
        + "base = peak_rss_mb()\n"
        + textwrap.dedent(code)
        + 'print("RSS", peak_rss_mb() - base)\n'
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    rss = int(proc.stdout.rsplit("RSS", 1)[1])
    return rss, proc.stdout


# --------------------------------------------------------------------------- animated / paletted


def test_a_gif_frame_bigger_than_its_screen_is_a_bomb_not_a_crash(tmp_path: Path) -> None:
    # Pillow grows the canvas to hold the frame and raises its own bomb error while
    # re-reading the header in our fallback path
    p = write(tmp_path, "huge.gif", gif((100, 100), [(0, 0, 30000, 30000)]))
    err = refused(p)
    assert err.code == "bomb" and "30000×30000" in err.message


def test_a_later_gif_frame_that_grows_the_canvas_counts(tmp_path: Path) -> None:
    p = write(tmp_path, "grow.gif", gif((100, 100), [(0, 0, 100, 100), (500, 500, 500, 500)]))
    assert probe(p).width == 100  # fine under the default limit
    err = refused(p, MediaLimits(max_pixels=200_000))
    assert err.code == "bomb" and "1000×1000" in err.message


def test_apng_frames_must_lie_inside_the_canvas(tmp_path: Path) -> None:
    ok = write(tmp_path, "ok.png", apng((64, 48), [(64, 48, 0, 0), (32, 32, 8, 8)]))
    assert probe(ok).duration_ms == 200
    bad = write(tmp_path, "bad.png", apng((64, 48), [(64, 48, 0, 0), (30000, 30000, 0, 0)]))
    assert refused(bad).code == "corrupt"


def test_frame_counts_are_bounded(tmp_path: Path, samples: dict[str, Sample]) -> None:
    three = MediaLimits(max_frames=3)
    for key in ("gif_animated", "webp_animated"):  # 4 frames each
        assert probe(samples[key].path).duration_ms  # fine by default
        err = refused(samples[key].path, three)
        assert err.code == "bomb" and "more than 3 frames" in err.message
    p = write(tmp_path, "many.png", apng((8, 8), [(8, 8, 0, 0)] * 4))
    assert refused(p, three).code == "bomb"


# --------------------------------------------------------------------------- metadata


def test_a_huge_critical_png_chunk_is_refused_before_pillow_reads_it(tmp_path: Path) -> None:
    err = refused(write(tmp_path, "critical.png", png_with_chunks(8, 8, _critical_chunk(17 * MiB))))
    assert err.code == "bomb" and "metadata" in err.message


@pytest.mark.parametrize(
    "name, make",
    [
        ("comment.gif", lambda: gif((8, 8), [(0, 0, 8, 8)], comment=17 * MiB)),
        ("exif.webp", lambda: webp_with_chunk(b"EXIF", 17 * MiB)),
        ("xmp.webp", lambda: webp_with_chunk(b"XMP ", 17 * MiB)),
        ("iccp.webp", lambda: webp_with_chunk(b"ICCP", 17 * MiB)),
        ("app1.jpg", lambda: jpeg_with_segments(0xE1, 1030)),  # 1030 x 64 KiB
        ("com.jpg", lambda: jpeg_with_segments(0xFE, 1100)),
    ],
)
def test_huge_metadata_is_kept_from_pillow_and_the_image_imports(
    tmp_path: Path, name: str, make
) -> None:  # type: ignore[no-untyped-def]
    """Before: refused ("more than 16 MiB of metadata"). The oversized pieces are cut
    from what Pillow reads (a WebP's RIFF size and VP8X flags patched to match)."""
    p = write(tmp_path, name, make())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = probe(p)
        out = render_previews(p, info, tmp_path / "out")
    assert (info.width, info.height) == (16, 16) if "gif" not in name else (8, 8)
    assert out.thumb is not None
    with Image.open(out.thumb) as thumb:
        assert thumb.size == (info.width, info.height)


def _critical_chunk(n: int) -> bytes:
    return png_chunk(b"SMTH", bytes(n))  # critical (upper-case): can't be left out


_ZBOMB = zlib.compress(bytes(50 * MiB), 9)  # 50 KB that unpack to 50 MiB


@pytest.mark.parametrize(
    "name, extra",
    [
        ("exif.png", [png_chunk(b"eXIf", bytes(17 * MiB))]),
        ("private.png", [png_chunk(b"prIv", bytes(17 * MiB))]),
        ("text.png", [png_chunk(b"tEXt", b"k\0" + bytes(9 * MiB))] * 8),  # 72 MiB in all
        ("ztxt.png", [png_chunk(b"zTXt", b"wf\0\0" + _ZBOMB)]),
        ("itxt.png", [png_chunk(b"iTXt", b"wf\0\1\0en\0\0" + _ZBOMB)]),
    ],
)
def test_huge_png_metadata_is_kept_from_pillow_and_the_image_imports(
    tmp_path: Path, name: str, extra: list[bytes]
) -> None:
    p = write(tmp_path, name, png_with_chunks(8, 8, png_chunk(b"tEXt", b"a\0b"), *extra))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = probe(p)
        out = render_previews(p, info, tmp_path / "out")
    assert (info.width, info.height) == (8, 8) and out.thumb is not None
    with Image.open(out.thumb) as thumb:
        assert thumb.size == (8, 8) and thumb.getpixel((4, 4))[:3] == (128, 128, 128)


def test_a_50_mib_png_text_chunk_is_never_read_into_memory(tmp_path: Path) -> None:
    p = write(
        tmp_path,
        "big.png",
        png_with_chunks(64, 64, png_chunk(b"tEXt", b"comment\0" + b"x" * (50 * MiB))),
    )
    rss, out = peak_rss_mb(
        f"""
        from pathlib import Path
        info = probe(Path({str(p)!r}))
        render_previews(Path({str(p)!r}), info, Path({str(tmp_path / "out")!r}))
        print("SIZE", info.width, info.height)
        """
    )
    assert "SIZE 64 64" in out
    assert rss < 25, rss  # Pillow reading the chunk costs 50 MiB at the very least


@pytest.mark.parametrize("tag", [270, 700, 33432])  # description, XMP, copyright
def test_a_huge_tiff_tag_is_kept_from_pillow_and_the_image_imports(
    tmp_path: Path, tag: int
) -> None:
    assert probe(tiff_with_tag(tmp_path / "ok.tiff", tag, 1000)).width == 16
    p = tiff_with_tag(tmp_path / "tag.tiff", tag, 17 * MiB)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = probe(p)
        out = render_previews(p, info, tmp_path / "out")
    assert (info.width, info.height) == (16, 16) and out.thumb is not None
    with Image.open(out.thumb) as thumb:
        assert thumb.getpixel((8, 8)) in (7, (7, 7, 7), (7, 7, 7, 255))


@pytest.mark.parametrize(
    "name, make",
    [
        ("exif.webp", lambda p: p.write_bytes(webp_with_chunk(b"EXIF", 50 * MiB))),
        ("xmp.tiff", lambda p: tiff_with_tag(p, 700, 50 * MiB)),
    ],
)
def test_a_50_mib_metadata_piece_is_never_read_into_memory(tmp_path: Path, name: str, make) -> None:  # type: ignore[no-untyped-def]
    p = tmp_path / name
    make(p)
    rss, out = peak_rss_mb(
        f"""
        from pathlib import Path
        info = probe(Path({str(p)!r}))
        render_previews(Path({str(p)!r}), info, Path({str(tmp_path / "out")!r}))
        print("SIZE", info.width, info.height)
        """
    )
    assert "SIZE 16 16" in out
    assert rss < 25, rss  # Pillow reading the piece costs 50 MiB at the very least


def test_normal_metadata_still_imports(tmp_path: Path) -> None:
    for name, data in (
        ("ok.png", png_with_chunks(8, 8, png_chunk(b"tEXt", b"prompt\0" + b"a cat " * 50_000))),
        ("ok.webp", webp_with_chunk(b"XMP ", 200_000)),
        ("ok.jpg", jpeg_with_segments(0xE2, 20)),
        ("ok.gif", gif((8, 8), [(0, 0, 8, 8)], comment=5000)),
    ):
        p = write(tmp_path, name, data)
        info = probe(p)
        render_previews(p, info, tmp_path / name.replace(".", "_"))


def test_a_jpeg_with_thousands_of_scans_is_refused(tmp_path: Path) -> None:
    assert probe(write(tmp_path, "few.jpg", jpeg_with_scans(3))).width == 16
    err = refused(write(tmp_path, "scans.jpg", jpeg_with_scans(600)))
    assert err.code == "bomb" and "scans" in err.message


# --------------------------------------------------------------------------- memory


def test_decoded_memory_is_bounded_by_the_mode(tmp_path: Path) -> None:
    p = tmp_path / "float.tiff"
    Image.fromarray(np.ones((100, 200), np.float32), "F").save(p)
    assert probe(p).width == 200
    err = refused(p, MediaLimits(max_decoded_bytes=100 * 200 * 4 - 1))
    assert err.code == "bomb" and "memory" in err.message


@pytest.mark.parametrize("dtype, mode", [(np.float32, "F"), (np.uint16, "I;16")])
def test_deep_tiff_previews_take_little_more_than_the_picture(
    tmp_path: Path, dtype: type, mode: str
) -> None:
    side = 3000
    p = tmp_path / f"deep-{mode.replace(';', '')}.tiff"
    rng = np.random.default_rng(7)
    Image.fromarray((rng.random((side, side)) * 60000).astype(dtype)).save(p)
    rss, out = peak_rss_mb(
        f"""
        p = __import__("pathlib").Path({str(p)!r})
        info = probe(p)
        render_previews(p, info, p.parent / "out")
        print("OK", info.width)
        """
    )
    decoded = side * side * np.dtype(dtype).itemsize // MiB  # 34 MiB float, 17 MiB 16-bit
    assert "OK 3000" in out, out
    # mapping the whole picture to 8 bits in float64 took ~6x the picture (before: 230+ MiB)
    assert rss < 2.5 * decoded + 40, (rss, decoded)


# --------------------------------------------------------------------------- video


def test_a_16000_square_mjpeg_is_refused_before_a_picture_is_decoded(tmp_path: Path) -> None:
    p = mjpeg_mov(tmp_path / "bomb.mov", flat_jpeg(16000, 16000), 16000, 16000)
    assert p.stat().st_size < 20 * MiB  # 256 million pixels for ~6 MB
    rss, out = peak_rss_mb(
        f"""
        p = __import__("pathlib").Path({str(p)!r})
        try:
            info = probe(p)
            render_previews(p, info, p.parent / "out")
            print("ACCEPTED")
        except MediaError as exc:
            print("REFUSED", exc.code)
        """,
        preload="import av, numpy, PIL.Image",
    )
    assert "REFUSED bomb" in out
    assert rss < 150, rss  # before: 3.4 GiB


def test_a_video_under_the_limit_still_imports_and_the_limit_is_ours(
    tmp_path: Path, samples: dict[str, Sample]
) -> None:
    p = mjpeg_mov(tmp_path / "ok.mov", flat_jpeg(640, 480), 640, 480)
    info = probe(p)
    assert (info.width, info.height) == (640, 480)
    render_previews(p, info, tmp_path / "out")
    err = refused(samples["mp4"].path, MediaLimits(max_pixels=320 * 240 - 1))
    assert err.code == "bomb" and "pixel safety limit" in err.message


# --------------------------------------------------------------------------- audio


@pytest.mark.skipif(first_encoder("libmp3lame", "mp3") is None, reason="no MP3 encoder")
def test_glued_mp3s_that_change_rate_and_layout_draw_a_whole_waveform(tmp_path: Path) -> None:
    enc = first_encoder("libmp3lame", "mp3")
    assert enc is not None
    a, b = tmp_path / "a.mp3", tmp_path / "b.mp3"
    encode_audio(a, "mp3", enc, 1.0, rate=44100)
    encode_audio(b, "mp3", enc, 1.0, rate=22050)
    glued = write(tmp_path, "glued.mp3", a.read_bytes() + b.read_bytes() + a.read_bytes())
    info = probe(glued)
    previews = render_previews(glued, info, tmp_path / "out")
    assert previews.thumb is not None and previews.thumb.is_file()
    peaks = waveform_peaks(glued, info.duration_ms)
    seconds = peaks.counts.sum() / peaks.rate  # every part is resampled to one rate
    assert 2.7 < seconds < 3.3, seconds


def test_audio_is_decoded_for_at_most_the_duration_limit(samples: dict[str, Sample]) -> None:
    path = samples["wav"].path  # 2 s at 44.1 kHz
    whole = waveform_peaks(path, 2000).counts.sum()
    capped = waveform_peaks(path, 2000, max_ms=500).counts.sum()
    assert abs(whole - 88200) < 2000 and capped == 500 * 44100 // 1000


# --------------------------------------------------------------------------- container metadata


@pytest.mark.skipif(first_encoder("libmp3lame", "mp3") is None, reason="no MP3 encoder")
def test_an_mp3_with_a_huge_tag_is_refused(tmp_path: Path) -> None:
    enc = first_encoder("libmp3lame", "mp3")
    assert enc is not None
    song = tmp_path / "song.mp3"
    encode_audio(song, "mp3", enc, 0.3, rate=22050)

    def id3(size: int) -> bytes:  # an ID3v2.3 tag of ``size`` bytes of padding
        syncsafe = bytes((size >> s) & 0x7F for s in (21, 14, 7, 0))
        return b"ID3\x03\x00\x00" + syncsafe + bytes(size)

    assert probe(write(tmp_path, "ok.mp3", id3(100_000) + song.read_bytes())).kind == "audio"
    err = refused(write(tmp_path, "tagged.mp3", id3(65 * MiB) + song.read_bytes()))
    assert err.code == "bomb" and "tags" in err.message


def test_an_mp4_with_a_huge_index_is_refused(tmp_path: Path, samples: dict[str, Sample]) -> None:
    clip = samples["mp4"].path.read_bytes()
    box = struct.pack(">I4s", 8 + 65 * MiB, b"udta") + bytes(65 * MiB)
    err = refused(write(tmp_path, "fat.mp4", clip + box))
    assert err.code == "bomb" and "moov" in err.message


def test_container_metadata_is_bounded(tmp_path: Path, samples: dict[str, Sample]) -> None:
    """Matroska attachments (FFmpeg reads them whole, more than once), FLAC pictures and
    WAV side chunks: a little is fine, more than 64 MiB is refused before FFmpeg opens."""
    cases = [
        ("wav", lambda d, n: wav_with_chunk(d, b"id3 ", n)),
        ("flac", lambda d, n: flac_with_pictures(d, -(-n // (15 * MiB)), min(n, 15 * MiB))),
    ]
    if "webm_vp9" in samples:
        cases.append(("webm_vp9", webm_with_attachment))
    for key, make in cases:
        data = samples[key].path.read_bytes()
        small = write(tmp_path, f"small-{key}", make(data, 100_000))
        assert probe(small).duration_ms
        err = refused(write(tmp_path, f"big-{key}", make(data, 70 * MiB)))
        assert err.code == "bomb" and "metadata" in err.message, key


def test_a_limit_above_pillows_own_lets_no_bomb_warning_escape_while_decoding(
    tmp_path: Path,
) -> None:
    """Pillow checks its global limit again while decoding TIFF tiles; with our limit
    raised above it, that check must neither warn (escape) nor stop the decode."""
    p = tmp_path / "big.tiff"
    Image.new("1", (9500, 9500), 1).save(p, compression="group4")  # 90 Mpx, ~10 KB
    assert p.stat().st_size < 1 * MiB
    limits = MediaLimits(max_pixels=100_000_000)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        info = probe(p, limits)
        previews = render_previews(p, info, tmp_path / "out", limits=limits)
    assert (info.width, info.height) == (9500, 9500) and previews.thumb is not None
    assert refused(p).code == "bomb"  # and the default limit still refuses it


def test_structure_walks_are_bounded_in_steps(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Millions of empty chunks or one-byte sub-blocks: refused after a bounded walk
    (2 million steps by default, ~3 s at worst; 20,000 here to keep the test short)."""
    from studio.media import structure

    monkeypatch.setattr(structure, "MAX_STRUCTURE_STEPS", 20_000)
    empty = png_chunk(b"prIv", b"")
    ok = write(tmp_path, "ok.png", png_with_chunks(8, 8, empty * 1000))
    assert probe(ok).width == 8
    many = write(tmp_path, "many.png", png_with_chunks(8, 8, empty * 30_000))
    err = refused(many)
    assert err.code == "bomb" and "pieces" in err.message
    still = gif((8, 8), [(0, 0, 8, 8)])
    subs = write(tmp_path, "subs.gif", still[:-1] + b"\x21\xfe" + b"\x01x" * 30_000 + b"\x00;")
    assert refused(subs).code == "bomb"
    jpeg = flat_jpeg(16, 16)
    segs = write(tmp_path, "segs.jpg", jpeg[:2] + b"\xff\xfe\x00\x02" * 30_000 + jpeg[2:])
    assert refused(segs).code == "bomb"


def test_compressed_png_text_is_bounded_when_unpacked(tmp_path: Path) -> None:
    small = zlib.compress(b'{"workflow": 1}' * 1000)
    ok = write(tmp_path, "ok.png", png_with_chunks(8, 8, png_chunk(b"zTXt", b"wf\0\0" + small)))
    assert probe(ok).width == 8
    # one that unpacks past Pillow's limit is kept from Pillow (see above); a critical
    # chunk can't be, and is refused in one sentence
    err = refused(write(tmp_path, "crit.png", png_with_chunks(8, 8, _critical_chunk(17 * MiB))))
    assert err.code == "bomb" and "metadata" in err.message


def test_the_view_pillow_reads_leaves_out_exactly_the_hidden_ranges(tmp_path: Path) -> None:
    import io
    import random

    from studio.media.structure import pillow_view

    rng = random.Random(7)
    data = bytes(rng.randrange(256) for _ in range(10_000))
    for _ in range(50):
        starts = sorted(rng.sample(range(10_000), 4))
        hidden = tuple((s, rng.randrange(1, 300)) for s in starts)
        keep = bytearray()
        for i, byte in enumerate(data):
            if not any(s <= i < s + n for s, n in hidden):
                keep.append(byte)
        view = pillow_view(io.BytesIO(data), hidden)
        assert view.read() == bytes(keep)
        at = rng.randrange(len(keep))
        view.seek(at)
        assert view.read(17) == bytes(keep[at : at + 17]) and view.tell() == min(at + 17, len(keep))
