"""Files crossing the canvas's border: drops from other applications (imported where
they land; onto a card, as new variants of it) and cards dragged out to other
applications (a file drag of their active variants' original files)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDrag, QDragMoveEvent, QDropEvent

from studio.ui.canvas.geometry import TIER_FULL, TIER_LOW

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView


def local_paths(data: QMimeData | None) -> list[Path]:
    if data is None or not data.hasUrls():
        return []
    return [Path(u.toLocalFile()) for u in data.urls() if u.isLocalFile()]


class FileTransfer:
    def __init__(self, view: CanvasView) -> None:
        self.view = view
        self.exporting = False  # our own drag is out: never import it back

    def _paths(self, e: QDropEvent) -> list[Path]:
        return [] if self.exporting else local_paths(e.mimeData())

    def enter(self, e: QDropEvent) -> None:
        if self._paths(e):
            e.setDropAction(Qt.DropAction.CopyAction)
            e.accept()
        else:
            e.ignore()

    def move(self, e: QDragMoveEvent) -> None:
        paths = self._paths(e)
        if not paths:
            e.ignore()
            return
        view = self.view
        card = view.canvas_scene.card_at(view.to_scene(e.position()))
        view.canvas_scene.set_drop_target(card.asset.id if card is not None else None)
        n = f"{len(paths)} files" if len(paths) > 1 else "the file"
        view.drag.set_hint(f"Add {n} to “{card.asset.name}”" if card else "", e.position())
        e.setDropAction(Qt.DropAction.CopyAction)
        e.accept()

    def leave(self) -> None:
        self.view.canvas_scene.set_drop_target(None)
        self.view.drag.set_hint("", QPointF())

    def drop(self, e: QDropEvent) -> None:
        paths = self._paths(e)
        self.leave()
        if not paths:
            e.ignore()
            return
        view = self.view
        sp = view.to_scene(e.position())
        card = view.canvas_scene.card_at(sp)
        into = card.asset.id if card is not None else None
        view.canvas_actions.import_files(paths, sp.x(), sp.y(), into=into)
        e.setDropAction(Qt.DropAction.CopyAction)
        e.accept()

    def export(self, ids: list[str]) -> bool:
        """Drag the cards' original files out (blocks in ``QDrag.exec`` until dropped)."""
        view = self.view
        mime = view.canvas_actions.external_mime(ids)
        if mime is None:
            return False
        drag = QDrag(view)
        drag.setMimeData(mime)
        card = view.canvas_scene.card(ids[0])
        if card is not None and card.thumb is not None:
            thumbs = view.canvas_scene.thumbs
            pm = thumbs.peek(card.thumb, TIER_LOW) or thumbs.peek(card.thumb, TIER_FULL)
            if pm is not None:
                drag.setPixmap(pm.scaled(96, 96, Qt.AspectRatioMode.KeepAspectRatio))
        self.exporting = True
        try:
            drag.exec(Qt.DropAction.CopyAction)
        finally:
            self.exporting = False
        return True
