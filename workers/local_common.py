"""Small shared pieces of the local provider: stable seeds, words, progress ticks.

Nothing here imports numpy, Pillow or av, so it is cheap to import anywhere.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable

# A progress-and-cancel hook handed to the renderers: ``tick(fraction, message)``
# reports progress within the renderer's own [0, 1] and raises CANCELLED if the
# job was cancelled.
Tick = Callable[[float, str], None]

WORD_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*")


def no_tick(fraction: float, message: str = "") -> None:
    """A :data:`Tick` that does nothing (pure calls and tests)."""


def sub_tick(tick: Tick, lo: float, hi: float) -> Tick:
    """``tick`` for a part of the work: the part's [0, 1] becomes [lo, hi]."""

    def part(fraction: float, message: str = "") -> None:
        tick(lo + (hi - lo) * min(1.0, max(0.0, fraction)), message)

    return part


def stable_seed(*parts: object) -> int:
    """A 63-bit seed from the parts' text: the same on every run and machine
    (unlike ``hash()``, which is salted per process)."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big") >> 1


def words(text: str) -> list[str]:
    """Lower-case words of ``text`` in order (hyphenated words kept whole, e.g. ``8-bit``)."""
    return WORD_RE.findall(text.lower())


def stems(word: str) -> tuple[str, ...]:
    """The word and its likely singular forms: ``stars`` → (``stars``, ``star``);
    a hyphenated word also tries its parts (``sun-lit`` → ``sun``)."""
    out = [word]
    if word.endswith("ies") and len(word) > 4:
        out.append(word[:-3] + "y")
    if word.endswith("es") and len(word) > 3:
        out.append(word[:-2])
    if word.endswith("s") and len(word) > 2:
        out.append(word[:-1])
    if "-" in word:
        out += [s for part in word.split("-") if part for s in stems(part)]
    return tuple(out)


def lookup(table: dict[str, str], text: str) -> list[str]:
    """Values of ``table`` for the words of ``text``, in order of first appearance,
    without repeats. Multi-word keys (``"black and white"``) match as phrases."""
    found: list[str] = []
    seq = words(text)
    joined = " " + " ".join(seq) + " "
    hits: list[tuple[int, str]] = []
    for key, value in table.items():
        if " " in key:
            pos = joined.find(" " + key + " ")
            if pos >= 0:
                hits.append((joined.count(" ", 0, pos), value))
    for i, w in enumerate(seq):
        for s in stems(w):
            if s in table:
                hits.append((i, table[s]))
                break
    for _, value in sorted(hits, key=lambda h: h[0]):
        if value not in found:
            found.append(value)
    return found


def any_word(text: str, vocabulary: Iterable[str]) -> bool:
    """True if any word of ``text`` (or its singular) is in ``vocabulary``."""
    vocab = set(vocabulary)
    return any(s in vocab for w in words(text) for s in stems(w))


def pick(seed: int, options: tuple[str, ...] | list[str], salt: str = "") -> str:
    """A stable choice among ``options`` for ``seed``."""
    return options[stable_seed(seed, salt) % len(options)]
