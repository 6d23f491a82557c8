"""A voice-like babble that follows a text: not speech recognition-grade TTS, but
its syllables, pauses and intonation come from the words, so a line "sounds like"
its text. Vowels are additive formant synthesis on a gliding pitch; consonants
are filtered noise bursts or short voiced murmurs."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np

from workers.local_audio import (
    SR,
    Signal,
    fade,
    fit_length,
    n_samples,
    noise,
    normalize,
    pan,
    place,
)
from workers.local_common import Tick, no_tick, stable_seed, sub_tick

VOWELS: dict[str, tuple[float, float, float]] = {
    "a": (730, 1090, 2440), "e": (530, 1840, 2480), "i": (300, 2200, 3000),
    "o": (570, 840, 2410), "u": (320, 900, 2240), "y": (400, 1900, 2500),
}  # fmt: skip
MURMURS: dict[str, tuple[float, float, float]] = {
    "m": (250, 1100, 2300), "n": (250, 1400, 2400), "ng": (250, 1500, 2400),
    "l": (360, 1300, 2700), "r": (420, 1300, 1600), "w": (300, 700, 2200),
    "j": (280, 2100, 2900),
}  # fmt: skip
HISSES: dict[str, tuple[float, float, float]] = {
    "s": (4000, 9000, 0.45), "z": (3800, 8000, 0.3), "f": (1500, 7000, 0.18),
    "v": (1500, 6000, 0.14), "h": (500, 3000, 0.12), "sh": (2000, 5000, 0.45),
    "ch": (2000, 6000, 0.45), "th": (1500, 7000, 0.14), "c": (3500, 8000, 0.35),
    "x": (3000, 7000, 0.35),
}  # fmt: skip
BURSTS: dict[str, tuple[float, float]] = {
    "p": (500, 1500), "b": (300, 1200), "t": (3000, 6000), "d": (2500, 5000),
    "k": (1500, 3500), "g": (1200, 3000), "q": (1500, 3500), "ck": (1500, 3500),
}  # fmt: skip
DIGRAPHS = ("sh", "ch", "th", "ng", "ck", "ph")
VOICE_F0 = {"low": 105.0, "mid": 160.0, "high": 230.0}
SPEAKER_PITCH = (1.0, 1.55, 0.8, 1.3, 1.8, 0.9)
SPEAKER_PAN = (-0.55, 0.55, -0.25, 0.25, -0.8, 0.8)
TOKEN_RE = re.compile(r"[^\W\d_]+|\d|[.,!?;:]")
LABEL_RE = re.compile(r"^\s*([^:\n]{1,24}?)\s*:\s*(.+)$")


@dataclass(frozen=True, slots=True)
class Segment:
    """A stretch of the utterance: ``voiced`` (formants), ``hiss``/``burst`` (noise
    band) or ``pause``. ``sentence_end`` marks the segment that closes a sentence
    ("." or "?" in ``mark``)."""

    kind: str
    seconds: float
    formants: tuple[float, float, float] = (0.0, 0.0, 0.0)
    band: tuple[float, float] = (0.0, 0.0)
    amp: float = 1.0
    stressed: bool = False
    mark: str = ""


def _consonant(c: str) -> list[Segment]:
    if c == "ph":
        c = "f"
    if c in MURMURS:
        return [Segment("voiced", 0.06, MURMURS[c], amp=0.45)]
    if c in HISSES:
        lo, hi, amp = HISSES[c]
        return [Segment("hiss", 0.075, band=(lo, hi), amp=amp)]
    if c in BURSTS:
        lo, hi = BURSTS[c]
        return [Segment("pause", 0.025), Segment("burst", 0.02, band=(lo, hi), amp=0.4)]
    return []


def _split_consonants(cluster: str) -> list[str]:
    out: list[str] = []
    i = 0
    while i < len(cluster):
        if cluster[i : i + 2] in DIGRAPHS:
            out.append(cluster[i : i + 2])
            i += 2
        else:
            out.append(cluster[i])
            i += 1
    return out


def syllables(word: str) -> list[tuple[str, str, str]]:
    """``(onset, vowels, coda)`` groups of a latin word; every vowel group is a
    syllable, trailing consonants close the last one. Other scripts: one
    syllable per character with a vowel picked from the character."""
    latin = "".join(c for c in word.lower() if "a" <= c <= "z")
    if not latin:
        vowels = "aeiou"
        return [("", vowels[stable_seed(ch) % 5], "") for ch in word]
    groups = re.findall(r"([^aeiouy]*)([aeiouy]+)", latin)
    if not groups:
        return [(latin, "e", "")]
    tail = latin[len("".join(a + b for a, b in groups)) :]
    out = [(on, vo, "") for on, vo in groups]
    out[-1] = (out[-1][0], out[-1][1], tail)
    return out


def segments(text: str) -> list[Segment]:
    """The utterance plan for ``text`` at a normal speaking rate (a murmured "hm"
    when the text has no words at all)."""
    segs: list[Segment] = [Segment("pause", 0.1)]
    tokens = TOKEN_RE.findall(text)
    if not any(t not in ",;:.!?" for t in tokens):
        tokens = ["hm", *tokens]
    for token in tokens:
        if token in ",;:":
            segs.append(Segment("pause", 0.22, mark=","))
            continue
        if token in ".!?":
            segs.append(Segment("pause", 0.38, mark="?" if token == "?" else "."))
            continue
        word = "nu" if token.isdigit() else token
        for i, (onset, vowels, coda) in enumerate(syllables(word)):
            for c in _split_consonants(onset):
                segs += _consonant(c)
            formants = VOWELS[vowels[0]]
            length = 0.11 + 0.035 * (len(vowels) - 1)
            stressed = i == 0
            segs.append(
                Segment("voiced", length * (1.2 if stressed else 1.0), formants, stressed=stressed)
            )
            for c in _split_consonants(coda):
                segs += _consonant(c)
        segs.append(Segment("pause", 0.05))
    segs.append(Segment("pause", 0.2))
    return segs


def natural_seconds(text: str) -> float:
    return sum(s.seconds for s in segments(text))


def _pitch(segs: list[Segment], rate: float, f0: float, n: int, rng: np.random.Generator) -> Signal:
    """Per-sample pitch: falling through each sentence, up on stresses, a rise at "?"."""
    contour = np.full(n, f0, np.float32)
    bounds: list[tuple[int, int, str]] = []
    stresses: list[tuple[int, int]] = []
    start = at = 0
    for s in segs:
        m = n_samples(s.seconds / rate)
        if s.stressed:
            stresses.append((at, at + m))
        at += m
        if s.mark in (".", "?"):
            bounds.append((start, min(at, n), s.mark))
            start = at
    bounds.append((start, n, "."))
    for a, b, mark in bounds:
        if b <= a:
            continue
        pos = np.linspace(0, 1, b - a, dtype=np.float32)
        shape = 1.12 - 0.24 * pos
        if mark == "?":
            shape += 0.45 * np.clip((pos - 0.7) / 0.3, 0, 1) ** 2
        contour[a:b] = f0 * shape
    for a, b in stresses:
        contour[a:b] *= 1.08
    drift = np.interp(np.arange(n), np.linspace(0, n, 16), rng.uniform(-0.03, 0.03, 16))
    return (contour * (1 + drift)).astype(np.float32)


def _voiced(phase: Signal, f0: float, formants: tuple[float, float, float]) -> Signal:
    k = np.arange(1, max(2, int(5000 / f0)) + 1, dtype=np.float32)
    freqs = k * f0
    amps = np.zeros_like(k)
    for formant, width, gain in zip(formants, (90.0, 110.0, 170.0), (1.0, 0.6, 0.25), strict=True):
        amps += gain / (1 + ((freqs - formant) / width) ** 2)
    amps *= 1 / np.sqrt(k)
    return (amps[:, None] * np.sin(k[:, None] * phase[None, :])).sum(axis=0).astype(np.float32)


def render_voice(text: str, f0: float, rate: float, seed: int, tick: Tick = no_tick) -> Signal:
    """Mono babble for ``text`` at base pitch ``f0`` Hz, ``rate`` × normal speed."""
    segs = segments(text)
    n = sum(n_samples(s.seconds / rate) for s in segs)
    rng = np.random.default_rng(stable_seed(seed, "voice", text, f0))
    pitch = _pitch(segs, rate, f0, n, rng)
    phase = 2 * math.pi * np.cumsum(pitch, dtype=np.float64) / SR
    out = np.zeros(n, np.float32)
    at = 0
    for i, s in enumerate(segs):
        if i % 40 == 39:
            tick(at / n, "Speaking")
        m = n_samples(s.seconds / rate)
        if s.kind == "voiced":
            sig = _voiced(phase[at : at + m], float(pitch[at : at + m].mean()), s.formants)
            sig += noise(m, rng, 500, 4000) * 0.03
            place(out, fade(normalize(sig, s.amp), 0.012, 0.015), at)
        elif s.kind in ("hiss", "burst"):
            sig = noise(m, rng, *s.band)
            place(out, fade(normalize(sig, s.amp), 0.008, 0.01), at)
        at += m
    return out


def fit_rate(natural: float, seconds: float | None) -> float:
    """Speaking rate that brings ``natural`` seconds near ``seconds`` (0.8–1.3×)."""
    if seconds is None:
        return 1.0
    return min(1.3, max(0.8, natural / seconds))


def render_speech(text: str, voice: str, seconds: float, seed: int, tick: Tick = no_tick) -> Signal:
    """Mono speech of exactly ``seconds`` (faster/slower, then padded or trimmed)."""
    rate = fit_rate(natural_seconds(text), seconds)
    out = render_voice(
        text, VOICE_F0.get(voice, VOICE_F0["mid"]), rate, seed, sub_tick(tick, 0, 0.9)
    )
    tick(0.9, "Voice done")
    return normalize(fit_length(out, n_samples(seconds)))


def dialogue_lines(text: str) -> list[tuple[str, str]]:
    """``(speaker, line)`` pairs. ``Name: line`` labels name the speaker; unlabelled
    lines alternate between two voices (a single unlabelled line is split into
    sentences first)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if len(lines) == 1 and not LABEL_RE.match(lines[0]):
        lines = [s for s in re.split(r"(?<=[.!?])\s+", lines[0]) if s]
    out: list[tuple[str, str]] = []
    for line in lines:
        m = LABEL_RE.match(line)
        if m:
            out.append((m.group(1), m.group(2)))
        else:
            out.append(("B" if out and out[-1][0] == "A" else "A", line))
    return out


def dialogue_natural_seconds(text: str, gap: float = 0.25) -> float:
    lines = dialogue_lines(text)
    return sum(natural_seconds(line) for _, line in lines) + gap * max(0, len(lines) - 1)


def render_dialogue(
    text: str, voice: str, seconds: float, seed: int, tick: Tick = no_tick
) -> Signal:
    """Stereo (2, n) dialogue: each speaker their own pitch and place in the field."""
    gap = 0.25
    lines = dialogue_lines(text)
    rate = fit_rate(dialogue_natural_seconds(text, gap), seconds)
    base = 120.0 * {"low": 0.8, "mid": 1.0, "high": 1.25}.get(voice, 1.0)
    speakers: list[str] = []
    parts: list[Signal] = []
    for i, (who, line) in enumerate(lines):
        if who not in speakers:
            speakers.append(who)
        s = speakers.index(who)
        mono = render_voice(line, base * SPEAKER_PITCH[s % 6], rate, seed + i)
        parts.append(pan(normalize(mono), SPEAKER_PAN[s % 6]))
        parts.append(np.zeros((2, n_samples(gap / rate)), np.float32))
        tick((i + 1) / len(lines), f"Line {i + 1} of {len(lines)} ({who})")
    out = np.concatenate(parts, axis=1) if parts else np.zeros((2, 1), np.float32)
    return normalize(fit_length(out, n_samples(seconds)))
