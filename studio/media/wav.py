"""Plain PCM WAV files read with numpy: probe facts and waveform peaks from one open.

A mono or stereo WAV of 16/24/32-bit integer or 32-bit float samples needs no decoder:
its samples are read in blocks and bucketed exactly as :func:`~studio.media.waveform.
stream_peaks` buckets FFmpeg's output (the same mono mix: stereo is (L + R) / sqrt 2,
FFmpeg's default matrix), so the picture is the same as through FFmpeg at about a third
of the CPU and without PyAV. Anything else (8-bit, more channels, compressed WAVs,
odd headers) returns ``None`` and goes through FFmpeg as before.
"""

from __future__ import annotations

import dataclasses
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from studio.media.containers import check_container
from studio.media.kinds import DEFAULT_LIMITS, MIME_BY_EXT, MediaInfo, MediaKind, MediaLimits
from studio.media.probe import check_size
from studio.media.sniff import open_media, sniff_file, unreadable
from studio.media.waveform import _FINE_PER_COLUMN, WAVE_SIZE, Peaks, _Accumulator

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

__all__ = ["probe_pcm_wav"]

_MAX_CHUNKS = 10_000
_BLOCK_FRAMES = 1 << 18  # samples read at a time: memory stays flat for long files
_PCM, _FLOAT, _EXTENSIBLE = 1, 3, 0xFFFE
_DTYPES = {(_PCM, 16): "<i2", (_PCM, 32): "<i4", (_FLOAT, 32): "<f4"}
_SCALE = {16: 32768.0, 24: 8388608.0, 32: 2147483648.0}
_MONO_MIX = 0.5**0.5  # FFmpeg's stereo -> mono: each channel at -3 dB


@dataclass(frozen=True, slots=True)
class _Format:
    tag: int
    channels: int
    rate: int
    bits: int
    data_at: int
    frames: int


def probe_pcm_wav(
    path: Path, limits: MediaLimits = DEFAULT_LIMITS, columns: int = WAVE_SIZE[0]
) -> tuple[MediaInfo, Peaks] | None:
    """What :func:`~studio.media.probe.probe_with_audio` with a waveform sink gives for
    a plain PCM WAV, or ``None`` when ``path`` is anything else. Raises the same
    MediaErrors as the probe (unreadable, empty, too_large, bomb)."""
    from studio.media.probe import _check_duration

    with open_media(path) as f:
        try:
            size = f.seek(0, 2)
        except OSError as exc:
            raise unreadable(exc, path) from exc
        check_size(size, limits)
        _kind, _mime, ext = sniff_file(f, path)
        if ext != "wav":
            return None
        try:
            check_container(f, "wav", size, "audio")
            fmt = _format(f, size)
        except OSError as exc:
            raise unreadable(exc, path) from exc
        if fmt is None or fmt.frames == 0:
            return None
        duration = round(fmt.frames * 1000 / fmt.rate)
        _check_duration("audio", duration, limits)
        expected = min(duration, limits.max_duration_ms) * fmt.rate // 1000
        acc = _Accumulator(
            max(1, expected // (columns * _FINE_PER_COLUMN)), limit=columns * _FINE_PER_COLUMN * 2
        )
        budget = min(fmt.frames, limits.max_duration_ms * fmt.rate // 1000)
        width = fmt.channels * fmt.bits // 8
        try:
            f.seek(fmt.data_at)
            while budget > 0:
                raw = f.read(min(budget, _BLOCK_FRAMES) * width)
                n = len(raw) // width
                if n == 0:
                    break
                acc.add(_mono(raw[: n * width], fmt))
                budget -= n
        except OSError as exc:
            raise unreadable(exc, path) from exc
    peaks = dataclasses.replace(acc.finish(), rate=fmt.rate)
    info = MediaInfo(MediaKind.AUDIO, MIME_BY_EXT["wav"], "wav", size, None, None, duration)
    return info, peaks


def _format(f: BinaryIO, size: int) -> _Format | None:
    """The ``fmt `` and ``data`` chunks of a RIFF/WAVE file, if they describe samples
    read here; the data's length is what the file holds (a truncated file plays on)."""
    f.seek(0)
    head = f.read(12)
    if head[:4] != b"RIFF" or head[8:12] != b"WAVE":  # RF64/BW64 (sizes in ds64): FFmpeg
        return None
    pos, fmt = 12, None
    for _ in range(_MAX_CHUNKS):
        f.seek(pos)
        header = f.read(8)
        if len(header) < 8:
            return None
        kind, length = struct.unpack("<4sI", header)
        if kind == b"fmt ":
            body = f.read(min(length, 40))
            if len(body) < 16:
                return None
            tag, channels, rate, _byte_rate, align, bits = struct.unpack("<HHIIHH", body[:16])
            if tag == _EXTENSIBLE and len(body) >= 26:
                tag = struct.unpack("<H", body[24:26])[0]  # the sub-format GUID's first field
            if (
                channels not in (1, 2)
                or not 1 <= rate <= 768_000
                or align != channels * bits // 8
                or not ((tag == _PCM and bits in (16, 24, 32)) or (tag == _FLOAT and bits == 32))
            ):
                return None
            fmt = (tag, channels, rate, bits)
        elif kind == b"data":
            if fmt is None:
                return None
            tag, channels, rate, bits = fmt
            if length == 0xFFFFFFFF:  # "see ds64" or a streamed file's unknown size: FFmpeg
                return None
            held = min(length, size - pos - 8)
            return _Format(tag, channels, rate, bits, pos + 8, held // (channels * bits // 8))
        pos += 8 + length + (length & 1)
        if pos >= size:
            return None
    return None


def _mono(raw: bytes, fmt: _Format) -> npt.NDArray[np.float32]:
    """Interleaved samples -> mono float32 in -1..1 (stereo mixed as FFmpeg does)."""
    import numpy

    if fmt.bits == 24:
        b = numpy.frombuffer(raw, numpy.uint8).reshape(-1, 3)
        ints = (
            b[:, 0].astype(numpy.int32)
            | (b[:, 1].astype(numpy.int32) << 8)
            | (b[:, 2].astype(numpy.int8).astype(numpy.int32) << 16)
        )
        samples = ints.astype(numpy.float32) / _SCALE[24]
    else:
        data = numpy.frombuffer(raw, _DTYPES[(fmt.tag, fmt.bits)])
        samples = data.astype(numpy.float32)
        if fmt.tag == _PCM:
            samples /= _SCALE[fmt.bits]
    if fmt.channels == 1:
        return samples
    pairs = samples.reshape(-1, 2)
    return ((pairs[:, 0] + pairs[:, 1]) * numpy.float32(_MONO_MIX)).astype(numpy.float32)
