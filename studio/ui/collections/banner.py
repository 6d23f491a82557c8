"""A collection opened as a view of the canvas: only its members are shown, under a
banner "Collection: X — Show all" above the canvas."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from studio.ui.bulk_actions import assets
from studio.ui.widgets import named

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView


class CollectionBanner(QWidget):
    """Says which collection the canvas shows; its button shows every card again."""

    show_all = Signal()

    def __init__(self, view: CanvasView, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("collectionBanner")
        self.view = view
        self.collection_id = ""
        self.label = named(QLabel(""), "collectionBannerText")
        self.button = named(QPushButton("Show all"), "collectionShowAll")
        self.button.setToolTip("Show every card of the space again")
        self.button.clicked.connect(self.show_all.emit)
        self.setStyleSheet(
            "#collectionBanner { background: #2b3a55; } #collectionBannerText { color: #eceef2; }"
        )
        self.setAutoFillBackground(True)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 4, 6, 4)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.button)
        self.hide()

    def show_collection(self, collection_id: str, name: str, ids: Sequence[str]) -> None:
        """Show only ``ids`` on the canvas ("" collection: every card). Opening another
        collection fits the view to its cards; a change of the open one's members just
        follows."""
        scene = self.view.canvas_scene
        if not collection_id:
            was_open = bool(self.collection_id)
            self.collection_id = ""
            scene.set_scope(None)
            self.hide()
            if was_open:
                self.view.fit_all()
            return
        fresh = collection_id != self.collection_id
        self.collection_id = collection_id
        scene.set_scope(ids)
        shown = f"{assets(len(ids))}" if ids else "no cards yet — add some from the panel"
        self.label.setText(f"Collection: {name} — {shown}")
        self.show()
        if fresh:
            self.view.fit_all()
