"""Scheduler settings kept in ``library.db`` (``studio settings``)."""

from __future__ import annotations

from studio.jobs.policy import ProviderLimits
from studio.jobs.scheduler import SchedulerConfig
from studio.store.library import Library

DEFAULT_CONCURRENCY = {"local": 2, "gemini": 2, "veo": 1, "elevenlabs": 2, "lyria": 1}


def scheduler_config(library: Library, providers: list[str]) -> SchedulerConfig:
    """Per-provider limits: ``jobs.<provider>.concurrency`` and ``jobs.<provider>.per_minute``."""
    limits = {}
    for name in providers:
        conc = library.setting(f"jobs.{name}.concurrency")
        rate = library.setting(f"jobs.{name}.per_minute")
        limits[name] = ProviderLimits(
            concurrency=max(1, int(conc)) if conc else DEFAULT_CONCURRENCY.get(name, 2),
            per_minute=int(rate) if rate else None,
        )
    return SchedulerConfig(limits=limits)
