"""Share… : start sharing a space, see where and with which certificate, make invites
(a link to copy, and a QR code), stop sharing. Not modal: the window goes on."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.sync.discovery import invite_code
from studio.sync.wire import Invite
from studio.ui.sharing.engine import ShareInfo

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController

QR_SIZE = 220
EXPIRIES = (("1 hour", 3_600_000), ("24 hours", 86_400_000), ("7 days", 7 * 86_400_000))


def short_fingerprint(fingerprint: str) -> str:
    """The first 16 hex digits in groups of four, upper case: enough to compare aloud."""
    head = fingerprint[:16].upper()
    return " ".join(head[i : i + 4] for i in range(0, 16, 4))


def qr_pixmap(text: str, scale: int = 4) -> QPixmap:
    import segno

    out = io.BytesIO()
    segno.make(text, error="m").save(out, kind="png", scale=scale, border=2)
    pixmap = QPixmap()
    pixmap.loadFromData(out.getvalue(), "PNG")
    return pixmap


class ShareDialog(QDialog):
    def __init__(
        self, sharing: SharingController, space_id: str, name: str, parent: QWidget | None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("shareDialog")
        self.setWindowTitle(f"Share “{name}”")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.sharing = sharing
        self.space_id = space_id
        intro = QLabel(
            f"People on your network can work in “{name}” with you, live. Each invite "
            "works once, for one device; you can revoke a device at any time."
        )
        intro.setWordWrap(True)
        self.where = QLabel("Not shared yet.")
        self.where.setObjectName("shareAddress")
        self.where.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.where.setWordWrap(True)
        self.start = QPushButton("Start sharing")
        self.start.setObjectName("startSharing")
        self.start.clicked.connect(self._start)
        self.stop = QPushButton("Stop sharing")
        self.stop.setObjectName("stopSharing")
        self.stop.setToolTip("Disconnects everyone; their copies stay browsable")
        self.stop.clicked.connect(self._stop)
        top = QHBoxLayout()
        top.addWidget(self.where, 1)
        top.addWidget(self.start)
        top.addWidget(self.stop)

        self.role = QComboBox()
        self.role.setObjectName("inviteRole")
        self.role.addItem("Editor — can change things", "editor")
        self.role.addItem("Viewer — sees everything, changes nothing", "viewer")
        self.expiry = QComboBox()
        self.expiry.setObjectName("inviteExpiry")
        for label, ms in EXPIRIES:
            self.expiry.addItem(label, ms)
        self.expiry.setCurrentIndex(1)
        self.make_invite = QPushButton("Create invite")
        self.make_invite.setObjectName("createInvite")
        self.make_invite.clicked.connect(self._invite)
        self.link = QLineEdit()
        self.link.setObjectName("inviteLink")
        self.link.setReadOnly(True)
        self.link.setPlaceholderText("The invite link appears here")
        self.copy = QPushButton("Copy")
        self.copy.setObjectName("copyInvite")
        self.copy.clicked.connect(self._copy)
        self.qr = QLabel()
        self.qr.setObjectName("inviteQr")
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.qr.setFixedHeight(QR_SIZE)  # room kept: the buttons never move under the mouse
        link_row = QHBoxLayout()
        link_row.addWidget(self.link, 1)
        link_row.addWidget(self.copy)
        self.code = QLineEdit()  # the link without its address: Join ▸ a host on the LAN
        self.code.setObjectName("inviteCode")
        self.code.setReadOnly(True)
        self.code.setPlaceholderText("…and its code, for a computer on this network")
        form = QFormLayout()
        form.addRow("Role:", self.role)
        form.addRow("Expires after:", self.expiry)
        self.invites = QGroupBox("Invite someone")
        box = QVBoxLayout(self.invites)
        box.addLayout(form)
        box.addWidget(self.make_invite, 0, Qt.AlignmentFlag.AlignLeft)
        box.addLayout(link_row)
        box.addWidget(self.code)
        box.addWidget(self.qr)
        self.note = QLabel()
        self.note.setObjectName("shareNote")
        self.note.setWordWrap(True)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(self.invites)
        layout.addWidget(self.note)
        layout.addWidget(close, 0, Qt.AlignmentFlag.AlignRight)
        self.resize(600, 520)
        sharing.changed.connect(self._sync)
        self._sync()

    def _sync(self) -> None:
        info = self.sharing.shared.get(self.space_id)
        self.start.setVisible(info is None)
        self.stop.setVisible(info is not None)
        self.invites.setEnabled(info is not None)
        self.invites.setTitle("Invite someone" if info else "Invite someone — start sharing first")
        if info is None:
            self.where.setText("Not shared yet.")
            return
        online = sum(p.online for p in self.sharing.people.get(self.space_id, []))
        self.where.setText(
            f"Sharing at {info.address} · certificate {short_fingerprint(info.fingerprint)}"
            f" · {online} connected"
        )

    def _start(self) -> None:
        self.start.setEnabled(False)
        self.note.setText("Starting…")

        def started(_info: ShareInfo) -> None:
            self.start.setEnabled(True)
            self.note.setText("")
            self._sync()

        self.sharing.share(self.space_id, started)

    def _stop(self) -> None:
        self.sharing.stop_sharing(self.space_id)
        self.link.clear()
        self.code.clear()
        self.qr.clear()

    def _invite(self) -> None:
        self.make_invite.setEnabled(False)
        role, ms = str(self.role.currentData()), int(self.expiry.currentData())

        def made(invite: Invite) -> None:
            self.make_invite.setEnabled(True)
            text = invite.link()
            self.link.setText(text)
            self.link.setCursorPosition(0)
            self.code.setText(invite_code(invite))
            self.code.setCursorPosition(0)
            self.qr.setPixmap(
                qr_pixmap(text).scaled(
                    QR_SIZE,
                    QR_SIZE,
                    Qt.AspectRatioMode.KeepAspectRatio,
                    Qt.TransformationMode.FastTransformation,  # crisp modules
                )
            )
            self.note.setText(
                f"Send this link to one person ({self.role.currentText().split(' —')[0].lower()}"
                f", works for {self.expiry.currentText()}). They choose File ▸ Join space… and "
                "paste it (on this network they may pick this computer and paste the code); "
                "their app checks this computer's certificate before it sends anything."
            )

        def failed(exc: Exception) -> None:
            self.make_invite.setEnabled(True)
            self.note.setText(f"Could not make an invite: {exc}")

        self.sharing.run(self.sharing.engine.invite(self.space_id, role, ms), made, failed)

    def _copy(self) -> None:
        if self.link.text():
            QGuiApplication.clipboard().setText(self.link.text())
            self.note.setText("Copied.")
