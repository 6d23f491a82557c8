"""Core events to Qt signals, on the main thread.

The core publishes events on whatever thread committed the command (a job's worker
thread, the main thread). ``EventBridge.core_event`` is emitted from there; Qt queues it to
the bridge's (main) thread, so slots connected to it always run on the main thread.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from studio.core.events import Event
from studio.core.space import Space


class EventBridge(QObject):
    core_event = Signal(object)  # studio.core.events.Event

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._unsubscribe: Callable[[], None] | None = None

    def attach(self, space: Space) -> None:
        self.detach()
        self._unsubscribe = space.subscribe(self._publish)

    def detach(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None

    def _publish(self, event: Event) -> None:
        self.core_event.emit(event)
