"""The job scheduler: claims ready jobs within per-provider limits, runs their bodies on
an executor, and commits every outcome through the space's door.

One scheduler per open space. ``pump()`` is cheap and never blocks: the desktop app
calls it from a timer and on events; headless code calls :meth:`run_until_idle` or
:meth:`run_until`, which sleep until a body ends rather than poll.
"""

from __future__ import annotations

import json
import logging
import os
import random
import shutil
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from studio.clock import Clock
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import LimitReachedError, StorageError, StudioError
from studio.core.events import Event
from studio.core.feed import ChangeFeed
from studio.core.forge import Recipe
from studio.core.handlers.generate import normalize_error
from studio.core.space import Space
from studio.jobs.books import CLAIM_RETRIES_S, Books
from studio.jobs.executor import Executor
from studio.jobs.output import preload, store_output
from studio.jobs.policy import ProviderLimits, RateWindow, RetryPolicy, retry_delay_s
from studio.jobs.recovery import recover_jobs
from studio.jobs.usage import UsageEvent, UsageSink
from studio.media.files import fsync_dir
from studio.store.records import ReadyJob
from workers.base import (
    AudioType,
    BasicContext,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    Operation,
    Provider,
    ProviderError,
    SourceMedia,
)
from workers.redaction import redact
from workers.registry import ProviderRegistry

log = logging.getLogger(__name__)
SYSTEM = Actor.system()

RECOVER_EVERY_MS = 5_000
"""How often a running scheduler re-queues the jobs of workers that died."""

IDLE_WAIT_S = 0.25
"""How long :meth:`Scheduler.run_until` sleeps when nothing here wakes it: a body
ending here wakes it at once; this bounds how late it sees what another process
committed (a cancel, a job queued there) and a queued job's time coming."""


@dataclass(frozen=True, slots=True)
class SchedulerConfig:
    limits: Mapping[str, ProviderLimits] = field(default_factory=dict)
    default_limits: ProviderLimits = field(default_factory=ProviderLimits)
    lease_ms: int = 5 * 60_000
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    run_timeout_ms: int = 30 * 60_000
    """A run still going after this is abandoned: told to stop, and its job failed as
    TIMEOUT (retried while attempts remain), so a hung provider can't hold a job (or a
    waiter) for ever. Whatever the abandoned run returns later is refused."""

    def for_provider(self, name: str) -> ProviderLimits:
        return self.limits.get(name, self.default_limits)


class _JobContext(BasicContext):
    """A run's context whose files live in the run's own staging folders: the result in
    ``.staging/<holder-id>/job-<id>-<attempt>/`` (moved whole into place by
    ``job:complete``) and the provider's scratch files in ``….tmp/`` beside it, made on
    first use. Nothing here creates the media folder: a space deleted meanwhile stays
    deleted. Cleaning up removes these two folders, and only them."""

    def __init__(self, stage: Path, ready: ReadyJob, attempt: int, started: int, **kw: Any) -> None:
        super().__init__(stage.with_name(f"{stage.name}.tmp"), **kw)
        self.stage = stage
        self.ready = ready
        self.attempt = attempt
        self.started = started
        self._scratch: Path | None = None
        self.extra_stages: list[Path] = []  # one more staged folder per extra result
        self.called = False  # the provider call is over: its slot was given back

    @property
    def temp_dir(self) -> Path:
        if self._scratch is None:
            scratch = self.stage.with_name(f"{self.stage.name}.tmp")
            scratch.mkdir(exist_ok=True)  # beside the stage; never its parents
            self._scratch = scratch
        return self._scratch

    def out_dir(self) -> Path:
        return self.stage

    def cleanup(self) -> None:
        if self._scratch is not None:
            shutil.rmtree(self._scratch, ignore_errors=True)
            self._scratch = None
        for stage in (self.stage, *self.extra_stages):
            if os.path.lexists(stage):  # gone when job:complete moved it into place
                shutil.rmtree(stage, ignore_errors=True)


class Scheduler:
    def __init__(
        self,
        space: Space,
        executor: Executor,
        *,
        config: SchedulerConfig | None = None,
        usage: UsageSink | None = None,
        worker_id: str | None = None,
        rng: random.Random | None = None,
        clock: Clock | None = None,
    ) -> None:
        # the core sees providers only to plan requests; running them needs the registry
        if not isinstance(space.providers, ProviderRegistry):
            raise ValueError("the space was opened without a registry of runnable providers")
        self.space = space
        self.providers: ProviderRegistry = space.providers
        self.executor = executor
        self.config = config or SchedulerConfig()
        self.usage = usage
        # the owner recorded on jobs claimed here: this holder, alive while it runs (any
        # other name would look dead, and its jobs would be taken from under it)
        if worker_id is not None and space.holder_alive(worker_id) is not True:
            raise ValueError(f"{worker_id!r} is not a live holder of this space")
        self.worker_id = worker_id or space.holder_id
        self._rng = rng or random.Random()
        self._clock: Clock = clock or space.clock
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._running: dict[str, _JobContext] = {}  # job id -> its context
        self._books = Books(space)  # claim/complete/fail writes that must not be lost
        self._per_provider: dict[str, int] = {}  # provider calls running here
        self._storing: dict[str, int] = {}  # runs here past their call, storing results
        self._windows: dict[str, RateWindow] = {}
        self._last_renew = 0
        self._last_recover = 0
        self._finished = 0  # slots freed; lets a waiter see endings it did not wait for
        self._unsubscribe = space.subscribe(self._on_event)
        # other processes' changes (a job cancelled by `studio cancel` or an undo there)
        # arrive through the change feed, looked at on every pump
        self._feed: ChangeFeed | None = _feed_of(space)
        self._feed_lock = threading.Lock()
        self._watchers: list[Callable[[Event], None]] = []
        self._wakers: list[Callable[[], None]] = []
        self._preloaded = False  # what storing a result needs is imported (see _launch)

    def on_slot_free(self, fn: Callable[[], None]) -> None:
        """Call ``fn`` (on the job's thread; it must not block) whenever a provider slot
        frees here: a pump then can start the next job at once (the app's pump thread
        is poked this way)."""
        self._wakers.append(fn)

    def watch(self, fn: Callable[[Event], None]) -> None:
        """Call ``fn`` with every event of every change committed from now on, by this
        process or another, in seq order, as the scheduler's feed reads them (at the
        start of every pump): how a waiter follows its jobs without reading them."""
        self._watchers.append(fn)

    def close(self) -> None:
        self._unsubscribe()
        with self._feed_lock:
            if self._feed is not None:
                self._feed.close()
                self._feed = None

    def _follow(self) -> None:
        """Hand the changes committed since the last pump, by any process, to
        :meth:`_on_event` (this process's were handled already; handling is idempotent)."""
        if not self._feed_lock.acquire(blocking=False):
            return  # another thread is looking right now
        try:
            if self._feed is None:
                return
            try:
                events = self._feed.events()
            except StudioError as exc:
                log.warning("could not follow the space's changes: %s", exc.message)
                return
        finally:
            self._feed_lock.release()
        for event in events:
            self._on_event(event)
            for fn in self._watchers:
                fn(event)

    def stop(self, reason: str = "the app was closed") -> int:
        """Put every job running here back in the queue (the attempt does not count) and
        tell its body to stop. Returns how many were stopped."""
        with self._lock:
            running = dict(self._running)
        for job_id, ctx in running.items():
            try:
                self.space.apply(
                    c.RequeueJob(job_id, reason, count_attempt=False, owner=self.worker_id),
                    SYSTEM,
                )
            except StudioError:
                pass
            ctx.cancel()
        return len(running)

    # ------------------------------------------------------------------ claiming
    def paused(self) -> bool:
        return self.space.read.queue_paused()

    def busy(self) -> int:
        with self._lock:
            return len(self._running)

    def pump(self) -> int | None:
        """Start what may start now. Returns ms until a queued job may become startable
        (None when nothing is waiting on time)."""
        now = self._clock()
        if self.space.gone():
            self._space_gone()
            return None
        self._follow()
        self._books.retry()
        self._abandon_overdue(now)
        self._renew_leases(now)
        self._recover(now)
        if self.paused():
            return None
        wake: int | None = None

        def later(at: int) -> None:
            nonlocal wake
            wake = at - now if wake is None else min(wake, at - now)

        for provider in self.space.read.queued_providers():
            with self._lock:
                free = self.config.for_provider(provider).concurrency - self._per_provider.get(
                    provider, 0
                )
            if free <= 0:
                continue
            window = self._window(provider)
            readies = self.space.read.startable(provider, now, free)
            room = window.room(now)
            if len(readies) > 1 and room > 1:
                self._start_many(readies[:room], now)
            else:
                for ready in readies[:room]:
                    if not self._start(ready, now):
                        break  # at the provider's limit (other processes' jobs count)
            if len(readies) > room:  # the rate window let only some start now
                later(window.next_allowed(now))
        for at in self.space.read.next_due(now).values():
            later(at)
        return wake

    def _window(self, provider: str) -> RateWindow:
        if provider not in self._windows:
            self._windows[provider] = RateWindow(self.config.for_provider(provider).per_minute)
        return self._windows[provider]

    def _start(self, ready: ReadyJob, now: int) -> bool:
        """Claim and start one job. False when the provider is at its limit."""
        try:
            provider = self.providers.get(ready.provider)
            request = self._request(ready)
        except (ProviderError, StudioError, KeyError, ValueError) as exc:
            message = getattr(exc, "message", None) or f"the stored recipe is unusable ({exc})"
            attempt = self._claim(ready)  # so it can fail through the normal path
            if attempt is None:
                return True
            if attempt < 0:
                return False
            code = exc.kind.value.upper() if isinstance(exc, ProviderError) else "INVALID_REQUEST"
            self._commit_failure(ready.job_id, attempt, code, message, None)
            return True
        attempt = self._claim(ready)
        if attempt is None:
            return True
        if attempt < 0:
            return False
        self._launch(ready, attempt, provider, request, now)
        return True

    def _start_many(self, readies: list[ReadyJob], now: int) -> None:
        """Claim and start several jobs of one provider in ONE door step (one
        transaction, one commit: the fast path when several slots are free). When that
        step is refused as a whole, with nothing written (a job claimed or cancelled
        elsewhere meanwhile, the limit reached across processes), or a stored recipe
        can't be sent, they are started one by one, as before."""
        try:
            planned = [
                (ready, self.providers.get(ready.provider), self._request(ready))
                for ready in readies
            ]
            cmds = [self._start_command(ready) for ready in readies]
            step = self._books.write_step(cmds, f"start {len(cmds)} jobs", CLAIM_RETRIES_S)
        except (ProviderError, StudioError, KeyError, ValueError):
            for ready in readies:  # the one-by-one path fails an unusable job properly
                if not self._start(ready, now):
                    break  # at the provider's limit (other processes' jobs count)
            return
        except Exception as exc:  # a bug: the jobs stay queued; waiters must hear of it
            log.exception("could not start %d jobs", len(readies))
            self._books.report(f"could not start jobs: {exc}")
            return
        if step is None:
            return  # could not be written: the jobs stay queued (problem reported)
        for (ready, provider, request), applied in zip(planned, step, strict=True):
            if applied.created.get("outcome") == "started":
                self._launch(ready, int(applied.created["attempt"]), provider, request, now)

    def _launch(
        self,
        ready: ReadyJob,
        attempt: int,
        provider: Provider,
        request: GenerationRequest,
        now: int,
    ) -> None:
        """Stage and submit a run of a job just claimed here."""
        if not self._preloaded:
            # on the pumping thread, once, before the first body: on a body's thread the
            # imports would hold the GIL while this thread claims the next job
            preload()
            self._preloaded = True
        self._window(ready.provider).record(now)
        try:
            stage = self.space.staging_dir() / f"job-{ready.job_id}-{attempt}"
            stage.mkdir()  # a fresh attempt: never there before; never its parents
        except (StudioError, OSError) as exc:
            reason = exc.message if isinstance(exc, StudioError) else str(exc)
            self._commit_failure(
                ready.job_id, attempt, "STORAGE_ERROR", f"could not stage the job: {reason}", None
            )
            return
        ctx = _JobContext(
            stage,
            ready,
            attempt,
            now,
            on_progress=lambda f, m, j=ready.job_id, v=ready.variant_id: self._progress(j, v, f, m),
        )
        with self._lock:
            self._running[ready.job_id] = ctx
            self._per_provider[ready.provider] = self._per_provider.get(ready.provider, 0) + 1
        self.executor.submit(lambda: self._run(ready, attempt, provider, request, ctx))

    def _claim(self, ready: ReadyJob) -> int | None:
        """This run's attempt number once the job is claimed here; None when it is not
        to run here (claimed, cancelled or ended meanwhile, or the claim could not be
        written); -1 when the provider is at its limit across processes."""
        cmd = self._start_command(ready)
        try:
            applied = self._books.write(cmd, f"start job {ready.job_id}", CLAIM_RETRIES_S)
        except LimitReachedError:
            return -1
        except StudioError:
            return None
        except Exception as exc:  # a bug: the job stays queued; waiters must hear of it
            log.exception("could not start job %s", ready.job_id)
            self._books.report(f"could not start job {ready.job_id}: {exc}")
            return None
        if applied is None or applied.created.get("outcome") != "started":
            return None
        return int(applied.created["attempt"])

    def _start_command(self, ready: ReadyJob) -> c.StartJob:
        limit = self.config.for_provider(ready.provider).concurrency
        with self._lock:
            # the runs here that are only storing their results hold no provider slot,
            # but their jobs still count as running in the file until they complete
            limit += self._storing.get(ready.provider, 0)
        return c.StartJob(ready.job_id, self.worker_id, self.config.lease_ms, limit=limit)

    def _request(self, ready: ReadyJob) -> GenerationRequest:
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
        self,
        ready: ReadyJob,
        attempt: int,
        provider: Provider,
        request: GenerationRequest,
        ctx: _JobContext,
    ) -> None:
        try:
            ctx.check_cancelled()
            output = provider.run(request, ctx)
            self._called(ctx)  # storing the result needs no provider slot
            ctx.check_cancelled()
            out = ctx.out_dir()
            result = store_output(
                out, PurePosixPath(ready.asset_slug) / ready.variant_id, ready.media_kind, output
            )
            staged = out.relative_to(self.space.media_dir).as_posix()
            # the staged folder's own entry is durable before the step: job:complete
            # syncs its move after the commit, and recovery redoes a move a power
            # cut took back only from a staged folder that is still there
            fsync_dir(out.parent)
            extras, extras_staged = self._store_extras(ready, ctx, output)
            cmd = c.CompleteJob(
                ready.job_id,
                result,
                self.worker_id,
                attempt,
                staged,
                extras=extras,
                extras_staged=extras_staged,
            )
            try:
                applied = self._books.write(cmd, f"complete job {ready.job_id}")
            except StudioError as exc:
                # refused: if the job is still this run's (the result could not be
                # placed), it fails; if not (cancelled, taken over), the failure is
                # refused too. Either way only our own staging folder goes, below.
                log.info("job %s: result not used (%s)", ready.job_id, exc)
                self._commit_failure(ready.job_id, attempt, exc.code.value, exc.message, None)
                return
            if applied is None:  # the result could not be saved: fail it retryably
                self._commit_failure(
                    ready.job_id,
                    attempt,
                    "STORAGE_ERROR",
                    f"could not save the result: {self._books.problem}",
                    self._retry_at(attempt, None),
                )
                return
            made = 1 + len(extras)  # every result kept was paid for
            self._record_usage(ready, provider, request, output.units * made, output.unit, made)
        except ProviderError as exc:
            self._provider_failed(ready, attempt, provider, request, exc)
        except OSError as exc:  # writing the result: a full disk, a deleted space…
            self._commit_failure(
                ready.job_id,
                attempt,
                "STORAGE_ERROR",
                f"could not write the result: {exc.strerror or exc}",
                self._retry_at(attempt, None),
            )
        except Exception as exc:  # a bug in a provider must not kill the scheduler
            log.exception("job %s crashed", ready.job_id)
            self._commit_failure(ready.job_id, attempt, "INTERNAL", f"internal error: {exc}", None)
        finally:
            ctx.cleanup()
            self._forget(ctx)

    def _store_extras(
        self, ready: ReadyJob, ctx: _JobContext, output: GenerationOutput
    ) -> tuple[tuple[c.CompleteVariant, ...], tuple[str, ...]]:
        """Stage each extra result (several images in one answer) as one more variant's
        files beside the job's own; an extra whose media are unusable is left out."""
        extras: list[c.CompleteVariant] = []
        staged: list[str] = []
        for i, extra in enumerate(output.extras, start=1):
            vid = self.space.new_id()
            stage = ctx.out_dir().with_name(f"{ctx.out_dir().name}.x{i}")
            stage.mkdir()
            ctx.extra_stages.append(stage)
            try:
                done = store_output(
                    stage, PurePosixPath(ready.asset_slug) / vid, ready.media_kind, extra
                )
            except ProviderError as exc:
                log.info("job %s: extra result %d left out (%s)", ready.job_id, i, exc.message)
                continue
            extras.append(done)
            staged.append(stage.relative_to(self.space.media_dir).as_posix())
        return tuple(extras), tuple(staged)

    def _called(self, ctx: _JobContext) -> None:
        """The run's provider call is over: its provider slot is free for the next job
        (a waiter is woken to start it) while this run stores and commits the result."""
        with self._lock:
            if self._running.get(ctx.ready.job_id) is not ctx or ctx.called:
                return  # abandoned earlier
            ctx.called = True
            provider = ctx.ready.provider
            self._per_provider[provider] -= 1
            self._storing[provider] = self._storing.get(provider, 0) + 1
            self._finished += 1
            self._idle.notify_all()
        self._wake()

    def _forget(self, ctx: _JobContext) -> None:
        """This run no longer counts as running here (it ended, or was abandoned)."""
        with self._lock:
            if self._running.get(ctx.ready.job_id) is not ctx:
                return  # abandoned earlier
            del self._running[ctx.ready.job_id]
            counts = self._storing if ctx.called else self._per_provider
            counts[ctx.ready.provider] -= 1
            self._finished += 1
            self._idle.notify_all()
        self._wake()

    def _wake(self) -> None:
        for fn in self._wakers:
            try:
                fn()
            except Exception:  # a waker's fault must not fail the job
                log.exception("slot-free hook failed")

    def _abandon_overdue(self, now: int) -> None:
        with self._lock:
            overdue = [
                ctx
                for ctx in self._running.values()
                if now - ctx.started > self.config.run_timeout_ms
            ]
        for ctx in overdue:
            log.warning("job %s: the provider did not finish in time", ctx.ready.job_id)
            ctx.cancel()
            self._forget(ctx)
            minutes = max(1, self.config.run_timeout_ms // 60_000)
            self._commit_failure(
                ctx.ready.job_id,
                ctx.attempt,
                "TIMEOUT",
                f"the provider did not finish within {minutes} minutes",
                self._retry_at(ctx.attempt, None),
            )

    def _retry_at(self, attempt: int, retry_after: float | None) -> int:
        delay = retry_delay_s(attempt, self.config.retry, self._rng, retry_after)
        return self._clock() + int(delay * 1000)

    def _provider_failed(
        self,
        ready: ReadyJob,
        attempt: int,
        provider: Provider,
        request: GenerationRequest,
        exc: ProviderError,
    ) -> None:
        if exc.kind is ErrorKind.CANCELLED:
            return  # job:cancel already wrote the outcome
        retry_at = self._retry_at(attempt, exc.retry_after) if exc.retryable else None
        self._commit_failure(ready.job_id, attempt, exc.kind.value.upper(), exc.message, retry_at)
        if retry_at is None:
            self._record_usage(ready, provider, request, 0.0, "")

    def _commit_failure(
        self, job_id: str, attempt: int, code: str, message: str, retry_at: int | None
    ) -> None:
        """Record a run's failure. Every path ends here, so nothing may stop it: the
        texts are normalised (never refused), storage errors are retried, and what
        still can't be written is kept and tried again on every pump, with
        :meth:`problem` set so waiters stop instead of waiting forever."""
        code, message = normalize_error(code, redact(message))
        self._books.fail(c.FailJob(job_id, code, message, retry_at, self.worker_id, attempt))

    def _space_gone(self) -> None:
        self._books.report(f"the space {self.space.slug} was deleted or moved while it was open")
        with self._lock:
            running = list(self._running.values())
        for ctx in running:
            ctx.cancel()

    def problem(self) -> str | None:
        """Why this scheduler can't keep the queue's books (the space is full, read-only
        or was deleted): jobs may stay unfinished, so waiters must stop and say so."""
        return self._books.problem

    def raise_problem(self) -> None:
        """Raise the :meth:`problem`, if any, as a StorageError (one sentence)."""
        problem = self.problem()
        if problem is not None:
            raise StorageError(problem)

    def _record_usage(
        self,
        ready: ReadyJob,
        provider: Provider,
        request: GenerationRequest,
        units: float,
        unit: str,
        results: int = 1,
    ) -> None:
        if self.usage is None:
            return
        cost = provider.estimate_cost(request).usd * results if units else 0.0
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
            try:
                self.space.renew_leases(running, self.worker_id, now + self.config.lease_ms)
            except StudioError as exc:
                log.warning("could not renew leases: %s", exc.message)

    def _recover(self, now: int) -> None:
        """Take back the jobs of workers that died meanwhile (their owner's lock is
        free), every few seconds: cheap (one query, one lock probe per owner)."""
        if self._last_recover and now - self._last_recover < RECOVER_EVERY_MS:
            return
        self._last_recover = now
        recover_jobs(self.space)

    def _on_event(self, event: Event) -> None:
        if event.type == "job:updated" and event.data.get("status") in ("cancelled", "parked"):
            with self._lock:
                ctx = self._running.get(str(event.data["id"]))
            if ctx is not None:
                ctx.cancel()

    def has_work(self) -> bool:
        """Is any job running here, or queued with a live variant?"""
        return self.busy() > 0 or self.space.read.any_ready()

    def run_until_idle(
        self,
        *,
        timeout_s: float | None = None,
        on_tick: Callable[[], Any] | None = None,
        stop: threading.Event | None = None,
    ) -> bool:
        """Pump until no job is queued or running. Returns False on timeout or stop.
        Raises StorageError when the queue's bookkeeping can't be written (see
        :meth:`problem`) instead of waiting forever."""
        return self.run_until(
            lambda: not self.has_work() or (self.busy() == 0 and self.paused()),
            timeout_s=timeout_s,
            on_tick=on_tick,
            stop=stop,
        )

    def run_until(
        self,
        done: Callable[[], bool],
        *,
        timeout_s: float | None = None,
        on_tick: Callable[[], Any] | None = None,
        stop: threading.Event | None = None,
    ) -> bool:
        """Pump until ``done()`` (asked after each pump and, once the feed was read, before
        the next, so nothing more is claimed for a waiter that is done). Between pumps it sleeps until a body ends here (woken at once: its slot
        is refilled within a thread switch), a queued job's time comes, or
        :data:`IDLE_WAIT_S` passes (what other processes commit is seen then). Returns
        False on timeout or stop. Raises StorageError when the queue's bookkeeping
        can't be written (see :meth:`problem`) instead of waiting forever."""
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        pumped = False
        while True:
            with self._lock:
                seen = self._finished
            if pumped:
                self._follow()  # what ended meanwhile: maybe done, before claiming more
                if self.problem() is None and done():
                    return True
            wake = self.pump()
            pumped = True
            if on_tick is not None:
                on_tick()
            self.raise_problem()
            if done():
                return True
            if stop is not None and stop.is_set():
                return False
            wait = IDLE_WAIT_S if wake is None else min(IDLE_WAIT_S, max(0.001, wake / 1000))
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
        return self.space.read.queue_positions()


def _feed_of(space: Space) -> ChangeFeed | None:
    """The space's change feed from now on; None for a space with no file (in memory)."""
    try:
        return space.feed()
    except StudioError:
        return None
