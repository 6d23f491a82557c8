"""The filter panel (View ▸ Filters) and Find, driven through the real window."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.space import Space
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.find_bar import DEBOUNCE_MS
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    yield w
    w.close()
    studio.close()


ROWS = [
    ("Red knight", "image", "character", ("hero", "red")),
    ("Blue knight", "image", "character", ("hero", "blue")),
    ("Dragon", "image", "creature", ("red",)),
    ("Roar", "audio", "sfx", ("red", "creature")),
    ("Theme", "audio", "music", ()),
    ("Intro", "video", "", ("blue",)),
]


def _space(window: MainWindow, qtbot) -> Space:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space("Filters")
    window.open_space(entry.id)
    space = window.space
    assert space is not None
    for i, (name, kind, type_, tags) in enumerate(ROWS):
        space.apply(
            c.CreateAsset(name, c.MediaKindName(kind), type=type_, tags=tags, x=i * 300), OWNER
        )
    qtbot.waitUntil(lambda: len(window.scene.cards()) == len(ROWS))
    return space


def _matching(window: MainWindow) -> list[str]:
    return sorted(card.asset.name for card in window.scene.cards() if card.match > 0)


def _dimmed(window: MainWindow) -> list[str]:
    return sorted(card.asset.name for card in window.scene.cards() if card.match < 0)


def _show_panel(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    action = window.findChild(QAction, "showFilters")
    assert action is not None and action.shortcut().toString() == "Ctrl+Alt+F"
    action.trigger()
    qtbot.waitUntil(lambda: window.filter_dock.isVisible())
    panel = window.filter_panel
    qtbot.waitUntil(lambda: panel.count_of(("kind", "image")) == 3, timeout=5_000)


def _toggle_value(window: MainWindow, qtbot, facet: str, value: str) -> None:  # type: ignore[no-untyped-def]
    """Check (or uncheck) a facet value from the keyboard, as a user does: select its
    row, press Space."""
    panel = window.filter_panel
    if facet == "tag":
        item = panel._tag_items[value]
        panel.tags.setFocus()
        panel.tags.setCurrentItem(item)
        qtbot.keyClick(panel.tags, Qt.Key.Key_Space)
        return
    titem = panel._facet_items[(facet, value)]
    panel.facets.setFocus()
    panel.facets.setCurrentItem(titem)
    qtbot.keyClick(panel.facets, Qt.Key.Key_Space)


def test_panel_checkboxes_filter_the_canvas(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _space(window, qtbot)
    _show_panel(window, qtbot)
    panel = window.filter_panel
    assert panel.summary.text() == "6 of 6 assets"
    assert _matching(window) == [] and _dimmed(window) == []  # nothing picked: no filter

    _toggle_value(window, qtbot, "kind", "image")
    qtbot.waitUntil(lambda: _matching(window) == ["Blue knight", "Dragon", "Red knight"])
    assert _dimmed(window) == ["Intro", "Roar", "Theme"]
    assert panel.chip_texts() == ["kind: image"]
    # counts follow: tag counts within the images, kind counts across kinds
    qtbot.waitUntil(lambda: panel.count_of(("tag", "red")) == 2)
    assert panel.count_of(("kind", "audio")) == 2

    _toggle_value(window, qtbot, "tag", "red")
    qtbot.waitUntil(lambda: _matching(window) == ["Dragon", "Red knight"])
    assert panel.chip_texts() == ["kind: image", "#red"]
    assert panel.summary.text() == "2 of 6 assets"

    # either-or within a facet: audio as well
    _toggle_value(window, qtbot, "kind", "audio")
    qtbot.waitUntil(lambda: _matching(window) == ["Dragon", "Red knight", "Roar"])

    # Find's text combines with the panel
    window.find_bar.open_bar()
    qtbot.keyClicks(window.find_bar.text, "kni")
    qtbot.waitUntil(lambda: _matching(window) == ["Red knight"])
    assert window.find_bar.count.text() == "1 of 1"
    window.find_bar.close_bar()
    qtbot.waitUntil(lambda: _matching(window) == ["Dragon", "Red knight", "Roar"])

    panel.clear_button.click()
    qtbot.waitUntil(lambda: _matching(window) == [] and _dimmed(window) == [])
    assert panel.chip_texts() == [] and not panel.clear_button.isEnabled()


def test_counts_and_matches_follow_changes(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    space = _space(window, qtbot)
    _show_panel(window, qtbot)
    panel = window.filter_panel
    panel.set_picked(("tag", "blue"), True)
    qtbot.waitUntil(lambda: _matching(window) == ["Blue knight", "Intro"])
    theme = next(c_.asset.id for c_ in window.scene.cards() if c_.asset.name == "Theme")
    space.apply(c.UpdateAsset(theme, tags=("blue",)), OWNER)  # another writer's change
    qtbot.waitUntil(lambda: _matching(window) == ["Blue knight", "Intro", "Theme"], timeout=5_000)
    assert panel.count_of(("tag", "blue")) == 3
    # the tag browser's own search
    panel.tag_search.setText("cre")
    visible = [t for t, item in panel._tag_items.items() if not item.isHidden()]
    assert visible == ["creature"]


def test_find_is_debounced_one_query_per_burst(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _space(window, qtbot)
    worker = window.find_control.worker
    window.find_bar.open_bar()
    qtbot.wait(DEBOUNCE_MS * 3)  # whatever the opening asked is answered
    before = worker.queries
    emitted: list[dict[str, object]] = []
    window.find_bar.changed.connect(emitted.append)
    started = time.monotonic()
    qtbot.keyClicks(window.find_bar.text, "dragon")  # six keystrokes at once
    assert time.monotonic() - started < DEBOUNCE_MS / 1000  # the burst fits the pause
    assert worker.queries == before  # nothing asked while typing
    qtbot.waitUntil(lambda: window.find_bar.count.text() == "1 of 1", timeout=5_000)
    QApplication.processEvents()
    qtbot.wait(DEBOUNCE_MS * 3)
    assert worker.queries == before + 1
    assert [e["text"] for e in emitted] == ["dragon"]  # one criteria change, not six
    assert _matching(window) == ["Dragon"]


def test_the_filter_thread_wants_a_space_only_while_a_request_is_for_it(
    qtbot,
    space: Space,  # type: ignore[no-untyped-def]
) -> None:
    """What stops a facet index build once its space is left (``FacetIndex(stop=…)``):
    the worker wants a space while a request for it waits or is kept, not after the
    space is forgotten."""
    from studio.core.facets import FilterSpec
    from studio.ui.filter_panel_worker import FilterWorker

    worker = FilterWorker()
    try:
        worker.submit(space, FilterSpec())
        assert worker._wants(space)
        qtbot.waitUntil(lambda: worker.queries >= 1, timeout=10_000)
        assert worker._wants(space)  # kept: the answer follows changes
        worker.forget()
        assert not worker._wants(space)
    finally:
        worker.close()
