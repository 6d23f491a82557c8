"""Help ▸ Keyboard shortcuts and Help ▸ About.

The shortcuts list is read from the window's menu bar each time it opens (every
``QAction`` with a shortcut, grouped by its menu), so it cannot drift from the menus.
The canvas's own keys (not menu actions) are listed from ``CANVAS_KEYS``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio import appinfo

CANVAS_KEYS: tuple[tuple[str, str], ...] = (
    ("Zoom around the pointer", "Wheel / Ctrl+Wheel"),
    ("Pan", "Middle-drag / Space+drag"),
    ("Zoom 1:1", "0"),
    ("Nudge the selection (further)", "Arrows (Shift+Arrows)"),
    ("Clear the selection", "Esc"),
    ("Open an asset's details", "Double-click"),
)
"""Canvas keys handled by the view itself (``canvas.keys``), not by menu actions."""


@dataclass(frozen=True, slots=True)
class Shortcut:
    group: str
    """The menu path, e.g. "View ▸ Arrange"."""
    text: str
    keys: str
    """Every shortcut of the action, in the platform's words, joined by ", "."""


def _plain(text: str) -> str:
    """A menu text without its mnemonic ampersands and trailing "…"."""
    return text.replace("&&", "\0").replace("&", "").replace("\0", "&").rstrip("…").strip()


def _walk(menu: QMenu, group: str, out: list[Shortcut]) -> None:
    for action in menu.actions():
        sub = action.menu()
        if isinstance(sub, QMenu):
            _walk(sub, f"{group} ▸ {_plain(sub.title())}", out)
            continue
        if action.isSeparator():
            continue
        keys = [
            s.toString(QKeySequence.SequenceFormat.NativeText)
            for s in action.shortcuts()
            if not s.isEmpty()
        ]
        if keys:
            out.append(Shortcut(group, _plain(action.text()), ", ".join(keys)))


def menu_shortcuts(window: QMainWindow) -> list[Shortcut]:
    """Every menu action with a shortcut, in menu order."""
    out: list[Shortcut] = []
    for action in window.menuBar().actions():
        menu = action.menu()
        if isinstance(menu, QMenu):
            _walk(menu, _plain(menu.title()), out)
    return out


class ShortcutsDialog(QDialog):
    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("shortcutsDialog")
        self.setWindowTitle("Keyboard shortcuts")
        self.tree = QTreeWidget()
        self.tree.setObjectName("shortcutsTree")
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Action", "Shortcut"])
        self.tree.setRootIsDecorated(False)
        groups: dict[str, QTreeWidgetItem] = {}
        for s in menu_shortcuts(window):
            parent = groups.get(s.group)
            if parent is None:
                parent = groups[s.group] = self._group(s.group)
            QTreeWidgetItem(parent, [s.text, s.keys])
        canvas = self._group("Canvas")
        for text, keys in CANVAS_KEYS:
            QTreeWidgetItem(canvas, [text, keys])
        self.tree.expandAll()
        self.tree.resizeColumnToContents(0)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tree)
        layout.addWidget(buttons)
        self.resize(560, 620)

    def _group(self, title: str) -> QTreeWidgetItem:
        item = QTreeWidgetItem(self.tree, [title, ""])
        item.setFirstColumnSpanned(True)
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsSelectable)
        font = item.font(0)
        font.setBold(True)
        item.setFont(0, font)
        return item

    def rows(self) -> list[tuple[str, str, str]]:
        """(group, action, keys) as shown (for tests and screen readers)."""
        out = []
        for i in range(self.tree.topLevelItemCount()):
            group = self.tree.topLevelItem(i)
            if group is None:
                continue
            for j in range(group.childCount()):
                row = group.child(j)
                if row is not None:
                    out.append((group.text(0), row.text(0), row.text(1)))
        return out


def version() -> str:
    """The running code's version (``studio.__version__``)."""
    return appinfo.version()


def about_text(data_folder: str) -> str:
    """The About box's text: the version, what it runs on, the data folder."""
    v = appinfo.versions()
    return (
        f"Forge Studio {v['Forge Studio']}\n"
        "A local AI asset studio: spaces of images, sound, music, voice and video.\n\n"
        f"Qt {v['Qt']} · PySide6 {v['PySide6']} · Python {v['Python']}\n"
        f"Data folder: {data_folder}\n"
        f"Logs and crash reports: {Path(data_folder) / 'logs'}"
    )


def show_about(parent: QWidget, data_folder: str) -> QMessageBox:
    """A non-modal About box (it closes itself)."""
    box = QMessageBox(QMessageBox.Icon.Information, "About Forge Studio", about_text(data_folder))
    box.setParent(parent, box.windowFlags())
    box.setObjectName("aboutBox")
    box.setModal(False)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.show()
    return box


def show_shortcuts(window: QMainWindow) -> ShortcutsDialog:
    dialog = ShortcutsDialog(window)
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    dialog.show()
    return dialog


__all__ = [
    "Shortcut",
    "ShortcutsDialog",
    "about_text",
    "menu_shortcuts",
    "show_about",
    "show_shortcuts",
    "version",
]
