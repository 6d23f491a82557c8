"""The spaces sidebar: list, search, create, rename, delete."""

from __future__ import annotations

import datetime
from collections.abc import Callable

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.space_stats import asset_counts
from studio.core.studio import Studio
from studio.store.library import SpaceEntry
from studio.ui.widgets import ask_text, tool_button

ID_ROLE = Qt.ItemDataRole.UserRole
RELABEL_MS = 30_000
"""How often "… min ago" is brought up to date."""


def _now() -> datetime.datetime:
    return datetime.datetime.now()


def _ago(ms: int | None) -> str:
    if not ms:
        return "never opened"
    when = datetime.datetime.fromtimestamp(ms / 1000)
    delta = _now() - when
    if delta.days >= 1:
        return when.strftime("%d %b %Y")
    if delta.seconds >= 3600:
        return f"{delta.seconds // 3600} h ago"
    if delta.seconds >= 60:
        return f"{delta.seconds // 60} min ago"
    return "just now"


class SpacesPanel(QWidget):
    open_requested = Signal(str)  # space id
    deleted = Signal(str)  # space id
    renamed = Signal(str)  # space id

    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.studio = studio
        self.search = QLineEdit(placeholderText="Search spaces")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._apply_filter)
        self.list = QListWidget()
        self.list.setObjectName("spacesList")
        self.list.itemActivated.connect(self._activated)
        self.list.itemClicked.connect(self._activated)
        buttons = QHBoxLayout()
        for text, tip, slot in (
            ("New", "New space (Ctrl+N)", self.create_space),
            ("Rename", "Rename the selected space", self.rename_current),
            (
                "Delete",
                "Delete the selected space (moves it to the trash folder)",
                self.delete_current,
            ),
        ):
            b = tool_button(text, tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.search)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        self._counts: dict[str, int] = {}
        self.describe: Callable[[str], str] = lambda _slug: ""
        """Extra words for a space's line (a joined space: "remote · host · state")."""
        self.leave: Callable[[str], None] | None = None
        """Leaves a joined space (its slug) instead of deleting it; None: no sharing here."""
        self._clock = QTimer(self)  # "1 min ago" must not stay "1 min ago"
        self._clock.setInterval(RELABEL_MS)
        self._clock.timeout.connect(self.relabel)
        self._clock.start()

    def stop_clock(self) -> None:
        """No more relabelling (the window closes; its studio may close before it goes)."""
        self._clock.stop()

    def relabel(self) -> None:
        """Every line again, with fresh "… ago" times (the list is small)."""
        try:
            entries = {e.id: e for e in self.studio.spaces()}
        except StudioError:  # the library is closed (the window is going) or unreadable
            self._clock.stop()
            return
        for i in range(self.list.count()):
            item = self.list.item(i)
            self._label(item, entries.get(str(item.data(ID_ROLE))))

    def set_count(self, space_id: str, count: int) -> None:
        self._counts[space_id] = count
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == space_id:
                self._label(item, self._entry(space_id))

    def _entry(self, space_id: str) -> SpaceEntry | None:
        return next((e for e in self.studio.spaces() if e.id == space_id), None)

    def _label(self, item: QListWidgetItem, entry: SpaceEntry | None) -> None:
        if entry is None:
            return
        count = self._counts.get(entry.id)
        assets = "" if count is None else f"{count} asset{'s' if count != 1 else ''} · "
        extra = self.describe(entry.slug)
        item.setText(
            f"{entry.name}\n{assets}{_ago(entry.last_opened_at)}" + (f"\n{extra}" if extra else "")
        )
        item.setToolTip(f"{entry.name} ({entry.slug})" + (f" — {extra}" if extra else ""))

    def refresh(self, select_id: str | None = None) -> None:
        """List the spaces again, with each one's asset count read from its file."""
        try:
            self._counts.update(asset_counts(self.studio))
        except StudioError:  # the library could not be read: the list below says so
            pass
        self.list.clear()
        for entry in sorted(self.studio.spaces(), key=lambda e: e.name.lower()):
            item = QListWidgetItem()
            item.setData(ID_ROLE, entry.id)
            self._label(item, entry)
            self.list.addItem(item)
            if entry.id == select_id:
                self.list.setCurrentItem(item)
        self._apply_filter(self.search.text())

    def show_opened(self, space_id: str) -> None:
        """``space_id`` was just opened: select its line and relabel the list (its
        "opened" time), without reading any space file (the window's status counts the
        open space's assets from its snapshot: ``set_count``)."""
        if not any(self.list.item(i).data(ID_ROLE) == space_id for i in range(self.list.count())):
            self.refresh(space_id)  # a space the list does not show yet
            return
        self.relabel()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.data(ID_ROLE) == space_id:
                self.list.setCurrentItem(item)

    def _apply_filter(self, text: str) -> None:
        needle = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(needle) and needle not in item.text().lower())

    def _activated(self, item: QListWidgetItem) -> None:
        self.open_requested.emit(item.data(ID_ROLE))

    def current_id(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(ID_ROLE))

    def create_space(self) -> None:
        name = ask_text(self, "New space", "Name:", "Untitled space")
        if name is None:
            return
        try:
            entry = self.studio.create_space(name)
        except StudioError as exc:
            QMessageBox.warning(self, "New space", exc.message)
            return
        self.refresh(entry.id)
        self.open_requested.emit(entry.id)

    def rename_current(self) -> None:
        sid = self.current_id()
        entry = self._entry(sid) if sid else None
        if entry is None:
            return
        name = ask_text(self, "Rename space", "Name:", entry.name)
        if name is None:
            return
        try:
            self.studio.rename_space(entry.id, name)
        except StudioError as exc:
            QMessageBox.warning(self, "Rename space", exc.message)
            return
        self.refresh(entry.id)
        self.renamed.emit(entry.id)

    def delete_current(self) -> None:
        sid = self.current_id()
        entry = self._entry(sid) if sid else None
        if entry is None:
            return
        joined = self.leave is not None and bool(self.describe(entry.slug))
        title, text = ("Leave space", f"Leave “{entry.name}”?\n\nIts copy on this computer "
            "moves to the trash folder; the host keeps the space, and a new invite joins it "
            "again.") if joined else ("Delete space", f"Delete “{entry.name}”?\n\nIts file "
            f"and media move to the trash folder in {self.studio.paths.trash_dir}, where they "
            "can be recovered by hand.")  # fmt: skip
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        self.deleted.emit(entry.id)  # the window closes it first
        try:
            if joined and self.leave is not None:
                self.leave(entry.slug)
            else:
                self.studio.delete_space(entry.id)
        except (StudioError, OSError) as exc:
            QMessageBox.warning(self, "Delete space", str(exc))
        self.refresh()
