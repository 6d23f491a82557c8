"""Showing a folder to the user: in the system's file manager, or — where there is none
(a bare desktop, a container) — in one non-modal message with the path and a button
that copies it. File ▸ Open data folder, Preferences and Reveal all go through here."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import QMessageBox, QWidget

from studio.core import settings
from studio.core.settings import SettingsStore

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


class FolderMemory:
    """The folder each file dialog starts in: the one last used for it (kept in
    ``library.db`` across restarts), else a sensible default — the home folder for
    imports, the data folder's ``exports/`` for exports."""

    def __init__(self, store: SettingsStore, home: Path, exports: Path) -> None:
        self._store = store
        self._defaults = {settings.IMPORT_FOLDER: home, settings.EXPORT_FOLDER: exports}

    def start(self, key: str) -> Path:
        """Where the dialog for ``key`` (``settings.IMPORT_FOLDER`` / ``EXPORT_FOLDER``)
        opens: the remembered folder if it still exists."""
        got = settings.get_or(self._store, key, None)
        if isinstance(got, str) and Path(got).is_dir():
            return Path(got)
        fallback = self._defaults[key]
        if key == settings.EXPORT_FOLDER:
            try:
                fallback.mkdir(parents=True, exist_ok=True)
            except OSError:
                return Path.home()
        return fallback

    def remember(self, key: str, chosen: Path) -> None:
        """The user picked ``chosen`` (a file): next time start in its folder."""
        settings.remember(self._store, key, str(chosen.parent.absolute()))
