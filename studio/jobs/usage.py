"""Usage events: what each job cost, recorded in ``library.db``."""

from __future__ import annotations

from typing import Protocol

from studio.store.records import UsageEvent

__all__ = ["UsageEvent", "UsageSink"]


class UsageSink(Protocol):
    def record_usage(self, event: UsageEvent) -> None: ...
