"""Undo and redo of one's own steps on a joined space: the host keeps each device's
history (a replica has none), so the undo list shows the steps this window sent this
session, and Undo/Redo ask the host to undo or redo this device's latest step. A step
someone else changed since is refused by the host, and the window says so."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand


class RemoteStep(QUndoCommand):
    def __init__(self, text: str, travel: Callable[[str, str], None]) -> None:
        """``travel(action, text)``: ask the host to undo or redo (async)."""
        super().__init__(text)
        self._travel = travel
        self._applied = True  # pushed after the host applied it: the first redo is a no-op

    def redo(self) -> None:
        if self._applied:
            self._applied = False
            return
        self._travel("redo", self.text())

    def undo(self) -> None:
        self._travel("undo", self.text())
