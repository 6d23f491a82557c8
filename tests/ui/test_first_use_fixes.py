"""Fixes of what a first-time user trips on (issue 11), each driven through the real
window (offscreen) the way a user does it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    yield w
    w.close()
    studio.close()


def _open(window: MainWindow, qtbot, name: str = "Board") -> str:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space(name)
    window.open_space(entry.id)
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)
    return entry.id


def test_ctrl_d_opens_the_asset_details(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """View ▸ Open asset details (Ctrl+D): the action's ``checked`` argument used to
    reach ``open_full_view`` as the list of variants to compare (TypeError)."""
    _open(window, qtbot)
    space = window.space
    assert space is not None
    aid = space.apply(c.CreateAsset("Hero", c.MediaKindName.IMAGE), OWNER).created["asset_id"]
    qtbot.waitUntil(lambda: window.scene.card(aid) is not None, timeout=2_000)
    window.scene.select([aid])
    qtbot.waitUntil(lambda: window.inspector.current_asset() == aid, timeout=2_000)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.inspector.dialogs) == 1, timeout=2_000)
    dialog = window.inspector.dialogs[0]
    assert dialog.asset_id() == aid and dialog.isVisible()
    assert dialog.ticked() == []
    dialog.close()
    QApplication.processEvents()


def _generated(window: MainWindow) -> int:
    space = window.space
    assert space is not None
    return len(space.snapshot().assets)


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_ctrl_return_generates_from_the_prompt_and_the_canvas(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    key: Qt.Key,
) -> None:
    """One owner per place, no ``Ambiguous shortcut overload``: the prompt box takes
    Ctrl+Return itself; elsewhere the Generate menu's action does."""
    _open(window, qtbot)
    qtbot.waitUntil(window.tray.isEnabled)
    prompt = window.tray.prompt
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus)
    prompt.setPlainText("a tiny robot")
    qtbot.keyClick(prompt, key, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _generated(window) == 1, timeout=2_000)
    assert prompt.toPlainText() == "a tiny robot"  # no newline typed
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    qtbot.keyClick(window.view.viewport(), key, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _generated(window) == 2, timeout=2_000)
