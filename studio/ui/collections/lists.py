"""The two lists of the collections panel: the collections (cards dragged off the canvas
drop onto one to join it, or onto the empty part to make a new one) and the open
collection's items (dragged within the list to reorder them)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragMoveEvent, QDropEvent, QIcon
from PySide6.QtWidgets import QAbstractItemView, QListWidget, QListWidgetItem

from studio.ui.mime import ASSETS_MIME, get_assets

ID_ROLE = Qt.ItemDataRole.UserRole

Index = QModelIndex | QPersistentModelIndex


class CollectionList(QListWidget):
    """The space's collections. ``cards_dropped(collection id or "", asset ids)``: cards
    dragged from the canvas were dropped on a collection ("": below the last one)."""

    cards_dropped = Signal(str, list)

    def __init__(self, space_id: Callable[[], str | None]) -> None:
        super().__init__()
        self.setObjectName("collectionList")
        self._space_id = space_id
        self.setAcceptDrops(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DropOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)

    def _ids(self, e: QDropEvent | QDragMoveEvent | QDragEnterEvent) -> list[str]:
        sid = self._space_id()
        return get_assets(e.mimeData(), sid) if sid is not None else []

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        if e.mimeData().hasFormat(ASSETS_MIME) and self._ids(e):
            e.setDropAction(Qt.DropAction.CopyAction)
            e.accept()
        else:
            e.ignore()

    def dragMoveEvent(self, e: QDragMoveEvent) -> None:
        if not self._ids(e):
            e.ignore()
            return
        item = self.itemAt(e.position().toPoint())
        if item is not None:
            self.setCurrentItem(item)  # where they will go
        e.setDropAction(Qt.DropAction.CopyAction)
        e.accept()

    def dropEvent(self, e: QDropEvent) -> None:
        ids = self._ids(e)
        if not ids:
            e.ignore()
            return
        item = self.itemAt(e.position().toPoint())
        target = str(item.data(ID_ROLE)) if item is not None else ""
        e.setDropAction(Qt.DropAction.CopyAction)
        e.accept()
        self.cards_dropped.emit(target, ids)

    def current_id(self) -> str | None:
        item = self.currentItem()
        return str(item.data(ID_ROLE)) if item is not None else None


class ItemList(QListWidget):
    """One collection's items, in order; drag one within the list to move it.
    ``reordered(item ids)``: the user's new order (the list shows it already)."""

    reordered = Signal(list)

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("collectionItems")
        self.setDragDropMode(QAbstractItemView.DragDropMode.InternalMove)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self._filling = False
        self.model().rowsMoved.connect(self._moved)

    def fill(
        self, rows: Sequence[tuple[str, str, str]], icon: Callable[[str], QIcon | None]
    ) -> None:
        """``rows``: (item id, asset id, label) in order; ``icon(asset id)`` a QIcon or None."""
        self._filling = True
        try:
            keep = {str(i.data(ID_ROLE)) for i in self.selectedItems()}
            self.clear()
            for item_id, asset_id, label in rows:
                it = QListWidgetItem(label)
                it.setData(ID_ROLE, item_id)
                it.setData(ID_ROLE + 1, asset_id)
                pic = icon(asset_id)
                if pic is not None:
                    it.setIcon(pic)
                self.addItem(it)
                it.setSelected(item_id in keep)
        finally:
            self._filling = False

    def item_ids(self) -> list[str]:
        return [str(self.item(i).data(ID_ROLE)) for i in range(self.count())]

    def selected_item_ids(self) -> list[str]:
        return [str(i.data(ID_ROLE)) for i in self.selectedItems()]

    def asset_of(self, row: int) -> str:
        return str(self.item(row).data(ID_ROLE + 1))

    def _moved(self, _parent: Index, _start: int, _end: int, _dest: Index, _row: int) -> None:
        if not self._filling:
            self.reordered.emit(self.item_ids())
