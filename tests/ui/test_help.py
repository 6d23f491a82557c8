"""Help ▸ Keyboard shortcuts (read from the menus, so it cannot drift) and Help ▸ About."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMessageBox

from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.help_dialog import ShortcutsDialog
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


def _help_action(window: MainWindow, name: str) -> QAction:
    menus = [a.menu() for a in window.menuBar().actions()]
    (help_,) = [m for m in menus if isinstance(m, QMenu) and m.title() == "&Help"]
    (action,) = [a for a in help_.actions() if a.objectName() == name]
    return action


def _open_shortcuts(window: MainWindow) -> ShortcutsDialog:
    _help_action(window, "shortcuts").trigger()
    dialogs = [d for d in window.findChildren(ShortcutsDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[-1]


def _native(key: str) -> str:
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText)


def test_shortcuts_dialog_lists_the_menu_actions_grouped_by_menu(window: MainWindow) -> None:
    dialog = _open_shortcuts(window)
    rows = dialog.rows()
    assert ("Edit", "Undo", _native("Ctrl+Z")) in rows
    assert ("Edit", "Redo", f"{_native('Ctrl+Shift+Z')}, {_native('Ctrl+Y')}") in rows
    assert ("File", "Import", _native("Ctrl+I")) in rows
    assert ("View", "Open asset details", _native("Ctrl+D")) in rows
    assert ("Generate", "Generate", f"{_native('Ctrl+Return')}, {_native('Ctrl+Enter')}") in rows
    arrange = [r for r in rows if r[0].startswith("View ▸ Arrange")]
    assert ("By kind", _native("Ctrl+Shift+A")) in [(r[1], r[2]) for r in arrange]
    # every menu action that has a shortcut is listed, once
    listed = [r[1] for r in rows]
    for action in window.menuBar().findChildren(QAction):
        if action.shortcut().isEmpty() or action.isSeparator() or action.menu() is not None:
            continue
        text = action.text().replace("&", "").rstrip("…").strip()
        assert listed.count(text) == 1, text
    # the canvas's own keys are there too
    assert any(r[0] == "Canvas" and r[1] == "Clear the selection" for r in rows)
    assert not dialog.isModal()
    dialog.close()


def test_shortcuts_follow_the_menus(window: MainWindow) -> None:
    """A new menu action with a shortcut shows up without touching the dialog."""
    menus = [a.menu() for a in window.menuBar().actions()]
    (edit,) = [m for m in menus if isinstance(m, QMenu) and m.title() == "&Edit"]
    extra = QAction("&Shuffle cards…", window)
    extra.setShortcut(QKeySequence("Ctrl+Alt+K"))
    edit.addAction(extra)
    assert ("Edit", "Shuffle cards", _native("Ctrl+Alt+K")) in _open_shortcuts(window).rows()


def test_about_shows_the_version_without_blocking(window: MainWindow) -> None:
    _help_action(window, "about").trigger()
    boxes = [b for b in window.findChildren(QMessageBox, "aboutBox") if b.isVisible()]
    assert len(boxes) == 1
    (box,) = boxes
    assert not box.isModal()
    assert f"Forge Studio {metadata.version('forge-studio')}" in box.text()
    assert str(window.studio.paths.home) in box.text()
    box.close()
