"""The waveform accumulator: bounded memory whatever the duration estimate says."""

from __future__ import annotations

import numpy as np

from studio.media.waveform import Peaks, _Accumulator, render_waveform


def feed(acc: _Accumulator, signal: np.ndarray, frame: int = 1152) -> Peaks:
    for start in range(0, len(signal), frame):
        acc.add(signal[start : start + frame])
    return acc.finish()


def test_peaks_match_numpy_on_a_known_signal() -> None:
    rng = np.random.default_rng(3)
    signal = rng.uniform(-0.5, 0.5, 100_000).astype(np.float32)
    signal[12_345] = 0.99
    signal[77_777] = -0.97
    peaks = feed(_Accumulator(bucket=100, limit=10_000), signal)
    assert len(peaks.mins) == 1000
    assert peaks.maxs.max() == np.float32(0.99)
    assert peaks.mins.min() == np.float32(-0.97)
    assert peaks.counts.sum() == len(signal)
    mins, maxs, rms = peaks.columns(512)
    assert maxs.argmax() == 12_345 * 512 // 100_000
    assert mins.argmin() == 77_777 * 512 // 100_000
    assert np.allclose(rms.mean(), np.sqrt(np.mean(signal.astype(np.float64) ** 2)), rtol=0.05)


def test_memory_stays_bounded_when_the_estimate_is_far_too_low() -> None:
    """An estimate of ~0 s but 10 M samples: buckets merge instead of piling up."""
    acc = _Accumulator(bucket=1, limit=4096)
    signal = np.sin(np.arange(10_000_000, dtype=np.float32) / 50)
    peaks = feed(acc, signal, frame=4096)
    assert len(peaks.mins) <= 4096
    assert peaks.counts.sum() == len(signal)
    assert acc.bucket >= len(signal) // 4096


def test_silence_and_empty_input_draw_a_flat_picture() -> None:
    empty = _Accumulator(bucket=10, limit=100).finish()
    picture = render_waveform(empty)
    assert picture.size == (512, 256)
    silent = feed(_Accumulator(bucket=10, limit=100), np.zeros(5000, np.float32))
    arr = np.asarray(render_waveform(silent).convert("L"), dtype=np.int32)
    lit_rows = np.nonzero((arr > 60).any(axis=1))[0]
    assert len(lit_rows) <= 3  # just the centre line


def test_few_samples_stretch_across_all_columns() -> None:
    peaks = feed(_Accumulator(bucket=1, limit=100), np.array([0.5, -0.5, 0.25], np.float32))
    mins, maxs, _ = peaks.columns(512)
    assert len(maxs) == 512 and maxs.max() == np.float32(0.5)
    assert mins.min() == np.float32(-0.5)
