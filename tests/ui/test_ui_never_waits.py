"""The UI thread never waits on the writer: the scheduler is pumped on its own thread,
and what widgets read comes from read connections, which a writer holding a long
transaction does not hold up."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.space import Space
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from studio.ui.tray.lookup import style_presets
from tests.conftest import OWNER, add_variant

HELD_S = 1.5
"""How long the other thread keeps its write transaction open."""


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    yield w
    w.close()
    studio.close()


def _open(window: MainWindow) -> Space:
    entry = window.studio.create_space("Waits")
    window.open_space(entry.id)
    space = window.space
    assert space is not None
    return space


def test_the_scheduler_is_pumped_off_the_ui_thread(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _open(window)
    session = window.session
    assert session is not None
    threads: list[int] = []
    real = session.scheduler.pump

    def pump() -> int | None:
        threads.append(threading.get_ident())
        return real()

    session.scheduler.pump = pump  # type: ignore[method-assign]
    qtbot.waitUntil(lambda: len(threads) >= 3, timeout=5_000)
    assert threading.get_ident() not in threads
    # a queued job pokes the pump at once (not only on its 250 ms round)
    before = len(threads)
    window.space.apply(  # type: ignore[union-attr]
        c.RequestGeneration("a kite", c.MediaKindName.IMAGE, options=c.GenerationOptions()),
        OWNER,
    )
    qtbot.waitUntil(lambda: len(threads) > before, timeout=1_000)
    assert threading.get_ident() not in threads


def test_ui_reads_return_while_another_thread_holds_the_write_lock(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    space = _open(window)
    made = add_variant(space, name="Hero")
    space.apply(c.CreateStylePreset("Ink", "ink wash"), OWNER)
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=5_000)
    started, release = threading.Event(), threading.Event()

    def hold() -> None:
        with space._db.write():
            started.set()
            release.wait(HELD_S)

    holder = threading.Thread(target=hold)
    holder.start()
    try:
        assert started.wait(5)
        timings: dict[str, float] = {}

        def timed(what: str, fn: object) -> None:
            t0 = time.perf_counter()
            fn()  # type: ignore[operator]
            timings[what] = time.perf_counter() - t0

        timed("status bar", window.status_control.update_status)
        timed("jobs panel", window.jobs_panel.refresh)
        timed("details", lambda: window.inspector.show_asset(made.asset_id))
        timed("style presets", lambda: style_presets(space))
        timed("estimate", lambda: space.estimate(c.RequestGeneration("x", c.MediaKindName.IMAGE)))
        timed("snapshot", space.snapshot)
        assert release.is_set() is False, "the writer let go before the reads were timed"
    finally:
        release.set()
        holder.join(10)
    slow = {k: round(v, 3) for k, v in timings.items() if v > 0.5}
    assert slow == {}, f"UI reads waited for the writer: {slow}"
    assert [s.name for s in style_presets(space)] == ["Ink"]
