"""Retry backoff and per-provider limits: pure, with injected time and randomness."""

from __future__ import annotations

import math
import random
from collections import deque
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float = 2.0
    cap_s: float = 300.0
    max_retry_after_s: float = 3600.0
    """A provider's Retry-After is honoured up to this; a longer (or absurd) one is cut
    to it, so a retried job still ends within a bounded time."""


def retry_delay_s(
    attempt: int, policy: RetryPolicy, rng: random.Random, retry_after_s: float | None = None
) -> float:
    """Exponential backoff with full jitter; never sooner than the provider's Retry-After
    (when it is a finite, non-negative number; at most ``max_retry_after_s``)."""
    ceiling = min(policy.cap_s, policy.base_s * (2 ** max(0, min(attempt, 64) - 1)))
    delay = rng.uniform(0.0, ceiling)
    if retry_after_s is not None and math.isfinite(retry_after_s) and retry_after_s > 0:
        delay = max(delay, min(retry_after_s, policy.max_retry_after_s))
    return delay


@dataclass(frozen=True, slots=True)
class ProviderLimits:
    """At most ``concurrency`` jobs at once; at most ``per_minute`` starts in any 60 s."""

    concurrency: int = 2
    per_minute: int | None = None


class RateWindow:
    """Sliding 60 s window of job starts for one provider."""

    def __init__(self, per_minute: int | None) -> None:
        self.per_minute = per_minute
        self._starts: deque[int] = deque()

    def next_allowed(self, now_ms: int) -> int:
        """The earliest time (ms) another start is allowed; ``now_ms`` if at once."""
        if self.per_minute is None:
            return now_ms
        while self._starts and self._starts[0] <= now_ms - 60_000:
            self._starts.popleft()
        if len(self._starts) < self.per_minute:
            return now_ms
        return self._starts[0] + 60_000

    def room(self, now_ms: int) -> int:
        """How many more starts are allowed at ``now_ms``."""
        if self.per_minute is None:
            return 1 << 30
        self.next_allowed(now_ms)  # drops the starts that left the window
        return max(0, self.per_minute - len(self._starts))

    def record(self, now_ms: int) -> None:
        if self.per_minute is not None:
            self._starts.append(now_ms)
