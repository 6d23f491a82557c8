"""The job scheduler: claims ready jobs within per-provider limits, runs their bodies on
an executor, and commits every outcome through the space's door.

One scheduler per open space. ``pump()`` is cheap and never blocks: the desktop app
calls it from a timer and on events; headless code calls :meth:`run_until_idle`.
"""

from __future__ import annotations

import json
import logging
import random
import shutil
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.clock import Clock
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.events import Event
from studio.core.forge import Recipe
from studio.core.handlers.generate import PAUSED_KEY
from studio.core.space import Space
from studio.jobs.executor import Executor
from studio.jobs.output import store_output
from studio.jobs.policy import ProviderLimits, RateWindow, RetryPolicy, retry_delay_s
from studio.jobs.usage import UsageEvent, UsageSink
from workers.base import (
    AudioType,
    BasicContext,
    ErrorKind,
    GenerationRequest,
    Operation,
    Provider,
    ProviderError,
    SourceMedia,
)
from workers.redaction import redact

log = logging.getLogger(__name__)
SYSTEM = Actor.system()


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    limits: Mapping[str, ProviderLimits] = field(default_factory=dict)
    default_limits: ProviderLimits = field(default_factory=ProviderLimits)
    lease_ms: int = 5 * 60_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)

    def for_provider(self, name: str) -> ProviderLimits:
        return self.limits.get(name, self.default_limits)


@dataclass(frozen=True, slots=True)
class _Ready:
    job_id: str
    variant_id: str
    provider: str
    not_before: int
    attempts: int
    recipe: str
    asset_slug: str
    media_kind: str


_READY_FROM = """
FROM jobs j
JOIN variants v ON v.id = j.variant_id
JOIN assets a ON a.id = v.asset_id
WHERE j.status = 'queued' AND v.deleted_at IS NULL AND a.deleted_at IS NULL
"""
_READY_COLUMNS = "SELECT j.id, j.variant_id, j.provider, j.not_before, j.attempts, v.recipe, a.slug, a.media_kind"
_ORDER = " ORDER BY j.priority DESC, j.not_before, j.created_at, j.id"

READY_SQL = f"{_READY_COLUMNS} {_READY_FROM} {_ORDER}"
"""Every runnable queued job in queue order (positions)."""

_STARTABLE_SQL = (
    f"{_READY_COLUMNS} {_READY_FROM} AND j.provider = ? AND j.not_before <= ? {_ORDER} LIMIT ?"
)
_PROVIDERS_SQL = "SELECT DISTINCT provider FROM jobs WHERE status = 'queued'"
_NEXT_SQL = (
    f"SELECT j.provider, MIN(j.not_before) {_READY_FROM} AND j.not_before > ? GROUP BY j.provider"
)
_ANY_SQL = f"SELECT EXISTS (SELECT 1 {_READY_FROM})"


class Scheduler:
    def __init__(
        self,
        space: Space,
        executor: Executor,
        *,
        config: SchedulerConfig | None = None,
        usage: UsageSink | None = None,
        worker_id: str = "local",
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        if space.providers is None:
            raise ValueError("the space was opened without providers")
        self.space = space
        self.providers = space.providers
        self.executor = executor
        self.config = config or SchedulerConfig()
        self.usage = usage
        self.worker_id = worker_id
        self._rng = rng or random.Random()
        self._clock: Clock = clock or space.clock
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running: dict[str, BasicContext] = {}  # job id -> its context
        self._per_provider: dict[str, int] = {}
        self._windows: dict[str, RateWindow] = {}
        self._last_renew = 0
        self._finished = 0  # bodies ended; lets a waiter see endings it did not wait for
        self._unsubscribe = space.subscribe(self._on_event)

    def close(self) -> None:
        self._unsubscribe()

    def stop(self, reason: str = "the app was closed") -> int:
        """Put every job running here back in the queue (the attempt does not count) and
        tell its body to stop. Returns how many were stopped."""
        with self._lock:
            running = dict(self._running)
        for job_id, ctx in running.items():
            try:
                self.space.apply(c.RequeueJob(job_id, reason, count_attempt=False), SYSTEM)
            except StudioError:
                pass
            ctx.cancel()
        return len(running)

    # ------------------------------------------------------------------ claiming
    def paused(self) -> bool:
        return bool(self.space.query("SELECT 1 FROM meta WHERE key = ?", (PAUSED_KEY,)))

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    def pump(self) -> int | None:
        """Start what may start now. Returns ms until a queued job may become startable
        (None when nothing is waiting on time)."""
        now = self._clock()
        self._renew_leases(now)
        if self.paused():
            return None
        wake: int | None = None

        def later(at: int) -> None:
            nonlocal wake
            wake = at - now if wake is None else min(wake, at - now)

        for (provider,) in self.space.query(_PROVIDERS_SQL):
            with self._lock:
                free = self.config.for_provider(provider).concurrency - self._per_provider.get(
                    provider, 0
                )
            if free <= 0:
                continue
            window = self._window(provider)
            for row in self.space.query(_STARTABLE_SQL, (provider, now, free)):
                allowed = window.next_allowed(now)
                if allowed > now:
                    later(allowed)
                    break
                self._start(_Ready(*row), now)
        for _provider, at in self.space.query(_NEXT_SQL, (now,)):
            later(at)
        return wake

    def _window(self, provider: str) -> RateWindow:
        if provider not in self._windows:
            self._windows[provider] = RateWindow(self.config.for_provider(provider).per_minute)
        return self._windows[provider]

    def _start(self, ready: _Ready, now: int) -> None:
        try:
            provider = self.providers.get(ready.provider)
            request = self._request(ready)
        except (ProviderError, StudioError, KeyError, ValueError) as exc:
            message = getattr(exc, "message", None) or f"the stored recipe is unusable ({exc})"
            self._claim(ready)  # so it can fail through the normal path
            self._commit_failure(ready.job_id, "INVALID_REQUEST", message, None)
            return
        if not self._claim(ready):
            return
        self._window(ready.provider).record(now)
        ctx = BasicContext(
            self.space.media_dir / ".staging" / f"job-{ready.job_id}-{ready.attempts + 1}",
            on_progress=lambda f, m, j=ready.job_id, v=ready.variant_id: self._progress(j, v, f, m),
        )
        with self._lock:
            self._running[ready.job_id] = ctx
            self._per_provider[ready.provider] = self._per_provider.get(ready.provider, 0) + 1
        self.executor.submit(lambda: self._run(ready, provider, request, ctx))

    def _claim(self, ready: _Ready) -> bool:
        try:
            self.space.apply(c.StartJob(ready.job_id, self.worker_id, self.config.lease_ms), SYSTEM)
        except StudioError:
            return False  # cancelled or claimed meanwhile
        return True

    def _request(self, ready: _Ready) -> GenerationRequest:
        recipe = Recipe.from_json(json.loads(ready.recipe))
        refs = []
        for vid in recipe.references_sent:
            detail = self.space.variant_detail(vid)
            if detail.row.media_path is None:
                raise ValueError(f"the reference {vid} has no media")
            kind = self.space.asset(detail.row.asset_id).media_kind
            refs.append(
                SourceMedia(
                    variant_id=vid,
                    path=self.space.media_dir / detail.row.media_path,
                    mime=detail.row.mime or "",
                    media_kind=kind,
                    width=detail.row.width,
                    height=detail.row.height,
                    duration_ms=detail.row.duration_ms,
                )
            )
        op = recipe.operation
        if op == "generate" and refs:
            op = "derive"  # style references ride along
        return GenerationRequest(
            operation=Operation(op),
            media_kind=recipe.media_kind,
            prompt=recipe.prompt_sent,
            model=recipe.model,
            audio_type=None if recipe.audio_type is None else AudioType(recipe.audio_type),
            size=recipe.size,
            aspect_ratio=recipe.aspect_ratio,
            duration_s=recipe.duration_s,
            seed=recipe.seed,
            params=dict(recipe.params),
            references=tuple(refs),
        )

    # ------------------------------------------------------------------ running (worker thread)
    def _run(
        self, ready: _Ready, provider: Provider, request: GenerationRequest, ctx: BasicContext
    ) -> None:
        try:
            ctx.check_cancelled()
            output = provider.run(request, ctx)
            ctx.check_cancelled()
            result = store_output(
                self.space.media_dir, ready.asset_slug, ready.variant_id, ready.media_kind, output
            )
            try:
                applied = self.space.apply(c.CompleteJob(ready.job_id, result), SYSTEM)
            except StudioError:  # cancelled while storing: the files must go
                shutil.rmtree(
                    self.space.media_dir / ready.asset_slug / ready.variant_id, ignore_errors=True
                )
                return
            if applied.created.get("outcome") == "discarded":
                shutil.rmtree(
                    self.space.media_dir / ready.asset_slug / ready.variant_id, ignore_errors=True
                )
            self._record_usage(ready, provider, request, output.units, output.unit)
        except ProviderError as exc:
            self._provider_failed(ready, provider, request, exc)
        except Exception as exc:  # a bug in a provider must not kill the scheduler
            log.exception("job %s crashed", ready.job_id)
            self._commit_failure(ready.job_id, "INTERNAL", f"internal error: {exc}", None)
        finally:
            ctx.cleanup()
            with self._lock:
                self._running.pop(ready.job_id, None)
                self._per_provider[ready.provider] -= 1
                self._finished += 1
                self._idle.notify_all()

    def _provider_failed(
        self, ready: _Ready, provider: Provider, request: GenerationRequest, exc: ProviderError
    ) -> None:
        if exc.kind is ErrorKind.CANCELLED:
            return  # job:cancel already wrote the outcome
        retry_at = None
        attempt = ready.attempts + 1
        if exc.retryable:
            delay = retry_delay_s(attempt, self.config.retry, self._rng, exc.retry_after)
            retry_at = self._clock() + int(delay * 1000)
        self._commit_failure(ready.job_id, exc.kind.value.upper(), exc.message, retry_at)
        if retry_at is None:
            self._record_usage(ready, provider, request, 0.0, "")

    def _commit_failure(self, job_id: str, code: str, message: str, retry_at: int | None) -> None:
        message = redact(message)  # provider errors come redacted; the others too, first
        try:
            self.space.apply(c.FailJob(job_id, code, message or code.lower(), retry_at), SYSTEM)
        except StudioError as exc:
            log.info("job %s: failure not recorded (%s)", job_id, exc)

    def _record_usage(
        self, ready: _Ready, provider: Provider, request: GenerationRequest, units: float, unit: str
    ) -> None:
        if self.usage is None:
            return
        cost = provider.estimate_cost(request).usd if units else 0.0
        self.usage.record_usage(
            UsageEvent(
                at=self._clock(),
                space_id=self.space.id,
                job_id=ready.job_id,
                provider=provider.name,
                model=request.model,
                operation=request.operation.value,
                units=units,
                unit=unit,
                cost_usd=cost,
            )
        )

    def _progress(self, job_id: str, variant_id: str, fraction: float, message: str) -> None:
        self.space.publish_transient(
            Event(
                "job:progress",
                {
                    "job_id": job_id,
                    "variant_id": variant_id,
                    "progress": fraction,
                    "message": message,
                },
            )
        )

    # ------------------------------------------------------------------ leases, events, waiting
    def _renew_leases(self, now: int) -> None:
        if now - self._last_renew < self.config.lease_ms // 3:
            return
        self._last_renew = now
        with self._lock:
            running = list(self._running)
        if running:
            self.space.renew_leases(running, self.worker_id, now + self.config.lease_ms)

    def _on_event(self, event: Event) -> None:
        if event.type == "job:updated" and event.data.get("status") == "cancelled":
            with self._lock:
                ctx = self._running.get(str(event.data["id"]))
            if ctx is not None:
                ctx.cancel()

    def has_work(self) -> bool:
        """Is any job running here, or queued with a live variant?"""
        return self.busy() > 0 or bool(self.space.query(_ANY_SQL)[0][0])

    def run_until_idle(
        self,
        *,
        timeout_s: float | None = None,
        on_tick: Callable[[], Any] | None = None,
        stop: threading.Event | None = None,
    ) -> bool:
        """Pump until no job is queued or running. Returns False on timeout or stop."""
        import time

        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        while True:
            with self._lock:
                seen = self._finished
            wake = self.pump()
            if on_tick is not None:
                on_tick()
            if not self.has_work() or (self.busy() == 0 and self.paused()):
                return True
            if stop is not None and stop.is_set():
                return False
            wait = 0.25 if wake is None else min(0.25, max(0.001, wake / 1000))
            if deadline is not None:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                wait = min(wait, left)
            with self._lock:
                if self._finished == seen:  # nothing ended since the pump: sleep
                    self._idle.wait(wait)

    def positions(self) -> dict[str, int]:
        """Queue position (1 = next) of every queued job with a live variant."""
        return {row[0]: i + 1 for i, row in enumerate(self.space.query(READY_SQL))}
