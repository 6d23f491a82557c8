"""The app collects cyclic garbage on the main thread only."""

from __future__ import annotations

import gc
import threading
import weakref

from studio.ui import gc_timer
from studio.ui.gc_timer import MainThreadCollector
from studio.ui.main_window import MainWindow
from tests.conftest import add_asset


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


def test_a_hold_stops_timed_collections_until_released(qtbot) -> None:  # type: ignore[no-untyped-def]
    collector = MainThreadCollector(interval_ms=10_000)
    try:
        ref = _garbage_cycle()
        gc_timer.hold()
        try:
            for _ in range(12):  # every generation due
                collector.collect()
            assert ref() is not None  # held: not collected
        finally:
            gc_timer.release()
        for _ in range(12):
            collector.collect()
        assert ref() is None
    finally:
        collector.stop()
        collector.deleteLater()


def _garbage_cycle() -> weakref.ref[_Node]:
    node = _Node()
    ref = weakref.ref(node)
    del node
    return ref


def test_cards_are_built_with_collections_held_and_stay_frozen_after_a_switch(
    window: MainWindow,
) -> None:
    """A full collection over a big space's cards, half built or still waiting in the
    graveyard after a switch, stalled the window 240 ms: held while they are built,
    frozen after, and not unfrozen when the canvas clears."""
    first = window.studio.create_space("First")
    second = window.studio.create_space("Second")
    window.open_space(first.id)
    space = window.space
    assert space is not None
    for i in range(40):
        add_asset(space, f"Card {i}")
    window.scene.clear_canvas()
    gc.unfreeze()
    window.scene.load(space, space.snapshot())
    assert gc_timer.held()  # building: no timed collection
    assert window.scene.wait_loaded()
    assert not gc_timer.held()
    frozen = gc.get_freeze_count()
    assert frozen > 0
    window.open_space(second.id)  # the canvas clears
    assert gc.get_freeze_count() > 0  # the old cards are not handed back to the collector
    assert not gc_timer.held()
