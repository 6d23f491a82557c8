"""Showing a folder to the user: in the system's file manager, or — where there is none
(a bare desktop, a container) — in one non-modal message with the path and a button
that copies it. File ▸ Open data folder, Preferences and Reveal all go through here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

Opener = Callable[[Path], bool]

MESSAGE_NAME = "folderMessage"


def system_open(path: Path) -> bool:
    """Ask the desktop to open ``path`` (False: no file manager answered)."""
    return bool(QDesktopServices.openUrl(QUrl.fromLocalFile(str(path))))


def show_folder(parent: QWidget, path: Path, opener: Opener = system_open) -> bool:
    """Open ``path`` in the file manager; if that fails, show one non-modal message
    with the path and a Copy button (an older one of these closes first). True if the
    file manager took it."""
    if opener(path):
        return True
    old = parent.findChild(QMessageBox, MESSAGE_NAME)
    if old is not None:
        old.close()
        old.setObjectName("")
    box = QMessageBox(
        QMessageBox.Icon.Information,
        "Forge Studio",
        f"No file manager could be opened. The folder is:\n{path}",
        parent=parent,
    )
    box.setObjectName(MESSAGE_NAME)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    copy = box.addButton("Copy path", QMessageBox.ButtonRole.ActionRole)
    copy.setObjectName("copyPath")
    copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(str(path)))
    box.addButton(QMessageBox.StandardButton.Close)
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.show()
    return False
