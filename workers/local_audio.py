"""Sound for the local provider: small numpy DSP pieces, sound effects, WAV writing.

Signals are float32 arrays in [-1, 1]: mono ``(n,)`` or channels-first ``(c, n)``,
always at :data:`SR`. Every random draw comes from a seeded generator, so the
same request gives the same WAV bytes.
"""

from __future__ import annotations

import io
import math
import wave
from collections.abc import Callable

import numpy as np

from workers.local_common import Tick, lookup, no_tick, stable_seed

SR = 44_100
Signal = np.ndarray


def n_samples(seconds: float) -> int:
    return max(1, round(seconds * SR))


def times(n: int) -> Signal:
    return np.arange(n, dtype=np.float32) / SR


def fade(x: Signal, fade_in: float = 0.005, fade_out: float = 0.01) -> Signal:
    """Raised-cosine fades at both ends (no clicks); works on mono or (c, n)."""
    n = x.shape[-1]
    out = x.copy()
    for seconds, head in ((fade_in, True), (fade_out, False)):
        k = min(n // 2, int(seconds * SR))
        if k <= 0:
            continue
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0, math.pi, k, dtype=np.float32))).astype(np.float32)
        if head:
            out[..., :k] *= ramp
        else:
            out[..., n - k :] *= ramp[::-1]
    return out


def fit_length(x: Signal, n: int) -> Signal:
    """Trim (with a short fade-out) or pad with silence to exactly ``n`` samples."""
    have = x.shape[-1]
    if have > n:
        return fade(x[..., :n], 0.0, 0.02)
    if have < n:
        pad = [(0, 0)] * (x.ndim - 1) + [(0, n - have)]
        return np.pad(x, pad)
    return x


def normalize(x: Signal, peak: float = 0.89) -> Signal:
    x = np.nan_to_num(x.astype(np.float32))
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return (x * (peak / top)).astype(np.float32) if top > 1e-6 else x


def pan(mono: Signal, position: float) -> Signal:
    """Equal-power pan: -1 left … +1 right → (2, n)."""
    theta = (position + 1) * math.pi / 4
    return np.stack([mono * math.cos(theta), mono * math.sin(theta)]).astype(np.float32)


def to_channels(x: Signal, channels: int) -> Signal:
    """A (channels, n) signal from mono or (c, n) input (down-mix or duplicate)."""
    if x.ndim == 1:
        return np.tile(x[None, :], (channels, 1)).astype(np.float32)
    if x.shape[0] == channels:
        return x.astype(np.float32)
    mono = x.mean(axis=0)
    return np.tile(mono[None, :], (channels, 1)).astype(np.float32)


def place(buf: Signal, sound: Signal, start: int, gain: float = 1.0) -> None:
    """Add ``sound`` into ``buf`` at sample ``start`` (clipped to the buffer)."""
    n = buf.shape[-1]
    if start >= n or start + sound.shape[-1] <= 0:
        return
    lo = max(0, start)
    hi = min(n, start + sound.shape[-1])
    buf[..., lo:hi] += gain * sound[..., lo - start : hi - start]


def band(x: Signal, lo: float, hi: float) -> Signal:
    """Band-pass by FFT with soft (half-octave) edges; ``lo=0`` low-passes."""
    n = x.shape[-1]
    spec = np.fft.rfft(x, axis=-1)
    f = np.fft.rfftfreq(n, 1 / SR)
    gain = np.ones_like(f)
    if lo > 0:
        gain *= 1 / (1 + (lo / np.maximum(f, 1e-3)) ** 4)
    if hi < SR / 2:
        gain *= 1 / (1 + (f / hi) ** 4)
    return np.fft.irfft(spec * gain, n, axis=-1).astype(np.float32)


def noise(n: int, rng: np.random.Generator, lo: float = 0.0, hi: float = SR / 2) -> Signal:
    return band(rng.standard_normal(n).astype(np.float32), lo, hi)


def overlap_add(frames: Signal, hop: int) -> Signal:
    """Sum frames (F, N) placed ``hop`` apart, where ``hop`` divides N."""
    count, size = frames.shape
    ratio = size // hop
    out = np.zeros((count + ratio) * hop, np.float32)
    for j in range(ratio):
        sub = frames[j::ratio].reshape(-1)
        out[j * hop : j * hop + sub.size] += sub
    return out


def swept_noise(
    n: int, rng: np.random.Generator, centers: Signal, width_oct: float = 0.7
) -> Signal:
    """Noise whose band follows ``centers`` (Hz, resampled over the length)."""
    size, hop = 1024, 512
    count = n // hop + 3
    log_f = np.log2(np.maximum(np.fft.rfftfreq(size, 1 / SR), 1.0)).astype(np.float32)
    c = np.interp(np.linspace(0, 1, count), np.linspace(0, 1, len(centers)), centers)
    log_c = np.log2(np.maximum(c, 1.0)).astype(np.float32)
    mag = np.exp(-0.5 * ((log_f[None, :] - log_c[:, None]) / width_oct) ** 2)
    spectrum = mag * (rng.standard_normal(mag.shape) + 1j * rng.standard_normal(mag.shape))
    frames = np.fft.irfft(spectrum, size, axis=1) * np.hanning(size)
    out = overlap_add(frames.astype(np.float32), hop)[size:]
    return (out[:n] / (np.std(out[:n]) + 1e-9) * 0.3).astype(np.float32)


def sweep(f0: float, f1: float, n: int, harmonics: tuple[float, ...] = (1.0,)) -> Signal:
    """A tone gliding exponentially from ``f0`` to ``f1`` Hz over ``n`` samples."""
    freq = f0 * (f1 / f0) ** np.linspace(0, 1, n, dtype=np.float32)
    return tone(freq, harmonics)


def tone(freq: Signal | float, harmonics: tuple[float, ...] = (1.0,), n: int = 0) -> Signal:
    """Additive tone; ``freq`` is Hz (scalar with ``n`` samples, or per sample).
    ``harmonics[k]`` is the amplitude of partial k+1; partials above 18 kHz are dropped."""
    if isinstance(freq, int | float):
        top = float(freq)
        phase = (2 * math.pi * top / SR) * np.arange(n, dtype=np.float64)
    else:
        f = np.asarray(freq, np.float64)
        top = float(np.max(f)) if f.size else 0.0
        phase = 2 * math.pi * np.cumsum(f) / SR
    out = np.zeros(phase.size, np.float32)
    for k, amp in enumerate(harmonics, start=1):
        if amp and top * k < 18_000:
            out += amp * np.sin(k * phase).astype(np.float32)
    return out


def decay(n: int, rate: float, attack: float = 0.003) -> Signal:
    """An exponential decay envelope (``rate`` per second) with a short attack."""
    t = times(n)
    env = np.exp(-t * rate)
    k = max(1, int(attack * SR))
    env[:k] *= np.linspace(0, 1, k, dtype=np.float32)
    return env.astype(np.float32)


def midi_hz(note: float) -> float:
    return 440.0 * 2 ** ((note - 69) / 12)


def encode_wav(x: Signal) -> bytes:
    """16-bit PCM WAV of a mono or (c, n) float signal."""
    data = x[None, :] if x.ndim == 1 else x
    pcm = np.clip(np.round(data.T * 32767), -32768, 32767).astype("<i2")
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(data.shape[0])
        w.setsampwidth(2)
        w.setframerate(SR)
        w.writeframes(pcm.tobytes())
    return buf.getvalue()


# ---- sound effects ----------------------------------------------------------------

SFX_WORDS: dict[str, str] = {
    "explosion": "explosion", "explode": "explosion", "boom": "explosion", "blast": "explosion",
    "bomb": "explosion", "thunder": "explosion", "grenade": "explosion", "crash": "explosion",
    "laser": "laser", "zap": "laser", "blaster": "laser", "pew": "laser", "beam": "laser",
    "phaser": "laser", "click": "click", "tick": "click", "tap": "click", "button": "click",
    "ui": "click", "menu": "click", "switch": "click", "whoosh": "whoosh", "swoosh": "whoosh",
    "swish": "whoosh", "swing": "whoosh", "swipe": "whoosh", "wind": "whoosh", "dash": "whoosh",
    "coin": "coin", "pickup": "coin", "collect": "coin", "ding": "coin", "powerup": "coin",
    "reward": "coin", "footstep": "footstep", "step": "footstep", "walk": "footstep",
    "walking": "footstep", "running": "footstep", "jump": "jump", "boing": "jump",
    "bounce": "jump", "spring": "jump", "water": "water", "splash": "water", "bubble": "water",
    "rain": "water", "drip": "water", "engine": "engine", "motor": "engine", "hum": "engine",
    "drone": "engine", "car": "engine", "machine": "engine", "alarm": "alarm", "siren": "alarm",
    "beep": "alarm", "warning": "alarm", "punch": "impact", "hit": "impact", "impact": "impact",
    "thud": "impact", "slam": "impact", "knock": "impact", "magic": "sparkle",
    "sparkle": "sparkle", "spell": "sparkle", "chime": "sparkle", "shimmer": "sparkle",
    "fairy": "sparkle",
}  # fmt: skip

SFX_KINDS: tuple[str, ...] = tuple(dict.fromkeys(SFX_WORDS.values()))


def parse_sfx(prompt: str) -> tuple[str, ...]:
    """Effect kinds named by the prompt (at most two); a hashed one if none."""
    found = lookup(SFX_WORDS, prompt)
    if found:
        return tuple(found[:2])
    return (SFX_KINDS[stable_seed(prompt, "sfx") % len(SFX_KINDS)],)


def _repeat(
    n: int, every: float, make: Callable[[int], Signal], jitter: float, rng: np.random.Generator
) -> Signal:
    out = np.zeros(n, np.float32)
    t, i = 0.0, 0
    while t < n / SR:
        place(out, make(i), int(t * SR))
        t += every * (1 + float(rng.uniform(-jitter, jitter)))
        i += 1
    return out


def _explosion(n: int, rng: np.random.Generator) -> Signal:
    tail = min(0.9, n / SR / 2.5)
    rumble = noise(n, rng, 20, 900) * decay(n, 1 / max(tail, 0.05), 0.004) * 3
    k = min(n, n_samples(0.6))
    thump = np.zeros(n, np.float32)
    thump[:k] = sweep(90, 32, k) * decay(k, 6)
    crackle = noise(n, rng, 1500, 5000) * (rng.random(n) < 0.004) * decay(n, 3) * 25
    return rumble + thump + band(crackle.astype(np.float32), 800, 6000)


def _laser(n: int, rng: np.random.Generator) -> Signal:
    def zap(i: int) -> Signal:
        k = n_samples(0.18 + 0.04 * (i % 2))
        return sweep(1900 - 150 * (i % 3), 280, k, (1, 0.5, 0.33, 0.25)) * decay(k, 12)

    return _repeat(n, 0.45, zap, 0.1, rng)


def _click(n: int, rng: np.random.Generator) -> Signal:
    def one(i: int) -> Signal:
        k = n_samples(0.03)
        ping = tone(1200 + 300 * (i % 2), (1.0,), k) * decay(k, 160)
        return ping + noise(k, rng, 2000, 6000) * decay(k, 400) * 3

    return _repeat(n, 0.32, one, 0.25, rng)


def _whoosh(n: int, rng: np.random.Generator) -> Signal:
    centers = np.array([300, 900, 2800, 1200, 400], np.float32)
    env = np.clip(np.sin(np.linspace(0, math.pi, n, dtype=np.float32)), 0, 1) ** 1.5
    return swept_noise(n, rng, centers, 0.8) * env * 2


def _coin(n: int, rng: np.random.Generator) -> Signal:
    def ding(i: int) -> Signal:
        a, b = n_samples(0.08), n_samples(0.5)
        sq = (1.0, 0.0, 0.33, 0.0, 0.2)
        first = tone(987.77, sq, a) * 0.8
        second = tone(1318.5, sq, b) * decay(b, 6)
        return np.concatenate([first, second])

    return _repeat(n, 1.0, ding, 0.0, rng)


def _footstep(n: int, rng: np.random.Generator) -> Signal:
    def step(i: int) -> Signal:
        k = n_samples(0.12)
        thump = noise(k, rng, 60, 400) * decay(k, 35) * 4
        scuff = noise(k, rng, 1000, 4000) * decay(k, 60) * (0.8 if i % 2 else 1.2)
        return thump + scuff

    return _repeat(n, 0.5, step, 0.06, rng)


def _jump(n: int, rng: np.random.Generator) -> Signal:
    def boing(i: int) -> Signal:
        k = n_samples(0.35)
        t = times(k)
        freq = 180 * (4 ** np.minimum(t / 0.25, 1)) * (1 + 0.06 * np.sin(2 * math.pi * 18 * t))
        return tone(freq, (1, 0.3)) * decay(k, 7)

    return _repeat(n, 0.8, boing, 0.0, rng)


def _water(n: int, rng: np.random.Generator) -> Signal:
    out = noise(n, rng, 400, 3000) * 0.05
    for _ in range(int(14 * n / SR) + 1):
        k = n_samples(float(rng.uniform(0.03, 0.07)))
        f0 = float(rng.uniform(300, 1200))
        place(out, sweep(f0, f0 * 1.8, k) * decay(k, 50), int(rng.integers(0, n)), 0.5)
    return out


def _engine(n: int, rng: np.random.Generator) -> Signal:
    t = times(n)
    base = 48 + 6 * np.sin(2 * math.pi * 0.3 * t)
    body = tone(base, tuple(1 / k for k in range(1, 9)))
    chug = 0.7 + 0.3 * np.sin(2 * math.pi * 8 * t)
    return band(body * chug, 0, 1800) + noise(n, rng, 200, 1200) * 0.4


def _alarm(n: int, rng: np.random.Generator) -> Signal:
    def beep(i: int) -> Signal:
        k = n_samples(0.22)
        return tone(880 if i % 2 == 0 else 660, (1, 0, 0.33, 0, 0.2), k) * fade(
            np.ones(k, np.float32), 0.005, 0.02
        )

    return _repeat(n, 0.25, beep, 0.0, rng)


def _impact(n: int, rng: np.random.Generator) -> Signal:
    k = min(n, n_samples(0.5))
    hit = np.zeros(n, np.float32)
    hit[:k] = sweep(140, 45, k) * decay(k, 14) + noise(k, rng, 300, 3500) * decay(k, 45) * 3
    return hit


def _sparkle(n: int, rng: np.random.Generator) -> Signal:
    out = np.zeros(n, np.float32)
    for _ in range(int(10 * n / SR) + 2):
        k = n_samples(float(rng.uniform(0.15, 0.5)))
        f = midi_hz(float(rng.choice([84, 86, 88, 91, 93, 96, 98])))
        place(out, tone(f, (1, 0.2), k) * decay(k, 9), int(rng.integers(0, n)), 0.4)
    return out


SFX_SYNTHS: dict[str, Callable[[int, np.random.Generator], Signal]] = {
    "explosion": _explosion, "laser": _laser, "click": _click, "whoosh": _whoosh,
    "coin": _coin, "footstep": _footstep, "jump": _jump, "water": _water, "engine": _engine,
    "alarm": _alarm, "impact": _impact, "sparkle": _sparkle,
}  # fmt: skip


def render_sfx(kinds: tuple[str, ...], seconds: float, seed: int, tick: Tick = no_tick) -> Signal:
    """Mono effect of exactly ``seconds``: the first kind loud, a second one under it."""
    n = n_samples(seconds)
    out = np.zeros(n, np.float32)
    for i, kind in enumerate(kinds):
        rng = np.random.default_rng(stable_seed(seed, kind, i))
        out += normalize(SFX_SYNTHS[kind](n, rng)) * (1.0 if i == 0 else 0.6)
        tick((i + 1) / len(kinds), f"Synthesising {kind}")
    return normalize(fade(out))
