"""Audio waveform pictures: decode once, downmix and bucket as we go."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from studio.media.kinds import DEFAULT_LIMITS, MediaError
from studio.media.probe import open_container

if TYPE_CHECKING:
    import av.container
    import numpy as np
    import numpy.typing as npt
    from av.audio.frame import AudioFrame
    from av.audio.resampler import AudioResampler
    from av.audio.stream import AudioStream
    from PIL import Image

__all__ = ["WAVE_SIZE", "Peaks", "render_waveform", "stream_peaks", "waveform_peaks"]

WAVE_SIZE = (512, 256)
BACKGROUND = (22, 24, 29)
PEAK_COLOUR = (86, 182, 194)
RMS_COLOUR = (170, 226, 233)
AXIS_COLOUR = (58, 62, 72)

# Fine buckets kept per column, so a wrong duration estimate still draws well.
_FINE_PER_COLUMN = 8
_MAX_BAD_PACKETS = 64  # damaged packets skipped before a file counts as corrupt


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

    def empty(self) -> bool:
        return not self.pending_len and not self.chunks and self.stats is None

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
    rate: int = 0  # samples per second the counts are in (0: unknown)

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


def waveform_peaks(
    path: Path,
    expected_ms: int | None,
    columns: int = WAVE_SIZE[0],
    *,
    max_ms: int = DEFAULT_LIMITS.max_duration_ms,
) -> Peaks:
    """Decode the first audio stream of ``path`` into bucketed peaks (see
    :func:`stream_peaks`)."""
    container = open_container(path, "audio")
    with container:
        if not container.streams.audio:
            raise MediaError("corrupt", "the audio file has no audio stream we can find")
        return stream_peaks(container, container.streams.audio[0], expected_ms, columns, max_ms)


def stream_peaks(
    container: av.container.InputContainer,
    stream: AudioStream,
    expected_ms: int | None,
    columns: int = WAVE_SIZE[0],
    max_ms: int = DEFAULT_LIMITS.max_duration_ms,
) -> Peaks:
    """Decode ``stream`` of the open ``container`` into bucketed peaks.

    Every frame is resampled to one fixed format (mono float at the stream's first
    rate), also when the stream changes rate, layout or sample format midway (MP3s
    glued together): the resampler is flushed and rebuilt for the new input. At
    most ``max_ms`` of audio is decoded, whatever the headers claim. Raises
    MediaError ``corrupt`` when nothing decodes.
    """
    import av  # lazy: PyAV is heavy, and the CLI starts without it

    rate = stream.codec_context.sample_rate or 44100
    if not 1 <= rate <= 768_000:
        raise MediaError("corrupt", "the audio is truncated or corrupt")
    expected = min(expected_ms or 0, max_ms) * rate // 1000
    bucket = max(1, expected // (columns * _FINE_PER_COLUMN)) if expected else 1024
    acc = _Accumulator(bucket, limit=columns * _FINE_PER_COLUMN * 2)
    budget = max_ms * rate // 1000  # output samples, all at ``rate``
    mono = _MonoStream(rate)
    corrupt = MediaError("corrupt", "the audio is truncated or corrupt")
    bad = good = 0
    try:
        for packet in container.demux(stream):
            try:
                frames = packet.decode()
            except av.InvalidDataError:
                # A damaged packet, or the seam where two files were glued: skip
                # it like players do, unless damage is all there is.
                bad += 1
                if bad > _MAX_BAD_PACKETS and bad > good:
                    raise corrupt from None
                continue
            good += 1
            for frame in frames:
                for chunk in mono.feed(frame):
                    budget -= len(chunk)
                    acc.add(chunk if budget >= 0 else chunk[: len(chunk) + budget])
            if budget <= 0:
                break
        else:
            for chunk in mono.feed(None):
                budget -= len(chunk)
                acc.add(chunk if budget >= 0 else chunk[: len(chunk) + budget])
    except (av.FFmpegError, ValueError) as exc:
        raise corrupt from exc
    if acc.empty():
        raise corrupt
    return dataclasses.replace(acc.finish(), rate=rate)


class _MonoStream:
    """Frames of any format in, mono float32 at one rate out."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self._resampler: AudioResampler | None = None
        self._input: tuple[str, str, int] | None = None

    def feed(self, frame: AudioFrame | None) -> list[npt.NDArray[np.float32]]:
        import av
        import numpy as np

        out: list[npt.NDArray[np.float32]] = []
        if frame is not None:
            shape = (frame.format.name, frame.layout.name, frame.sample_rate)
            if shape != self._input:
                out += self._drain()  # the stream changed format: finish the old input
                self._input = shape
                self._resampler = av.AudioResampler(format="flt", layout="mono", rate=self.rate)
        resampler = self._resampler
        if resampler is None:
            return out
        for piece in resampler.resample(frame):
            out.append(piece.to_ndarray().reshape(-1).astype(np.float32, copy=False))
        if frame is None:
            self._resampler = None
        return out

    def _drain(self) -> list[npt.NDArray[np.float32]]:
        return self.feed(None) if self._resampler is not None else []


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
