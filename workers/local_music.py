"""A little tune from a prompt: tempo, key and mode from words, then chords,
bass, a melody with a repeating phrase, and a drum pattern, mixed in stereo."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from workers.local_audio import (
    SR,
    Signal,
    decay,
    fade,
    midi_hz,
    n_samples,
    noise,
    normalize,
    pan,
    place,
    times,
    tone,
)
from workers.local_common import Tick, any_word, lookup, no_tick, pick, stable_seed

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
NOTE_NAMES = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")

PROGRESSIONS = {
    False: ((0, 4, 5, 3), (0, 3, 4, 0), (5, 3, 0, 4), (0, 5, 3, 4)),
    True: ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2)),
}

SLOW = ("slow", "calm", "ambient", "chill", "lullaby", "peaceful", "relaxing", "sleepy",
        "meditation", "gentle", "soft", "dreamy", "lofi")  # fmt: skip
FAST = ("fast", "upbeat", "energetic", "action", "battle", "dance", "chase", "intense",
        "driving", "rush", "boss", "race", "running", "combat")  # fmt: skip
MINOR_WORDS = ("sad", "dark", "melancholy", "melancholic", "minor", "gloomy", "horror",
               "mysterious", "tense", "spooky", "scary", "lonely", "haunting", "eerie",
               "villain", "boss", "night", "rain", "tragic")  # fmt: skip
MAJOR_WORDS = ("happy", "bright", "major", "cheerful", "joyful", "heroic", "victory",
               "triumphant", "sunny", "playful", "cute", "fun", "uplifting", "hopeful")  # fmt: skip
NO_DRUMS = ("ambient", "lullaby", "meditation", "drone", "peaceful", "sleepy", "music box")
LEADS: dict[str, str] = {
    "8-bit": "square", "chiptune": "square", "retro": "square", "arcade": "square",
    "pixel": "square", "game": "square", "piano": "pluck", "guitar": "pluck", "harp": "pluck",
    "pluck": "pluck", "acoustic": "pluck", "folk": "pluck", "bell": "bell", "music box": "bell",
    "magic": "bell", "fairy": "bell", "crystal": "bell", "christmas": "bell", "winter": "bell",
    "flute": "flute", "wind": "flute", "forest": "flute", "pastoral": "flute",
}  # fmt: skip
LEAD_KINDS = ("pluck", "square", "bell", "flute")

# Melody rhythms for one 4/4 bar, in eighth notes.
RHYTHMS = (
    (2, 2, 2, 2),
    (3, 1, 2, 2),
    (1, 1, 2, 1, 1, 2),
    (4, 2, 2),
    (2, 1, 1, 4),
    (1, 1, 1, 1, 2, 2),
)
CADENCES = ((4, 4), (2, 2, 4), (6, 2))


@dataclass(frozen=True, slots=True)
class MusicSpec:
    tempo: int
    root: int  # MIDI note of the tonic, an octave below middle C's neighbourhood
    minor: bool
    progression: tuple[int, ...]  # scale degrees, one chord per bar
    drums: bool
    lead: str
    seed: int

    @property
    def key(self) -> str:
        return f"{NOTE_NAMES[self.root % 12]} {'minor' if self.minor else 'major'}"


def parse_music(prompt: str, seed: int = 0) -> MusicSpec:
    """Tempo from "slow"/"fast" words, mode from mood words, lead from instrument
    words; anything unsaid comes from the prompt's hash (and the seed)."""
    h = stable_seed(prompt, seed, "music")
    if any_word(prompt, FAST):
        tempo = 132 + h % 20
    elif any_word(prompt, SLOW):
        tempo = 70 + h % 16
    else:
        tempo = 96 + h % 24
    if any_word(prompt, MINOR_WORDS):
        minor = True
    elif any_word(prompt, MAJOR_WORDS):
        minor = False
    else:
        minor = (h >> 8) % 2 == 1
    leads = lookup(LEADS, prompt)
    return MusicSpec(
        tempo=tempo,
        root=48 + (h >> 12) % 12,
        minor=minor,
        progression=PROGRESSIONS[minor][(h >> 20) % 4],
        drums=not any_word(prompt, NO_DRUMS) and "music box" not in prompt.lower(),
        lead=leads[0] if leads else pick(h, LEAD_KINDS, "lead"),
        seed=h,
    )


def chord_notes(spec: MusicSpec, degree: int, octave: int = 0) -> tuple[int, int, int]:
    """The triad on ``degree`` of the key, as MIDI notes."""
    scale = MINOR if spec.minor else MAJOR
    notes = []
    for k in (0, 2, 4):
        d = degree + k
        notes.append(spec.root + 12 * octave + scale[d % 7] + 12 * (d // 7))
    return (notes[0], notes[1], notes[2])


def _degree_note(spec: MusicSpec, idx: int) -> int:
    scale = MINOR if spec.minor else MAJOR
    return spec.root + 12 + scale[idx % 7] + 12 * (idx // 7)


def _phrase(
    spec: MusicSpec, rng: np.random.Generator, bars: int = 4
) -> list[tuple[float, float, int]]:
    """Notes ``(start_beat, beats, midi)`` for one phrase of ``bars`` bars."""
    notes: list[tuple[float, float, int]] = []
    idx = 9 + int(rng.integers(0, 3))
    for bar in range(bars):
        degree = spec.progression[bar % len(spec.progression)]
        tones = {(degree + k) % 7 for k in (0, 2, 4)}
        last = bar == bars - 1
        rhythm = (
            CADENCES[int(rng.integers(0, 3))]
            if last
            else RHYTHMS[int(rng.integers(0, len(RHYTHMS)))]
        )
        pos = 0
        for j, eighths in enumerate(rhythm):
            strong = pos % 4 == 0
            if strong or (last and j == len(rhythm) - 1):
                # Nearest chord tone to where the line is.
                candidates = [i for i in range(idx - 3, idx + 4) if i % 7 in tones and 7 <= i <= 17]
                idx = min(candidates, key=lambda i: (abs(i - idx), i)) if candidates else idx
            else:
                idx = min(17, max(7, idx + int(rng.choice([-2, -1, -1, 1, 1, 2]))))
            notes.append((bar * 4 + pos / 2, eighths / 2, _degree_note(spec, idx)))
            pos += eighths
    return notes


def melody(spec: MusicSpec, bars: int) -> list[tuple[float, float, int]]:
    """A melody in A A' B A form (repeating to fill ``bars``)."""
    rng = np.random.default_rng(spec.seed)
    a = _phrase(spec, rng)
    a2 = [n for n in a if n[0] < 12] + [n for n in _phrase(spec, rng) if n[0] >= 12]
    b = _phrase(spec, rng)
    form = (a, a2, b, a)
    out: list[tuple[float, float, int]] = []
    for p in range(math.ceil(bars / 4)):
        out += [(s + 16 * p, d, m) for s, d, m in form[p % 4]]
    return [n for n in out if n[0] < bars * 4]


def _lead(kind: str, freq: float, k: int) -> Signal:
    t = times(k)
    if kind == "square":
        return (
            tone(freq, (1, 0, 0.33, 0, 0.2, 0, 0.14), k)
            * 0.5
            * fade(np.ones(k, np.float32), 0.004, 0.03)
        )
    if kind == "bell":
        partials = ((1.0, 1.0, 2.5), (2.76, 0.4, 5.0), (5.4, 0.2, 8.0))
        return sum(
            (a * np.sin(2 * math.pi * freq * r * t) * np.exp(-t * dr) for r, a, dr in partials),
            np.zeros(k),
        ).astype(np.float32)
    if kind == "flute":
        vib = freq * (1 + 0.006 * np.sin(2 * math.pi * 5 * t))
        return tone(vib, (1, 0.25, 0.08)) * fade(np.ones(k, np.float32), 0.05, 0.06)
    harm = np.zeros(k, np.float32)
    for h in range(1, 8):
        if freq * h < 16_000:
            harm += (
                (1 / h)
                * np.sin(2 * math.pi * freq * h * t).astype(np.float32)
                * np.exp(-t * (3 + 2 * h)).astype(np.float32)
            )
    return harm


def _drums(rng: np.random.Generator) -> dict[str, Signal]:
    k = n_samples(0.3)
    t = times(k)
    kick_f = 45 + 110 * np.exp(-t * 30)
    kick = tone(kick_f) * np.exp(-t * 9) * 1.2
    s = n_samples(0.2)
    snare = (
        noise(s, rng, 1000, 7000) * decay(s, 18) * 2.2 + tone(190.0, (1,), s) * decay(s, 25) * 0.4
    )
    h = n_samples(0.06)
    hat = noise(h, rng, 6000, 14000) * decay(h, 60) * 2.0
    return {"kick": kick.astype(np.float32), "snare": snare, "hat": hat}


def _pad(spec: MusicSpec, degree: int, k: int) -> Signal:
    """A bar of the chord on ``degree``: detuned voices spread across the field."""
    out = np.zeros((2, k), np.float32)
    env = fade(np.ones(k, np.float32), 0.12, 0.3) * 0.05
    for i, note in enumerate(chord_notes(spec, degree, 1)):
        f = midi_hz(note)
        for side, detune in ((-0.5, 0.997), (0.5, 1.003)):
            out += pan(tone(f * detune, (1, 0.5, 0.3, 0.2, 0.12), k) * env, side * (0.6 + 0.1 * i))
    return out


def _lead_right(kind: str, freq: float, k: int) -> Signal:
    return pan(_lead(kind, freq, k), 0.2)


def _bass(note: int, k: int) -> Signal:
    return pan(tone(midi_hz(note), (1, 0.4, 0.15), k) * decay(k, 4), 0.0)


def render_music(spec: MusicSpec, seconds: float, tick: Tick = no_tick) -> Signal:
    """A stereo (2, n) tune of exactly ``seconds``. Repeated notes and chords are
    synthesised once and reused."""
    n = n_samples(seconds)
    out = np.zeros((2, n), np.float32)
    beat = 60.0 / spec.tempo
    bars = max(1, math.ceil(seconds / (4 * beat)))
    rng = np.random.default_rng(spec.seed + 1)
    memo: dict[tuple[object, ...], Signal] = {}

    def once(key: tuple[object, ...], make: Callable[..., Signal], *args: object) -> Signal:
        if key not in memo:
            memo[key] = make(*args)
        return memo[key]

    tick(0.1, f"{spec.key}, {spec.tempo} bpm")
    k_bar, k_beat = n_samples(4 * beat + 0.3), n_samples(beat * 0.95)
    for bar in range(bars):
        degree = spec.progression[bar % len(spec.progression)]
        start = int(bar * 4 * beat * SR)
        place(out, once(("pad", degree), _pad, spec, degree, k_bar), start)
        for b, off in enumerate((0, 0, 7, 0)):
            note = chord_notes(spec, degree, -1)[0] + off
            bass = once(("bass", note), _bass, note, k_beat)
            place(out, bass, start + int(b * beat * SR), 0.35)
        tick(0.1 + 0.4 * (bar + 1) / bars, f"Bar {bar + 1} of {bars}")
    for s, d, m in melody(spec, bars):
        k = n_samples(d * beat * 1.1)
        lead = once(("lead", m, k), _lead_right, spec.lead, midi_hz(m), k)
        place(out, lead, int(s * beat * SR), 0.22)
    tick(0.7, "Melody")
    if spec.drums:
        kit = {
            name: pan(sound, side)
            for (name, sound), side in zip(_drums(rng).items(), (0.0, 0.1, -0.35), strict=True)
        }
        for e in range(bars * 8):
            at = int(e * beat / 2 * SR)
            if e % 4 == 0 or (spec.tempo > 128 and e % 8 == 5):
                place(out, kit["kick"], at, 0.7)
            if e % 4 == 2:
                place(out, kit["snare"], at, 0.3)
            place(out, kit["hat"], at, 0.15 if e % 2 == 0 else 0.09)
    tick(0.9, "Mixing")
    out -= out.mean(axis=1, keepdims=True)
    return normalize(fade(out, 0.005, min(1.5, seconds * 0.15)))
