"""Refining and deriving audio: decode references with PyAV (any accepted format),
transform them as the prompt says, mix or chain several."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from workers.base import ErrorKind, ProviderError
from workers.local_audio import (
    SR,
    Signal,
    band,
    fade,
    fit_length,
    n_samples,
    noise,
    normalize,
    overlap_add,
)
from workers.local_common import Tick, lookup, no_tick

MAX_DECODE_S = 300.0  # longer sources are cut: no output is longer than 120 s

AUDIO_OP_WORDS: dict[str, str] = {
    "echo": "echo", "delay": "echo", "reverb": "echo", "cave": "echo", "hall": "echo",
    "cathedral": "echo", "faster": "faster", "speed up": "faster", "sped up": "faster",
    "quicker": "faster", "slower": "slower", "slow down": "slower", "slowed": "slower",
    "lower": "lower", "deeper": "lower", "deep": "lower", "higher": "higher",
    "chipmunk": "higher", "squeaky": "higher", "reverse": "reverse", "reversed": "reverse",
    "backwards": "reverse", "lofi": "lofi", "lo-fi": "lofi", "radio": "lofi",
    "telephone": "lofi", "phone": "lofi", "old": "lofi", "vintage": "lofi", "muffled": "muffle",
    "underwater": "muffle", "distant": "muffle", "muffle": "muffle", "robot": "robot",
    "robotic": "robot", "metallic": "robot", "louder": "louder", "quieter": "quieter",
    "softer": "quieter", "fade": "fade", "bright": "bright", "brighter": "bright",
    "crisp": "bright", "tremolo": "tremolo", "wobble": "tremolo", "shaky": "tremolo",
}  # fmt: skip

CHAIN_WORDS: dict[str, str] = {
    "then": "chain", "sequence": "chain", "concatenate": "chain", "chain": "chain",
    "join": "chain", "after": "chain", "followed": "chain", "medley": "chain",
}  # fmt: skip


def parse_audio_ops(prompt: str) -> tuple[str, ...]:
    """Transforms in prompt order; a gentle echo and warmth when none is named."""
    found = lookup(AUDIO_OP_WORDS, prompt)
    return tuple(found) if found else ("echo", "muffle")


def parse_mix_mode(prompt: str) -> str:
    """``"chain"`` (one after another) or ``"mix"`` (all at once)."""
    return "chain" if lookup(CHAIN_WORDS, prompt) else "mix"


def decode_audio(path: Path) -> Signal:
    """A reference's audio as stereo float32 (2, n) at :data:`SR`."""
    import av

    chunks: list[np.ndarray] = []
    total = 0
    try:
        with av.open(str(path)) as container:
            if not container.streams.audio:
                raise ProviderError(ErrorKind.INVALID_REQUEST, f"{path.name} has no audio track")
            stream = container.streams.audio[0]
            resampler = av.AudioResampler(format="fltp", layout="stereo", rate=SR)
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    arr = out.to_ndarray()
                    chunks.append(arr)
                    total += arr.shape[1]
                if total > MAX_DECODE_S * SR:
                    break
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray())
    except ProviderError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise ProviderError(
            ErrorKind.INVALID_REQUEST, f"reference audio {path.name} can't be read ({exc})"
        ) from exc
    if not chunks:
        raise ProviderError(ErrorKind.INVALID_REQUEST, f"reference audio {path.name} is empty")
    return np.concatenate(chunks, axis=1).astype(np.float32)


def resample(x: Signal, factor: float) -> Signal:
    """Tape-style speed change: ``factor`` 2 plays twice as fast (and an octave up)."""
    n = x.shape[-1]
    m = max(1, int(n / factor))
    pos = np.linspace(0, n - 1, m)
    idx = np.arange(n)
    return np.stack([np.interp(pos, idx, ch) for ch in np.atleast_2d(x)]).astype(np.float32)


def time_stretch(x: Signal, factor: float) -> Signal:
    """Overlap-add time stretch: ``factor`` 2 makes it twice as long, same pitch."""
    size, hop = 2048, 512
    window = np.hanning(size).astype(np.float32)
    out_ch = []
    for ch in np.atleast_2d(x):
        padded = np.pad(ch, (0, size))
        count = max(1, int((ch.size * factor) / hop))
        starts = np.minimum((np.arange(count) * hop / factor).astype(np.int64), ch.size)
        frames = padded[starts[:, None] + np.arange(size)[None, :]] * window
        y = overlap_add(frames.astype(np.float32), hop) / 2.0
        out_ch.append(y[: int(ch.size * factor)])
    return np.stack(out_ch).astype(np.float32)


def echo(x: Signal, delay_s: float = 0.23, feedback: float = 0.45, taps: int = 5) -> Signal:
    d = n_samples(delay_s)
    out = np.pad(x, ((0, 0), (0, d * taps)))
    for k in range(1, taps + 1):
        shifted = np.zeros_like(out)
        shifted[:, d * k : d * k + x.shape[1]] = x
        if k % 2:  # ping-pong between the sides
            shifted = shifted[::-1]
        out += shifted * feedback**k
    return out


def apply_audio_op(x: Signal, op: str, rng: np.random.Generator) -> Signal:
    """One transform on a (c, n) signal; may change its length."""
    if op == "echo":
        return echo(x)
    if op == "faster":
        return resample(x, 1.3)
    if op == "slower":
        return resample(x, 0.77)
    if op in ("lower", "higher"):
        factor = 0.75 if op == "lower" else 1.33
        return time_stretch(resample(x, factor), factor)
    if op == "reverse":
        return x[:, ::-1].copy()
    if op == "lofi":
        # Sample-and-hold at ~11 kHz and 5-bit steps, then a telephone band.
        hold = 4
        held = np.repeat(x[:, ::hold], hold, axis=1)[:, : x.shape[1]]
        crushed = np.round(held * 16) / 16
        hiss = noise(x.shape[1], rng, 1000, 8000)[None, :] * 0.004
        return band(crushed, 300, 3400) + hiss
    if op == "muffle":
        return band(x, 0, 900)
    if op == "bright":
        return x + band(x, 3000, SR / 2) * 1.5
    if op == "robot":
        t = np.arange(x.shape[1], dtype=np.float32) / SR
        return x * np.sin(2 * math.pi * 55 * t)[None, :]
    if op == "tremolo":
        t = np.arange(x.shape[1], dtype=np.float32) / SR
        return x * (0.65 + 0.35 * np.sin(2 * math.pi * 6 * t))[None, :]
    if op == "louder":
        return np.tanh(x * 2.5)
    if op == "quieter":
        return x * 0.4
    if op == "fade":
        return fade(x, min(1.0, x.shape[1] / SR / 4), min(1.5, x.shape[1] / SR / 3))
    return x


def refine_audio(source: Signal, ops: Sequence[str], seed: int, tick: Tick = no_tick) -> Signal:
    rng = np.random.default_rng(seed)
    x = source
    for i, op in enumerate(ops):
        tick((i + 1) / (len(ops) + 1), f"Applying {op}")
        x = apply_audio_op(x, op, rng)
    return x


def combine(sources: Sequence[Signal], mode: str) -> Signal:
    """All sources at once (``mix``), or one after another with short cross-fades
    (``chain``)."""
    if mode == "chain":
        xf = n_samples(0.03)
        out = sources[0]
        for nxt in sources[1:]:
            a, b = fade(out, 0.0, 0.03), fade(nxt, 0.03, 0.0)
            k = min(xf, a.shape[1], b.shape[1])
            joined = np.concatenate(
                [a[:, : a.shape[1] - k], a[:, a.shape[1] - k :] + b[:, :k], b[:, k:]], axis=1
            )
            out = joined
        return out
    length = max(s.shape[1] for s in sources)
    out = np.zeros((2, length), np.float32)
    for s in sources:
        out[:, : s.shape[1]] += s / math.sqrt(len(sources))
    return out


def clamp_seconds(x: Signal, lo: float, hi: float) -> float:
    return min(hi, max(lo, x.shape[-1] / SR))


def finish(x: Signal, channels: int, seconds: float) -> Signal:
    """Channel count, exact length and level for output."""
    if channels == 1 and x.ndim == 2:
        x = x.mean(axis=0)
    elif channels == 2 and x.ndim == 1:
        x = np.stack([x, x])
    return normalize(fade(fit_length(x.astype(np.float32), n_samples(seconds))))
