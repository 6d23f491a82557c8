"""What the sharing UI tests share: a real window on a studio home of its own, joining
through the Join dialog as a user pastes a link, and closing both."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt

from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from studio.ui.sharing import window as sharing_window
from tests.conftest import OWNER

WAIT_MS = 20_000


def open_window(home: Path, qtbot) -> MainWindow:  # type: ignore[no-untyped-def]
    studio = Studio(home, providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    return w


def join_in(w: MainWindow, link: str, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Join through the window's Join dialog, as a user pastes a link; the joined space opens."""
    dialog = sharing_window.open_join(w)
    dialog.link.setText(link)
    qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: w.space is not None and w.space.is_replica, timeout=WAIT_MS)


def close_window(w: MainWindow) -> None:
    studio = w.studio
    w.close()
    studio.close()
