"""The scheduler's pump thread: pumps on its own thread, at once when poked, one pump
at a time, survives a faulty pump, and stops."""

from __future__ import annotations

import threading
import time

from studio.jobs.pump import PumpThread


class FakeScheduler:
    def __init__(self, *, fail_first: bool = False, wake: int | None = None) -> None:
        self.calls: list[int] = []
        self.overlap = False
        self._inside = threading.Lock()
        self._fail = fail_first
        self.wake = wake

    def on_slot_free(self, fn: object) -> None:
        self.waker = fn

    def pump(self) -> int | None:
        if not self._inside.acquire(blocking=False):
            self.overlap = True
            return None
        try:
            self.calls.append(threading.get_ident())
            time.sleep(0.005)
            if self._fail:
                self._fail = False
                raise RuntimeError("a bug")
            return self.wake
        finally:
            self._inside.release()


def _until(cond: object, timeout: float = 3.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if cond():  # type: ignore[operator]
            return True
        time.sleep(0.002)
    return False


def test_pumps_on_its_own_thread_and_at_once_when_poked() -> None:
    sched = FakeScheduler()
    pump = PumpThread(sched, interval_ms=10_000)  # type: ignore[arg-type]
    pump.start()
    try:
        assert _until(lambda: len(sched.calls) == 1)
        assert sched.calls[0] != threading.get_ident()
        t0 = time.monotonic()
        pump.poke()
        assert _until(lambda: len(sched.calls) == 2, timeout=1.0)
        assert time.monotonic() - t0 < 1.0  # not the 10 s round
    finally:
        assert pump.stop()
    assert not pump.alive


def test_one_pump_at_a_time_and_a_fault_does_not_end_it() -> None:
    sched = FakeScheduler(fail_first=True, wake=0)  # wake=0: pump again at once
    pump = PumpThread(sched, interval_ms=50)  # type: ignore[arg-type]
    pump.start()
    try:
        for _ in range(20):  # the caller's pumps interleave with the thread's
            pump.pump_now()
        assert _until(lambda: len(sched.calls) > 25)
    finally:
        assert pump.stop()
    assert sched.overlap is False
    n = len(sched.calls)
    time.sleep(0.1)
    assert len(sched.calls) == n  # stopped: no pump after stop()
    assert pump.pump_now() is None


def test_after_pump_runs_on_the_pump_thread() -> None:
    sched = FakeScheduler()
    seen: list[int] = []
    pump = PumpThread(sched, interval_ms=20, after_pump=lambda: seen.append(threading.get_ident()))  # type: ignore[arg-type]
    pump.start()
    try:
        assert _until(lambda: len(seen) >= 2)
    finally:
        pump.stop()
    assert set(seen) == {sched.calls[0]}
