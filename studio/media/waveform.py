"""Audio waveform pictures: decode once, downmix and bucket as we go."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from studio.media.kinds import MediaError

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt
    from PIL import Image

__all__ = ["WAVE_SIZE", "Peaks", "render_waveform", "waveform_peaks"]

WAVE_SIZE = (512, 256)
BACKGROUND = (22, 24, 29)
PEAK_COLOUR = (86, 182, 194)
RMS_COLOUR = (170, 226, 233)
AXIS_COLOUR = (58, 62, 72)

# Fine buckets kept per column, so a wrong duration estimate still draws well.
_FINE_PER_COLUMN = 8


@dataclass(slots=True)
class _Accumulator:
    """Running min/max/sum-of-squares per bucket of mono samples, in bounded memory.

    Holds at most one bucket of pending samples and ``2 * limit`` buckets of
    statistics: whenever more than ``limit`` buckets pile up (the duration
    estimate was low, or absent), neighbours are merged pairwise and the bucket
    size doubles.
    """

    bucket: int
    limit: int
    pending: list[npt.NDArray[np.float32]] = field(default_factory=list)
    pending_len: int = 0
    chunks: list[tuple[npt.NDArray[np.floating], ...]] = field(default_factory=list)
    stats: tuple[npt.NDArray[np.float64], ...] | None = None

    def add(self, mono: npt.NDArray[np.float32]) -> None:
        import numpy as np

        self.pending.append(mono)
        self.pending_len += len(mono)
        if self.pending_len < self.bucket:
            return
        data = np.concatenate(self.pending)
        whole = (len(data) // self.bucket) * self.bucket
        self._reduce(data[:whole].reshape(-1, self.bucket))
        rest = data[whole:]
        self.pending = [rest] if len(rest) else []
        self.pending_len = len(rest)

    def _reduce(self, blocks: npt.NDArray[np.float32]) -> None:
        import numpy as np

        self.chunks.append(
            (
                blocks.min(axis=1),
                blocks.max(axis=1),
                np.square(blocks, dtype=np.float64).sum(axis=1),
                np.full(len(blocks), blocks.shape[1], dtype=np.float64),
            )
        )
        if len(self.chunks) >= 256:
            self._compact()

    def _compact(self) -> None:
        import numpy as np

        parts = ([self.stats] if self.stats is not None else []) + self.chunks
        if not parts:
            empty = np.zeros(0, np.float64)
            self.stats = (empty, empty, empty, empty)
            return
        mins, maxs, sqs, counts = (
            np.concatenate([np.asarray(p[i], np.float64) for p in parts]) for i in range(4)
        )
        self.chunks = []
        while len(mins) > self.limit:
            even = len(mins) // 2 * 2
            mins = np.concatenate([np.minimum(mins[0:even:2], mins[1:even:2]), mins[even:]])
            maxs = np.concatenate([np.maximum(maxs[0:even:2], maxs[1:even:2]), maxs[even:]])
            sqs = np.concatenate([sqs[0:even:2] + sqs[1:even:2], sqs[even:]])
            counts = np.concatenate([counts[0:even:2] + counts[1:even:2], counts[even:]])
            self.bucket *= 2
        self.stats = (mins, maxs, sqs, counts)

    def finish(self) -> Peaks:
        import numpy as np

        if self.pending_len:
            self._reduce(np.concatenate(self.pending)[None, :])
            self.pending, self.pending_len = [], 0
        self._compact()
        assert self.stats is not None
        mins, maxs, sqs, counts = self.stats
        return Peaks(mins, maxs, sqs, counts)


@dataclass(frozen=True, slots=True)
class Peaks:
    """Per-bucket min, max, sum of squares and sample count (mono, -1..1)."""

    mins: npt.NDArray[np.float64]
    maxs: npt.NDArray[np.float64]
    sqs: npt.NDArray[np.float64]
    counts: npt.NDArray[np.float64]

    def columns(
        self, n: int
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Reduce to ``n`` columns of (min, max, rms)."""
        import numpy as np

        total = len(self.mins)
        if total == 0:
            zeros = np.zeros(n, np.float64)
            return zeros, zeros, zeros
        starts = (np.arange(n, dtype=np.int64) * total) // n
        if total >= n:
            mins = np.minimum.reduceat(self.mins, starts)
            maxs = np.maximum.reduceat(self.maxs, starts)
            sqs = np.add.reduceat(self.sqs, starts)
            counts = np.add.reduceat(self.counts, starts)
        else:  # fewer buckets than columns: stretch
            mins, maxs, sqs, counts = (
                self.mins[starts],
                self.maxs[starts],
                self.sqs[starts],
                self.counts[starts],
            )
        rms = np.sqrt(sqs / np.maximum(counts, 1))
        return mins, maxs, rms


def waveform_peaks(path: Path, expected_ms: int | None, columns: int = WAVE_SIZE[0]) -> Peaks:
    """Decode the first audio stream of ``path`` into bucketed peaks."""
    import av
    import numpy as np

    from studio.media.probe import open_container

    container = open_container(path, "audio")
    with container:
        if not container.streams.audio:
            raise MediaError("corrupt", "the audio file has no audio stream we can find")
        stream = container.streams.audio[0]
        rate = stream.codec_context.sample_rate or 44100
        expected = (expected_ms or 0) * rate // 1000
        bucket = max(1, expected // (columns * _FINE_PER_COLUMN)) if expected else 1024
        acc = _Accumulator(bucket, limit=columns * _FINE_PER_COLUMN * 2)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        try:
            for frame in container.decode(stream):
                for mono in resampler.resample(frame):
                    acc.add(mono.to_ndarray().reshape(-1).astype(np.float32, copy=False))
            for mono in resampler.resample(None):
                acc.add(mono.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        except av.FFmpegError as exc:
            raise MediaError("corrupt", "the audio is truncated or corrupt") from exc
    return acc.finish()


def render_waveform(peaks: Peaks, size: tuple[int, int] = WAVE_SIZE) -> Image.Image:
    """A dark picture with min/max peaks and an RMS core, normalised to the loudest peak."""
    import numpy as np
    from PIL import Image

    width, height = size
    mins, maxs, rms = peaks.columns(width)
    peak = float(max(np.abs(mins).max(initial=0.0), np.abs(maxs).max(initial=0.0)))
    gain = 0.92 / max(peak, 0.05)  # quiet files are enlarged, silence stays flat
    mid = (height - 1) / 2
    half = mid * gain
    # FFmpeg's stereo->mono downmix can exceed 1.0; the gain brings the peak to 0.92.
    top = np.floor(mid - maxs * half)
    bottom = np.ceil(mid - mins * half)
    rms_top = np.floor(mid - rms * half)
    rms_bottom = np.ceil(mid + rms * half)
    ys = np.arange(height, dtype=np.float64)[:, None]

    canvas = np.empty((height, width, 3), np.uint8)
    canvas[:] = BACKGROUND
    canvas[round(mid), :] = AXIS_COLOUR
    canvas[(ys >= top) & (ys <= bottom)] = PEAK_COLOUR
    canvas[(ys >= np.maximum(rms_top, top)) & (ys <= np.minimum(rms_bottom, bottom))] = RMS_COLOUR
    return Image.fromarray(canvas, "RGB")
