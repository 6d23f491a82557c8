"""The People panel: the devices the open space was shared with — online or not, role,
last seen, what each is looking at — with Revoke and Share…/Stop sharing."""

from __future__ import annotations

import datetime
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from studio.store.sharing import Device
from studio.ui.sharing import faces
from studio.ui.sharing.engine import Person

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController

ID_ROLE = Qt.ItemDataRole.UserRole


def _seen(ms: int | None) -> str:
    if not ms:
        return "never connected"
    when = datetime.datetime.fromtimestamp(ms / 1000)
    if when.date() == datetime.date.today():
        return when.strftime("seen %H:%M")
    return when.strftime("seen %d %b")


class PeoplePanel(QWidget):
    def __init__(self, sharing: SharingController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sharing = sharing
        self.space_id: str | None = None
        self.name_of: Callable[[str], str] = lambda asset_id: asset_id
        """An asset's name, for "Looking at" (the window's canvas knows them)."""
        self.empty = QLabel()
        self.empty.setObjectName("peopleEmpty")
        self.empty.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setObjectName("peopleList")
        self.list.setHeaderLabels(["Name", "Role", "Status", "Looking at"])
        self.list.setRootIsDecorated(False)
        self.revoke = QPushButton("Revoke")
        self.revoke.setObjectName("revokeDevice")
        self.revoke.setToolTip("Disconnect this device for good; it needs a new invite")
        self.revoke.clicked.connect(self._revoke)
        self.share = QPushButton("Share…")
        self.share.setObjectName("peopleShare")
        self.stop = QPushButton("Stop sharing")
        self.stop.setObjectName("peopleStop")
        self.stop.clicked.connect(self._stop)
        buttons = QHBoxLayout()
        buttons.addWidget(self.revoke)
        buttons.addStretch(1)
        buttons.addWidget(self.share)
        buttons.addWidget(self.stop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.empty)
        layout.addWidget(self.list, 1)
        layout.addLayout(buttons)
        sharing.changed.connect(self.refresh)
        self.refresh()

    def set_space(self, space_id: str | None) -> None:
        self.space_id = space_id
        self.refresh()

    def refresh(self) -> None:
        sid = self.space_id
        shared = sid is not None and sid in self.sharing.shared
        people = self.sharing.people.get(sid, []) if sid is not None else []
        self.stop.setVisible(shared)
        self.share.setVisible(not shared and sid is not None)
        if sid is None:
            self.empty.setText("Open a space to see who it is shared with.")
        elif not shared:
            self.empty.setText(
                "This space is not shared. Share… lets people on your network join it."
            )
        elif not people:
            self.empty.setText("Shared. Nobody has joined yet: create an invite in Share….")
        else:
            online = sum(p.online for p in people)
            self.empty.setText(f"{online} of {len(people)} device(s) connected.")
        selected = self._selected()
        self.list.clear()
        for p in sorted(people, key=lambda p: (not p.online, p.device.name.lower())):
            item = self._item(p)
            self.list.addTopLevelItem(item)
            if p.device.id == selected:
                self.list.setCurrentItem(item)
        for column in range(3):
            self.list.resizeColumnToContents(column)
        self.revoke.setEnabled(bool(people))

    def _item(self, p: Person) -> QTreeWidgetItem:
        d = p.device
        if d.revoked_at is not None:
            status = "revoked"
        else:
            status = "online" if p.online else _seen(d.last_seen_at)
        viewing = self.name_of(p.viewing) if p.online and p.viewing else ""
        if p.online and p.selection:
            viewing = (viewing + " · " if viewing else "") + f"{len(p.selection)} selected"
        item = QTreeWidgetItem([d.name, d.role, status, viewing])
        item.setIcon(0, faces.icon(faces.avatar(d.id, d.name)))  # as on the cards
        item.setData(0, ID_ROLE, d.id)
        item.setToolTip(0, f"device {d.id}")
        return item

    def _selected(self) -> str | None:
        item = self.list.currentItem()
        return None if item is None else str(item.data(0, ID_ROLE))

    def _revoke(self) -> None:
        item, sid = self.list.currentItem(), self.space_id
        if item is None or sid is None:
            return
        device_id, name = str(item.data(0, ID_ROLE)), item.text(0)
        answer = QMessageBox.question(
            self,
            "Revoke device",
            f"Disconnect “{name}” for good? Its copy of the space stays on that computer, "
            "but it can no longer see changes or make them.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.revoke_device(sid, device_id)

    def revoke_device(self, space_id: str, device_id: str) -> None:
        def done(_device: Device) -> None:
            self.sharing.refresh_people()

        self.sharing.run(self.sharing.engine.revoke(space_id, device_id), done)

    def _stop(self) -> None:
        if self.space_id is not None:
            self.sharing.stop_sharing(self.space_id)
