"""The app collects cyclic garbage on the main thread only."""

from __future__ import annotations

import gc
import threading
import weakref

from studio.ui.gc_timer import MainThreadCollector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cyclic collector frees it


def test_garbage_made_on_a_thread_is_freed_by_the_main_thread_timer(qtbot) -> None:  # type: ignore[no-untyped-def]
    collector = MainThreadCollector(interval_ms=20)
    try:
        assert not gc.isenabled()  # no collection at an allocation in a worker thread
        refs: list[weakref.ref[_Node]] = []
        freed_on: list[str] = []

        def make() -> None:
            for _ in range(2000):  # far past gen-0's threshold: would collect here if enabled
                node = _Node()
                weakref.finalize(node, lambda: freed_on.append(threading.current_thread().name))
                refs.append(weakref.ref(node))
                del node

        worker = threading.Thread(target=make, name="job-body")
        worker.start()
        worker.join(10)
        assert all(r() is not None for r in refs)  # nothing collected on the worker
        for _ in range(12):  # gen 0 first; older generations as their counters fill
            collector.collect()
        qtbot.waitUntil(lambda: all(r() is None for r in refs), timeout=5_000)
        assert set(freed_on) == {threading.main_thread().name}
    finally:
        collector.stop()
        collector.deleteLater()
    assert gc.isenabled()
