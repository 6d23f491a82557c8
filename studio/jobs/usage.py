"""Usage events: what each job cost, recorded in ``library.db``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class UsageEvent:
    at: int
    space_id: str
    job_id: str
    provider: str
    model: str
    operation: str
    units: float
    unit: str
    cost_usd: float


class UsageSink(Protocol):
    def record_usage(self, event: UsageEvent) -> None: ...
