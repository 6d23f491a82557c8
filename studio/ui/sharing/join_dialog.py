"""Join space… : paste an invite link, give this device a name, join. The space then
shows in the spaces list as remote and opens like any other."""

from __future__ import annotations

import getpass
import socket
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.store.library import SpaceEntry

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController


def default_device_name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    host = socket.gethostname().split(".")[0]
    return f"{user} on {host}" if user and host else (user or host or "my computer")


class JoinDialog(QDialog):
    joined = Signal(object)  # SpaceEntry

    def __init__(self, sharing: SharingController, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName("joinDialog")
        self.setWindowTitle("Join a shared space")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.sharing = sharing
        intro = QLabel(
            "Paste the invite link someone sent you (it starts with forge+wss://). Your app "
            "checks the other computer's certificate against the link before it sends anything."
        )
        intro.setWordWrap(True)
        self.link = QLineEdit()
        self.link.setObjectName("joinLink")
        self.link.setPlaceholderText("forge+wss://…")
        self.link.textChanged.connect(self._changed)
        self.name = QLineEdit(default_device_name())
        self.name.setObjectName("joinName")
        self.name.setMaxLength(64)
        form = QFormLayout()
        form.addRow("Invite link:", self.link)
        form.addRow("This device's name:", self.name)
        self.status = QLabel()
        self.status.setObjectName("joinStatus")
        self.status.setWordWrap(True)
        self.go = QPushButton("Join")
        self.go.setObjectName("joinButton")
        self.go.setDefault(True)
        self.go.setEnabled(False)
        self.go.clicked.connect(self._join)
        cancel = QPushButton("Cancel")
        cancel.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(cancel)
        buttons.addWidget(self.go)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(form)
        layout.addWidget(self.status)
        layout.addLayout(buttons)
        self.resize(520, 220)

    def _changed(self, text: str) -> None:
        self.go.setEnabled(text.strip().startswith("forge+wss://"))
        self.status.clear()

    def _join(self) -> None:
        self.go.setEnabled(False)
        self.link.setEnabled(False)
        self.status.setText("Joining… (checking the host, then copying the space)")
        self.sharing.join(
            self.link.text().strip(), self.name.text().strip() or "peer", self._done, self._failed
        )

    def _done(self, entry: SpaceEntry) -> None:
        self.status.setText(f"Joined “{entry.name}”.")
        self.joined.emit(entry)
        self.close()

    def _failed(self, exc: Exception) -> None:
        self.go.setEnabled(True)
        self.link.setEnabled(True)
        message = exc.message if isinstance(exc, StudioError) else str(exc)
        self.status.setText(f"Could not join: {message}")
