"""Scheduler settings kept in ``library.db`` (``studio settings``)."""

from __future__ import annotations

from studio.core import settings
from studio.core.settings import DEFAULT_CONCURRENCY
from studio.jobs.policy import ProviderLimits
from studio.jobs.scheduler import SchedulerConfig
from studio.store.library import Library

__all__ = ["DEFAULT_CONCURRENCY", "scheduler_config"]


def scheduler_config(library: Library, providers: list[str]) -> SchedulerConfig:
    """Per-provider limits: ``jobs.<provider>.concurrency`` and ``jobs.<provider>.per_minute``
    (checked settings: a bad stored value is reported and the default used)."""
    limits = {
        name: ProviderLimits(
            concurrency=settings.concurrency(library, name),
            per_minute=settings.per_minute(library, name),
        )
        for name in providers
    }
    return SchedulerConfig(limits=limits)
