"""An empty canvas says what to do next: with no space open, and in an empty space."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor

from studio.core import commands as c
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui import spaces_panel
from studio.ui.empty_state import EMPTY_SPACE, NO_SPACE
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


def _bright_pixels(window: MainWindow, r: QRect) -> int:
    """Pixels as light as the message's text inside ``r`` of the painted canvas."""
    image = window.view.viewport().grab().toImage()
    scale = image.devicePixelRatio()
    n = 0
    for y in range(int(r.top() * scale), int(r.bottom() * scale), 2):
        for x in range(int(r.left() * scale), int(r.right() * scale), 2):
            if QColor(image.pixel(x, y)).lightness() > 190:
                n += 1
    return n


def test_no_space_then_empty_space_then_cards(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    state = window.view.empty_state
    assert window.space is None
    assert state.message() == NO_SPACE
    assert "File ▸ New space" in " ".join(NO_SPACE.lines)
    assert _bright_pixels(window, state.rect(NO_SPACE)) > 50  # painted, not just decided

    monkeypatch.setattr(spaces_panel, "ask_text", lambda *a, **k: "Board")
    window.spaces.create_space()
    assert window.space is not None
    qtbot.waitUntil(lambda: state.message() == EMPTY_SPACE, timeout=10_000)
    text = " ".join(EMPTY_SPACE.lines)
    assert "Drop" in text and "File ▸ Import" in text and "prompt" in text
    qtbot.waitUntil(lambda: _bright_pixels(window, state.rect(EMPTY_SPACE)) > 50, timeout=5_000)

    assert window.run([c.CreateAsset("Hero", c.MediaKindName.IMAGE)], "New asset")
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=10_000)
    assert state.message() is None
    # the message is gone from the screen too: the left edge of its box is background
    r = state.rect(EMPTY_SPACE)
    edge = QRect(r.left(), r.top(), 20, r.height())
    assert _bright_pixels(window, edge) == 0

    window.close_space()
    assert state.message() == NO_SPACE


def test_a_frame_alone_is_not_empty(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spaces_panel, "ask_text", lambda *a, **k: "Board")
    window.spaces.create_space()
    state = window.view.empty_state
    qtbot.waitUntil(lambda: state.message() == EMPTY_SPACE, timeout=10_000)
    assert window.run([c.CreateFrame("Moodboard", 0, 0, 400, 300)], "New frame")
    qtbot.waitUntil(lambda: state.message() is None, timeout=5_000)
