"""Plain PCM WAVs are probed and drawn with numpy, with the same facts and the same
waveform picture as through FFmpeg, and without opening FFmpeg at all; any other WAV
still goes through FFmpeg."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from studio.media import MediaError, MediaLimits
from studio.media.previews import probe_and_render
from studio.media.probe import probe_with_audio
from studio.media.wav import probe_pcm_wav
from studio.media.waveform import render_waveform, stream_peaks
from tests.media.conftest import tone

RATE = 22050


def _wav(path: Path, pcm: np.ndarray, tag: int, bits: int, *, extensible: bool = False) -> Path:
    """A RIFF/WAVE file of ``pcm`` (frames x channels, already in the sample type)."""
    channels = pcm.shape[1]
    align = channels * bits // 8
    if bits == 24:
        ints = pcm.astype("<i4").reshape(-1)
        data = b"".join(int(v).to_bytes(4, "little", signed=True)[:3] for v in ints)
    else:
        data = pcm.tobytes()
    if extensible:
        guid_tail = b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt = struct.pack(
            "<HHIIHHHHI", 0xFFFE, channels, RATE, RATE * align, align, bits, 22, bits, 3
        )
        fmt += struct.pack("<H", tag) + guid_tail
    else:
        fmt = struct.pack("<HHIIHH", tag, channels, RATE, RATE * align, align, bits)
    note = b"LIST" + struct.pack("<I", 6) + b"INFOab"  # a chunk before the samples
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + note
    body += b"data" + struct.pack("<I", len(data)) + data
    path.write_bytes(b"RIFF" + struct.pack("<I", len(body)) + body)
    return path


def _samples(seconds: float, channels: int) -> np.ndarray:
    return tone(seconds, RATE, channels).T.copy()  # frames x channels, float32


CASES = {
    "s16 stereo": (1, 16, lambda x: (x * 32767).astype("<i2"), False),
    "s16 mono": (1, 16, lambda x: (x[:, :1] * 32767).astype("<i2"), False),
    "s24 stereo": (1, 24, lambda x: (x * 8388607).astype("<i4"), False),
    "s32 stereo": (1, 32, lambda x: (x * 2147483000).astype("<i4"), False),
    "f32 stereo": (3, 32, lambda x: x.astype("<f4"), False),
    "s16 extensible": (1, 16, lambda x: (x * 32767).astype("<i2"), True),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_pcm_wav_gives_ffmpegs_facts_and_picture(tmp_path: Path, case: str) -> None:
    tag, bits, convert, extensible = CASES[case]
    path = _wav(tmp_path / "a.wav", convert(_samples(1.5, 2)), tag, bits, extensible=extensible)
    fast = probe_pcm_wav(path)
    assert fast is not None, "a plain PCM WAV must not need FFmpeg"
    info, peaks = fast

    def sink(container, stream, ms):  # type: ignore[no-untyped-def]
        return stream_peaks(container, stream, ms)

    ref_info, ref_peaks = probe_with_audio(path, MediaLimits(), sink)
    assert ref_peaks is not None
    assert info == ref_info
    assert np.allclose(peaks.mins, ref_peaks.mins, atol=1e-5)
    assert np.allclose(peaks.maxs, ref_peaks.maxs, atol=1e-5)
    assert np.array_equal(peaks.counts, ref_peaks.counts) and peaks.rate == ref_peaks.rate
    fast_px = np.asarray(render_waveform(peaks))
    ref_px = np.asarray(render_waveform(ref_peaks))
    assert (fast_px != ref_px).any(axis=2).sum() <= 8  # rounding at a bar's tip at most


def test_a_pcm_wav_is_imported_without_opening_ffmpeg(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import av

    opened: list[str] = []
    real_open = av.open

    def counting_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(av, "open", counting_open)
    path = _wav(tmp_path / "a.wav", (_samples(2.0, 2) * 32767).astype("<i2"), 1, 16)
    out = tmp_path / "out"
    out.mkdir()
    info, previews = probe_and_render(path, out)
    assert opened == []
    assert info.duration_ms == 2000 and info.mime == "audio/wav"
    assert previews.thumb is not None
    with Image.open(previews.thumb) as im:
        assert im.size == (512, 256)
        assert im.convert("RGB").getpixel((256, 128)) != (22, 24, 29)  # a drawn waveform


def test_other_wavs_go_through_ffmpeg(tmp_path: Path) -> None:
    u8 = ((_samples(1.0, 2) * 127) + 128).astype("u1")
    eight_bit = _wav(tmp_path / "u8.wav", u8, 1, 8)
    assert probe_pcm_wav(eight_bit) is None
    out = tmp_path / "out"
    out.mkdir()
    info, previews = probe_and_render(eight_bit, out)  # FFmpeg reads it
    assert info.duration_ms == 1000 and previews.thumb is not None
    surround = _wav(tmp_path / "six.wav", np.zeros((RATE, 6), "<i2"), 1, 16)
    assert probe_pcm_wav(surround) is None
    assert probe_pcm_wav(tmp_path / "u8.wav", MediaLimits()) is None


def test_a_pcm_wav_over_the_duration_limit_is_refused_before_its_samples(tmp_path: Path) -> None:
    path = _wav(tmp_path / "long.wav", (_samples(3.0, 1) * 32767).astype("<i2"), 1, 16)
    with pytest.raises(MediaError) as caught:
        probe_pcm_wav(path, MediaLimits(max_duration_ms=2000))
    assert caught.value.code == "too_large"


def test_a_truncated_pcm_wav_reads_what_it_holds(tmp_path: Path) -> None:
    path = _wav(tmp_path / "cut.wav", (_samples(2.0, 2) * 32767).astype("<i2"), 1, 16)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # the data chunk promises twice what is there
    fast = probe_pcm_wav(path)
    assert fast is not None
    info, peaks = fast
    assert 900 <= (info.duration_ms or 0) <= 1000
    held = (len(data) // 2 - 60) // 4  # 60: the headers before the samples; 4 bytes a frame
    assert int(peaks.counts.sum()) == held
    assert info.duration_ms == round(held * 1000 / RATE)


def test_rf64_and_unknown_data_sizes_go_to_ffmpeg(tmp_path: Path) -> None:
    """An RF64/BW64 file keeps its real sizes in a ``ds64`` chunk and marks the RIFF
    ones 0xFFFFFFFF (so does a streamed WAV of unknown length): read here, whatever
    follows the samples (metadata) would be taken for samples. FFmpeg reads those."""
    path = _wav(tmp_path / "plain.wav", (_samples(1.0, 2) * 32767).astype("<i2"), 1, 16)
    data = bytearray(path.read_bytes())
    assert probe_pcm_wav(path) is not None
    rf64 = tmp_path / "rf64.wav"
    rf64.write_bytes(b"RF64" + bytes(data[4:]))
    assert probe_pcm_wav(rf64) is None
    at = data.index(b"data") + 4
    data[at : at + 4] = struct.pack("<I", 0xFFFFFFFF)
    unknown = tmp_path / "unknown.wav"
    unknown.write_bytes(bytes(data))
    assert probe_pcm_wav(unknown) is None
