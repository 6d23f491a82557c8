"""Join space… : paste an invite link — or pick a host found on this network (mDNS) and
paste only the invite code — give this device a name, join. The space then shows in the
spaces list as remote and opens like any other.

The hosts are looked for on the sharing engine's loop (never on the UI thread) while the
dialog is open, for at most :data:`~studio.sync.discovery.BROWSE_MAX_S`; the list follows
them as they come and go, through queued signals. A LAN answer is spoofable, so it only
says *where* to connect: the invite code carries the certificate's full fingerprint,
pinned as a link's is (see :mod:`studio.sync.discovery`)."""

from __future__ import annotations

import getpass
import socket
from concurrent.futures import Future
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import (
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.store.library import SpaceEntry
from studio.sync.discovery import Announcement, Browse, announce_interfaces, invite_from_code
from studio.sync.wire import SCHEME
from studio.ui.sharing.share_dialog import short_fingerprint

if TYPE_CHECKING:
    from studio.ui.sharing.controller import SharingController

HOST_ROLE = Qt.ItemDataRole.UserRole + 1
LINK_START = f"{SCHEME}://"


def default_device_name() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = ""
    host = socket.gethostname().split(".")[0]
    return f"{user} on {host}" if user and host else (user or host or "my computer")


def host_line(host: Announcement) -> str:
    return (
        f"{host.name or 'Forge Studio'} — {host.address()} · certificate "
        f"{short_fingerprint(host.fingerprint)}"
    )


class JoinDialog(QDialog):
    joined = Signal(object)  # SpaceEntry

    def __init__(self, sharing: SharingController, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName("joinDialog")
        self.setWindowTitle("Join a shared space")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.sharing = sharing
        self.found: list[Announcement] = []
        self._browse: Browse | None = None
        self._closed = False  # results still on their way find a closed dialog
        intro = QLabel(
            "Paste the invite link someone sent you (it starts with forge+wss://), or pick "
            "their computer below and paste the invite code. Your app checks the other "
            "computer's certificate against the invite before it sends anything."
        )
        intro.setWordWrap(True)
        self.hosts = QListWidget()
        self.hosts.setObjectName("joinHosts")
        self.hosts.setMaximumHeight(110)
        self.hosts.itemSelectionChanged.connect(self._picked_changed)
        self.look_again = QPushButton("Look again")
        self.look_again.setObjectName("joinLookAgain")
        self.look_again.setEnabled(False)
        self.look_again.clicked.connect(self.start_looking)
        self.looking = QLabel()
        self.looking.setObjectName("joinLooking")
        self.looking.setStyleSheet("color: #9aa3b2;")
        self.link = QLineEdit()
        self.link.setObjectName("joinLink")
        self.link.setPlaceholderText("forge+wss://…  or an invite code")
        self.link.textChanged.connect(self._changed)
        self.name = QLineEdit(default_device_name())
        self.name.setObjectName("joinName")
        self.name.setMaxLength(64)
        lan = QHBoxLayout()
        lan.addWidget(self.looking, 1)
        lan.addWidget(self.look_again)
        form = QFormLayout()
        form.addRow("On this network:", self.hosts)
        form.addRow("", lan)
        form.addRow("Invite link or code:", self.link)
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
        self.resize(620, 340)
        self.start_looking()

    # ------------------------------------------------------------------ the LAN
    def start_looking(self) -> None:
        """Look for hosts on this network (on the engine's loop, bounded in time)."""
        if self._browse is not None:
            return
        engine = self.sharing.engine
        interfaces = announce_interfaces(self.sharing.bind)
        browse, fut = engine.browse(self.sharing.post(self.show_hosts), interfaces)
        self._browse = browse
        ended = self.sharing.post(self._looking_ended)
        fut.add_done_callback(lambda f: ended((browse, f)))
        self.look_again.setEnabled(False)
        self.looking.setText("Looking for computers sharing spaces on this network…")

    def show_hosts(self, hosts: list[Announcement]) -> None:
        """The hosts found now (on the UI thread); the one picked stays picked."""
        if self._closed:
            return
        picked = self.picked()
        self.found = list(hosts)
        self.hosts.clear()
        for host in hosts:
            item = QListWidgetItem(host_line(host))
            item.setData(HOST_ROLE, host)
            item.setToolTip(f"Host id {host.host_id}; {host.spaces} shared space(s)")
            self.hosts.addItem(item)
            if picked is not None and host.host_id == picked.host_id:
                item.setSelected(True)
        self._update_go()

    def _looking_ended(self, got: tuple[Browse, Future[None]]) -> None:
        browse, fut = got
        if self._closed or browse is not self._browse:
            return
        self._browse = None
        self.look_again.setEnabled(True)
        exc = fut.exception() if not fut.cancelled() else None
        if exc is not None:
            message = exc.message if isinstance(exc, StudioError) else str(exc)
            self.looking.setText(f"Could not look on this network ({message}); a link works.")
        else:
            self.looking.setText("Stopped looking; the list shows what was found.")

    def stop_looking(self) -> None:
        browse, self._browse = self._browse, None
        if browse is not None and self.sharing._engine is not None:
            self.sharing.engine.stop_browse(browse)

    def picked(self) -> Announcement | None:
        items = self.hosts.selectedItems()
        host = items[0].data(HOST_ROLE) if items else None
        return host if isinstance(host, Announcement) else None

    def pick(self, host_id: str) -> bool:
        for i in range(self.hosts.count()):
            item = self.hosts.item(i)
            host = item.data(HOST_ROLE)
            if isinstance(host, Announcement) and host.host_id == host_id:
                self.hosts.setCurrentItem(item)
                item.setSelected(True)
                return True
        return False

    # ------------------------------------------------------------------ joining
    def _picked_changed(self) -> None:
        self._update_go()

    def _changed(self, _text: str) -> None:
        self.status.clear()
        self._update_go()

    def _update_go(self) -> None:
        """Join needs a link, or a code and a picked host — and no join under way."""
        text = self.link.text().strip()
        ready = text.startswith(LINK_START) or (bool(text) and self.picked() is not None)
        self.go.setEnabled(ready and self.link.isEnabled())

    def _join(self) -> None:
        text = self.link.text().strip()
        link = text
        if not text.startswith(LINK_START):
            host = self.picked()
            if host is None:
                self.status.setText("Pick the computer that invited you, or paste the link.")
                return
            try:
                link = invite_from_code(text, host).link()
            except StudioError as exc:
                self.status.setText(f"Could not join: {exc.message}")
                return
        self.go.setEnabled(False)
        self.link.setEnabled(False)
        self.status.setText("Joining… (checking the host, then copying the space)")
        self.sharing.join(link, self.name.text().strip() or "peer", self._done, self._failed)

    def _done(self, entry: SpaceEntry) -> None:
        if self._closed:
            return
        self.status.setText(f"Joined “{entry.name}”.")
        self.joined.emit(entry)
        self.close()

    def _failed(self, exc: Exception) -> None:
        if self._closed:
            return
        self.link.setEnabled(True)
        self._update_go()
        message = exc.message if isinstance(exc, StudioError) else str(exc)
        self.status.setText(f"Could not join: {message}")

    def _ending(self) -> None:
        self._closed = True
        self.stop_looking()

    def done(self, result: int) -> None:
        """Esc and the dialog buttons end here (Qt gives no close event then): the LAN
        browse stops and late answers find the dialog closed."""
        self._ending()
        super().done(result)

    def closeEvent(self, event: QCloseEvent) -> None:
        self._ending()
        super().closeEvent(event)
