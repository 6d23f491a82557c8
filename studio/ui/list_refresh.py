"""Refreshing the providers' live model and voice lists off the UI thread.

The app builds its provider registry from the cached lists only (no network on the UI
thread); at start this fetches the lists that are missing or over a day old on a thread
of its own and, when one changed, tells the window to rebuild what lists providers."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from studio.core.errors import StudioError
from studio.store.library import Library

log = logging.getLogger(__name__)


class ListRefresher(QObject):
    """``changed`` is emitted (on the UI thread) when a stored list changed."""

    changed = Signal()

    def __init__(
        self,
        library: Library,
        refresh: Callable[[Library], bool],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._library = library
        self._refresh = refresh
        self.finished = threading.Event()

    def start(self) -> None:
        threading.Thread(target=self._run, name="provider-lists", daemon=True).start()

    def _run(self) -> None:
        try:
            if self._refresh(self._library):
                self.changed.emit()
        except StudioError as exc:  # a library fault (or closed): keep the cached lists
            log.warning("could not refresh the providers' lists: %s", exc.message)
        except RuntimeError:  # the window (this object's parent) closed meanwhile
            log.info("the providers' lists were refreshed after the window closed")
        finally:
            self.finished.set()
