"""A coarse guard on the UI thread while switching to a 20,000-asset space in a real
window: no stall over 200 ms (``bench/bench_canvas.py`` holds the tight 50 ms target at
50,000 assets).

The stall is the UI thread's own: the gap between its 5 ms heartbeats less the time the
kernel kept it waiting for a CPU (``StallProbe``), so a machine busy with other work
does not fail the test, while a UI thread computing, or waiting on a lock, the GIL or a
file, does. The space is made the way a months-old one looks (``fill_big_space``:
several variants per asset, failed cards, stacks, frames, thumbnail files with and
without their stored small tiers)."""

from __future__ import annotations

import gc
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from bench._util import StallProbe, fill_big_space, thumbnail_pool
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.gc_timer import MainThreadCollector
from studio.ui.main_window import MainWindow
from studio.ui.spaces_panel import ID_ROLE
from tests.conftest import OWNER

ASSETS = 20_000
LIMIT_MS = 200.0


@pytest.fixture(scope="module")
def big_home(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str, str]:
    """A studio home with a small space and a 20,000-asset one (made once: ~15 s)."""
    root = tmp_path_factory.mktemp("switch")
    studio = Studio(root / "home")
    small = studio.create_space("Small")
    big = studio.create_space("Big")
    pool = thumbnail_pool(root / "pool", 16)
    media = studio.paths.space_media(big.slug)
    fill_big_space(studio.paths.home / big.file, media, ASSETS, per_asset=2, pool=pool)
    studio.close()
    return root / "home", small.id, big.id


@pytest.fixture
def window(big_home: tuple[Path, str, str], qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    # as the app runs: cyclic garbage collected on a main-thread timer (held while
    # cards are built), never at whichever allocation crosses a threshold
    collector = MainThreadCollector()
    studio = Studio(big_home[0], providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    yield w
    w.close()
    studio.close()
    collector.stop()
    collector.deleteLater()


def _spin(seconds: float) -> None:
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        QApplication.processEvents()
        time.sleep(0.002)


def _switch(window: MainWindow, small: str, big: str, qtbot) -> tuple[float, str]:  # type: ignore[no-untyped-def]
    """Open the small space, then switch to the big one and fit it all: the UI thread's
    longest own stall (ms) and where it was."""
    window.open_space(small)  # a running window, a space open
    qtbot.waitUntil(lambda: not window.scene.is_loading(), timeout=10_000)
    _spin(0.3)  # (a second attempt: the big space may still be closing; it opens after)
    probe = StallProbe()
    try:
        t0 = time.perf_counter()
        window.open_space(big)
        qtbot.waitUntil(
            # (``card_map``: a list of every card made here would be the test's own stall)
            lambda: len(window.scene.card_map()) == ASSETS and not window.scene.is_loading(),
            timeout=120_000,
        )
        window.view.fit_all()  # the whole space in view: every card at far zoom
        _spin(0.5)
        took = time.perf_counter() - t0
    finally:
        probe.stop()
    own, raw = probe.max_ms(own=True), probe.max_ms()
    print(f"switch to {ASSETS:,} assets: cards built in {took:.1f} s; longest UI stall "
          f"{own:.0f} ms own ({raw:.0f} ms with the machine's other work)\n{probe.report()}")  # fmt: skip
    return own, probe.report()


def test_switching_to_a_20000_asset_space_never_stalls_the_ui_thread_200_ms(
    window: MainWindow, big_home: tuple[Path, str, str], qtbot, request: pytest.FixtureRequest
) -> None:  # type: ignore[no-untyped-def]
    _home, small, big = big_home
    # what earlier tests of this process left on the heap is not the app's: out of the
    # collector's sight (a full collection over it alone can take a few hundred ms)
    gc.collect()
    gc.freeze()
    request.addfinalizer(gc.unfreeze)
    # a second switch only when the first stalled: a machine busy with other work can
    # still cost the odd long turn (the GIL held by a preempted thread of ours), while a
    # UI thread that computes or waits on the switch's path stalls every time
    own, where = _switch(window, small, big, qtbot)
    if own > LIMIT_MS:
        own, where = _switch(window, small, big, qtbot)
    assert window.space is not None and window.space.id == big
    assert own <= LIMIT_MS, f"the UI thread stalled {own:.0f} ms; where:\n{where}"
    # the count shown comes from the canvas's rows, not a COUNT(*) on this thread
    label = next(
        window.spaces.list.item(i).text()
        for i in range(window.spaces.list.count())
        if window.spaces.list.item(i).data(ID_ROLE) == big
    )
    assert f"{ASSETS} assets" in label
