"""A joined space's originals, fetched from its host when the details first show them
(once per variant, however often asked). While the host is out of reach (or the link
is still connecting) a fetch waits and the previews say so ("Offline — …"); it starts
when the link is live again. A fetch cut by a lost connection waits the same way."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

from studio.sync.link import LinkState
from studio.ui.details import remote_media

if TYPE_CHECKING:
    from studio.ui.details.full_view import AssetDetailsDialog
    from studio.ui.sharing.controller import SharingController


class Originals(QObject):
    def __init__(self, sharing: SharingController) -> None:
        super().__init__(sharing)
        self._sharing = sharing
        self._waiting: dict[str, list[Callable[[], None]]] = {}  # variant id -> when here
        self._held: set[str] = set()  # waiting for the link to be live
        self._live = False
        self._offline = False
        sharing.win.inspector.full_view_opened.connect(self._dialog_opened)

    def fetch(self, variant_id: str, ready: Callable[[], None]) -> bool:
        """Fetch an original of the open joined space; ``ready`` runs when it is here.
        False when the open space is not joined."""
        if self._sharing.linked is None:
            return False
        waiting = self._waiting.setdefault(variant_id, [])
        waiting.append(ready)
        if len(waiting) == 1:
            self._start(variant_id)
        return True

    def _start(self, variant_id: str) -> None:
        slug = self._sharing.linked
        if not self._live or slug is None:
            self._held.add(variant_id)
            return
        self._held.discard(variant_id)

        def here(_path: object) -> None:
            for callback in self._waiting.pop(variant_id, []):
                callback()

        def failed(exc: Exception) -> None:
            if not self._live and self._sharing.linked == slug:  # cut meanwhile: later
                self._held.add(variant_id)
                return
            self._waiting.pop(variant_id, None)
            self._sharing.win.statusBar().showMessage(
                f"Could not fetch the file from the host: {exc}", 8000
            )

        self._sharing.run(self._sharing.engine.fetch(slug, variant_id), here, failed)

    def link_state(self, state: LinkState | None) -> None:
        """The open joined space's link changed (None: it closed)."""
        self._live = state is not None and state.state == "live"
        if state is None:
            self._waiting.clear()
            self._held.clear()
        self._set_offline(state is not None and state.state in ("offline", "ended"))
        if self._live:
            for variant_id in sorted(self._held):
                self._start(variant_id)

    def _set_offline(self, offline: bool) -> None:
        self._offline = offline
        inspector = self._sharing.win.inspector
        remote_media.set_host_offline(inspector.core.preview, offline)
        for dialog in inspector.dialogs:
            remote_media.set_host_offline(dialog.core.preview, offline)

    def _dialog_opened(self, dialog: AssetDetailsDialog) -> None:
        remote_media.set_host_offline(dialog.core.preview, self._offline)
