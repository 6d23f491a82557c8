"""Job bodies run the same way wherever a queue is run: as many threads as the CLI's
worker has (a run storing its result keeps its thread but gives its provider slot to
the next call), and, in a process that also serves peers (the LAN host) or draws a
window (the app), at background priority. The host refills a freed slot at once, as
the CLI and the app's pump thread do, rather than on its next timer tick."""

from __future__ import annotations

import itertools
import os
import sys
import threading
import time

import pytest

import studio.sync.jobs as host_jobs
from studio.core import commands as c
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.executor import ThreadExecutor, body_threads
from studio.jobs.pump import BACKGROUND_NICE
from studio.sync.jobs import JobRunner
from tests.conftest import OWNER
from workers.base import GenerationOutput, GenerationRequest, RunContext
from workers.testing import ScriptedProvider

LINUX = sys.platform.startswith("linux")


def _nice() -> int:
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


class Recording(ScriptedProvider):
    """Records each call's start, end and its thread's nice value."""

    def __init__(self) -> None:
        super().__init__("scripted")
        self.calls: list[tuple[float, float, int]] = []

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        start, nice = time.monotonic(), _nice()
        out = super().run(request, context)
        self.calls.append((start, time.monotonic(), nice))
        return out


@pytest.fixture
def provider() -> Recording:
    return Recording()


def test_body_threads_are_twice_the_provider_slots() -> None:
    assert body_threads(8) == 16
    assert body_threads(1) == 4  # never fewer than 4


@pytest.mark.skipif(not LINUX, reason="a nice value per thread")
def test_a_background_executor_runs_bodies_at_background_priority() -> None:
    seen: dict[str, int] = {}
    done = threading.Event()
    for name, background in (("plain", False), ("background", True)):
        done.clear()
        ex = ThreadExecutor(2, background=background)

        def body(name: str = name) -> None:
            seen[name] = _nice()
            done.set()

        ex.submit(body)
        assert done.wait(10)
        ex.shutdown(wait=True)
    assert seen["plain"] == os.nice(0)  # the caller's priority, as before
    assert seen["background"] == max(BACKGROUND_NICE, os.nice(0))


def test_the_hosts_runner_refills_a_freed_slot_at_once_at_background_priority(
    studio: Studio, space: Space, provider: Recording, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the runner's timer, long: only the slot-free wake-up can start the next job soon
    monkeypatch.setattr(host_jobs, "IDLE_S", 2.0)
    studio.library.set_setting("jobs.scripted.concurrency", "1")
    provider.latency_s = 0.03
    space.apply(
        c.RequestBatch("x", c.MediaKindName.IMAGE, 4, options=c.GenerationOptions(no_style=True)),
        OWNER,
    )
    runner = JobRunner(studio, space)
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and len(provider.calls) < 4:
            time.sleep(0.02)
    finally:
        runner.stop(30)
    assert not runner.is_alive() and runner.problem is None
    assert len(provider.calls) == 4 and provider.max_concurrent == 1
    calls = sorted(provider.calls)
    gaps = [b[0] - a[1] for a, b in itertools.pairwise(calls)]
    # on the timer each gap was the full 2 s; woken by the freed slot, a thread switch
    assert max(gaps) < 1.0, gaps
    if LINUX:
        assert {nice for *_, nice in calls} == {max(BACKGROUND_NICE, os.nice(0))}
