"""Injected time and identity: the core never calls ``time`` or ``uuid`` directly."""

from __future__ import annotations

import os
import re
import threading
import time
import unicodedata
from collections.abc import Callable
from typing import Protocol

Clock = Callable[[], int]
"""Returns the current time as integer milliseconds since the epoch."""


def system_clock() -> int:
    return time.time_ns() // 1_000_000


class IdGenerator(Protocol):
    def __call__(self) -> str: ...


class TimeSortedIds:
    """Ids that sort by creation time: 11 hex digits of milliseconds, 12 random hex digits.

    Monotonic within one process even when the clock stalls or steps back.
    """

    def __init__(self, clock: Clock = system_clock) -> None:
        self._clock = clock
        self._last = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            ms = max(self._clock(), self._last)
            self._last = ms
        return f"{ms:011x}{os.urandom(6).hex()}"


class CountingIds:
    """Deterministic ids for tests: ``prefix-000001``, ``prefix-000002`` …"""

    def __init__(self, prefix: str = "id") -> None:
        self._prefix = prefix
        self._n = 0
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            self._n += 1
            return f"{self._prefix}-{self._n:06d}"


_SLUG_STRIP = re.compile(r"[^a-z0-9]+")


def slugify(text: str, fallback: str = "item", max_len: int = 48) -> str:
    """A filesystem-safe ascii slug: lowercase letters, digits and single dashes."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_STRIP.sub("-", folded.lower()).strip("-")[:max_len].strip("-")
    return slug or fallback


def unique_slug(base: str, taken: Callable[[str], bool]) -> str:
    """``base``, else ``base-N`` for an ``N >= 2`` that ``taken`` rejects.

    Suffixes are handed out in order (``base-2``, ``base-3`` …), so the taken ones
    form a run from 2: a galloping then binary search finds the end of that run in
    O(log n) calls of ``taken`` instead of n. Whatever the taken set looks like
    (gaps from names that already ended in ``-N``), the answer is one ``taken``
    said is free; with no gaps it is the smallest free one.
    """
    if not taken(base):
        return base
    lo, hi = 1, 2  # invariant: lo == 1 or base-lo is taken; base-hi is to be tried
    while taken(f"{base}-{hi}"):
        lo, hi = hi, hi * 2
    while hi - lo > 1:  # base-hi is free; find the first free one after base-lo
        mid = (lo + hi) // 2
        if taken(f"{base}-{mid}"):
            lo = mid
        else:
            hi = mid
    return f"{base}-{hi}"
