"""A provider slot covers the provider call only: storing a result (files, fsync,
previews, the commit) runs beside the next call, within the provider's limit."""

from __future__ import annotations

import time
from typing import Any

import pytest

import studio.jobs.scheduler as scheduler_module
from studio.core import commands as c
from studio.core.space import Space
from studio.jobs.executor import ThreadExecutor
from studio.jobs.policy import ProviderLimits
from studio.jobs.scheduler import Scheduler, SchedulerConfig
from tests.conftest import OWNER
from workers.testing import ScriptedProvider

STORE_S = 0.3
LATENCY_S = 0.1


def test_storing_a_result_frees_the_provider_slot(
    space: Space, provider: ScriptedProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_store = scheduler_module.store_output

    def slow_store(*args: Any, **kw: Any) -> Any:
        time.sleep(STORE_S)  # a big picture's previews on a busy disk
        return real_store(*args, **kw)

    monkeypatch.setattr(scheduler_module, "store_output", slow_store)
    provider.latency_s = LATENCY_S
    space.apply(
        c.RequestBatch("x", c.MediaKindName.IMAGE, 3, options=c.GenerationOptions(no_style=True)),
        OWNER,
    )
    executor = ThreadExecutor(4)
    sched = Scheduler(
        space,
        executor,
        config=SchedulerConfig(limits={"scripted": ProviderLimits(concurrency=1)}),
    )
    t0 = time.monotonic()
    try:
        assert sched.run_until_idle(timeout_s=20)
    finally:
        executor.shutdown(wait=True)
        sched.close()
    took = time.monotonic() - t0
    assert provider.max_concurrent == 1  # the limit holds for the calls
    assert {j.status for j in space.jobs()} == {"succeeded"}
    # holding the slot while storing: 3 x (0.1 + 0.3) = 1.2 s; freed at the call's end,
    # the calls run back to back and only the last store is waited for: about 0.6 s
    assert took < 3 * (LATENCY_S + STORE_S) - 0.25, took


def test_the_pump_thread_refills_a_freed_slot_without_waiting_for_its_timer(
    space: Space, provider: ScriptedProvider
) -> None:
    from studio.jobs.pump import PumpThread

    provider.latency_s = LATENCY_S
    space.apply(
        c.RequestBatch("x", c.MediaKindName.IMAGE, 3, options=c.GenerationOptions(no_style=True)),
        OWNER,
    )
    executor = ThreadExecutor(4)
    sched = Scheduler(
        space,
        executor,
        config=SchedulerConfig(limits={"scripted": ProviderLimits(concurrency=1)}),
    )
    pump = PumpThread(sched, interval_ms=60_000)  # its timer never fires in this test
    t0 = time.monotonic()
    pump.start()
    try:
        deadline = t0 + 10
        while time.monotonic() < deadline and any(j.status != "succeeded" for j in space.jobs()):
            time.sleep(0.02)
        took = time.monotonic() - t0
    finally:
        pump.stop()
        executor.shutdown(wait=True)
        sched.close()
    assert {j.status for j in space.jobs()} == {"succeeded"}
    assert took < 3 * LATENCY_S + 0.5, took  # each freed slot poked the pump at once
