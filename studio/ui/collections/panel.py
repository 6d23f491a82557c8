"""The collections panel (a dock): the space's collections with their item counts;
create, rename, delete; add cards (dropped from the canvas, or the selection); the
current collection's items, dragged to reorder; open one as a view of the canvas (only
its members shown, under a banner); export its files.

Every change is one undoable step through the host (``host.run``) with the core's
collection commands; the panel shows what the read API says and follows the change
feed (``apply_event``), so another process's changes show up too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QIcon
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidgetItem,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import commands as c
from studio.core.errors import StudioError
from studio.core.protocol import TypedEvent
from studio.core.reads import CollectionMember
from studio.core.space import Space
from studio.store.records import CollectionRow, VariantRow
from studio.ui.bulk_actions import assets
from studio.ui.canvas.geometry import TIER_LOW
from studio.ui.collections.lists import ID_ROLE, CollectionList, ItemList
from studio.ui.widgets import ask_text, named, tool_button

if TYPE_CHECKING:
    from studio.ui.bulk_actions import BulkActions
    from studio.ui.canvas.scene import CanvasScene
    from studio.ui.host import CanvasHost

NEW_SHORTCUT = "Ctrl+Shift+C"
"""Edit ▸ New collection from selection (named in the empty state)."""
EMPTY_TEXT = f"No collections yet — select cards and press {NEW_SHORTCUT}, or drag cards here."
FOLLOWED = ("collection:", "asset:deleted", "asset:restored", "asset:updated", "variant:deleted")
"""Events that may change what the panel shows (names, counts, members)."""

AskText = Callable[[str, str, str], str | None]


class CollectionsPanel(QWidget):
    opened = Signal(str, str, list)  # collection id, name, member asset ids ("" : none open)

    def __init__(
        self, host: CanvasHost, scene: CanvasScene, bulk: BulkActions, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.host = host
        self.scene = scene
        self.bulk = bulk
        self.space: Space | None = None
        self.ask_text: AskText = lambda t, label, d: ask_text(self, t, label, d)
        self.collections: list[CollectionRow] = []
        self.members: dict[str, list[CollectionMember]] = {}
        self.open_id: str | None = None
        """The collection shown as a view of the canvas (None: every card)."""

        self.list = CollectionList(lambda: self.space.id if self.space is not None else None)
        self.list.cards_dropped.connect(self._dropped)
        self.list.currentItemChanged.connect(lambda *_: self._show_items())
        self.list.itemDoubleClicked.connect(lambda _i: self.open_current())
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(lambda pos: _context_menu(self, pos))
        self.empty = named(QLabel(EMPTY_TEXT), "collectionsEmpty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.items = ItemList()
        self.items.setIconSize(QSize(32, 32))
        self.items.reordered.connect(self._reordered)
        self.items.itemDoubleClicked.connect(self._item_activated)
        self.items_label = QLabel("")
        top, bottom = QHBoxLayout(), QHBoxLayout()
        self.buttons: dict[str, QToolButton] = {}
        for row, name, text, tip, slot in (
            (top, "New", "New", f"New collection, from the selected cards ({NEW_SHORTCUT})", self.new_collection),
            (top, "Rename", "Rename", "Rename the collection", self.rename_current),
            (top, "Delete", "Delete", "Delete the collection (Undo brings it back)", self.delete_current),
            (top, "Open", "Show", "Show only its cards on the canvas", self.open_current),
            (top, "Export", "Export…", "Export its files, with their recipes embedded", self.export_current),
            (bottom, "Add", "Add selected", "Add the selected cards", self.add_selection),
            (bottom, "Remove", "Remove", "Take the chosen items out of the collection", self.remove_items),
        ):  # fmt: skip
            b = named(tool_button(text, tip), f"collection{name}")
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            row.addWidget(b)
            self.buttons[name] = b
        top.addStretch(1)
        bottom.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addWidget(self.list, 2)
        layout.addWidget(self.empty)
        layout.addLayout(top)
        layout.addWidget(self.items_label)
        layout.addWidget(self.items, 3)
        layout.addLayout(bottom)
        self._timer = QTimer(self)  # a burst of events: one refresh
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)
        self._icons = QTimer(self)  # thumbnails arrived: the items list shows them
        self._icons.setSingleShot(True)
        self._icons.setInterval(50)
        self._icons.timeout.connect(self._show_items)
        scene.thumbs.loaded.connect(self._thumbs_loaded)
        self.refresh()

    # ------------------------------------------------------------------ following the space
    def set_space(self, space: Space | None) -> None:
        self.space = space
        self.open_id = None
        self.refresh()

    def apply_event(self, event: TypedEvent) -> None:
        if event.kind.startswith(FOLLOWED):
            self._timer.start()

    def refresh(self) -> None:
        """Read the collections and their members again and show them."""
        space = self.space
        try:
            self.collections = space.collections() if space is not None else []
            self.members = space.read.collection_members() if space is not None else {}
        except StudioError as exc:  # the space went away under us
            self.collections, self.members = [], {}
            self.host.show_error(exc.message)
        current = self.list.current_id()
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for col in self.collections:
                n = len(self.members.get(col.id, []))
                it = QListWidgetItem(f"{col.name}  ({n})")
                it.setData(ID_ROLE, col.id)
                it.setToolTip(f"{col.name}: {assets(n)}")
                self.list.addItem(it)
                if col.id == current:
                    self.list.setCurrentItem(it)
        finally:
            self.list.blockSignals(False)
        self.empty.setVisible(space is not None and not self.collections)
        self.empty.setText(EMPTY_TEXT if space is not None else "Open a space first.")
        for name in ("Rename", "Delete", "Open", "Export"):
            self.buttons[name].setEnabled(bool(self.collections))
        self._show_items()
        self._update_view()

    def _show_items(self) -> None:
        cid = self.list.current_id()
        name = self._name(cid)
        members = self.members.get(cid or "", [])
        self.items_label.setText(
            f"{name}: {assets(len(members))} — drag to reorder" if cid else "Choose a collection"
        )
        rows = []
        for m in members:
            row = self.scene.asset_row(m.asset_id)
            label = row.name if row is not None else m.asset_id
            rows.append((m.item_id, m.asset_id, label + (" (one variant)" if m.variant_id else "")))
        self.items.fill(rows, self._icon)
        self.buttons["Remove"].setEnabled(bool(members))

    def _icon(self, asset_id: str) -> QIcon | None:
        card = self.scene.card(asset_id)
        if card is None or card.thumb is None:
            return None
        pm = self.scene.thumbs.best(card.thumb, TIER_LOW)  # a load is queued if missing
        return QIcon(pm) if pm is not None else None

    def _thumbs_loaded(self, keys: list[tuple[str, int]]) -> None:
        shown = {self.scene.card(self.items.asset_of(i)) for i in range(self.items.count())}
        paths = {card.thumb for card in shown if card is not None}
        if any(path in paths for path, _tier in keys):
            self._icons.start()

    def _name(self, cid: str | None) -> str:
        return next((col.name for col in self.collections if col.id == cid), "")

    # ------------------------------------------------------------------ the actions
    def select(self, collection_id: str) -> None:
        for i in range(self.list.count()):
            if self.list.item(i).data(ID_ROLE) == collection_id:
                self.list.setCurrentRow(i)

    def new_collection(self) -> bool:
        """A new collection (asks its name), holding the selected cards if any: one step."""
        if self.space is None:
            self.host.show_error("Open a space first.")
            return False
        ids = self.scene.selected_ids()
        name = self.ask_text(
            "New collection", f"Name (it will hold {assets(len(ids))}):" if ids else "Name:", ""
        )
        if name is None or not name.strip():
            return False
        before = {col.id for col in self.space.collections()}
        if ids:
            ok = self.bulk.add_to_collection(ids, new_name=name)
        else:
            ok = self.host.run(
                [c.CreateCollection(name.strip())], f"New collection “{name.strip()}”"
            )
        if ok:
            self.refresh()
            new = [col.id for col in self.collections if col.id not in before]
            if new:
                self.select(new[0])
        return ok

    def rename_current(self) -> bool:
        cid = self.list.current_id()
        if cid is None:
            return False
        old = self._name(cid)
        name = self.ask_text("Rename collection", "Name:", old)
        if name is None or not name.strip() or name.strip() == old:
            return False
        return self._run([c.UpdateCollection(cid, name.strip())], f"Rename collection “{old}”")

    def delete_current(self) -> bool:
        cid = self.list.current_id()
        if cid is None:
            return False
        return self._run([c.DeleteCollection(cid)], f"Delete collection “{self._name(cid)}”")

    def add_selection(self) -> bool:
        cid = self.list.current_id()
        ids = self.scene.selected_ids()
        if cid is None or not ids:
            self.bulk.status("Select some cards and a collection first")
            return False
        return self._added(self.bulk.add_to_collection(ids, cid))

    def add_cards(self, collection_id: str, asset_ids: Sequence[str]) -> bool:
        """Cards dropped on a collection ("": a new one, its name asked)."""
        if not collection_id:
            self.scene.select(list(asset_ids))
            return self.new_collection()
        self.select(collection_id)
        return self._added(self.bulk.add_to_collection(list(asset_ids), collection_id))

    def remove_items(self) -> bool:
        chosen = self.items.selected_item_ids()
        if not chosen:
            return False
        name = self._name(self.list.current_id())
        cmds: list[c.Command] = [c.RemoveCollectionItem(i) for i in chosen]
        return self._run(cmds, f"Take {assets(len(chosen))} out of “{name}”")

    def _reordered(self, visible: list[str]) -> None:
        """The items list was dragged into a new order: one step (items not shown — a
        deleted asset's — keep their places)."""
        cid = self.list.current_id()
        if cid is None or self.space is None:
            return
        full = [i.id for i in self.space.collection_items(cid)]
        shown = set(visible)
        order = iter(visible)
        new = [next(order) if iid in shown else iid for iid in full]
        if new != full and not self._run(
            [c.ReorderCollection(cid, tuple(new))], f"Reorder “{self._name(cid)}”"
        ):
            self.refresh()  # refused: show the order as it is

    def _item_activated(self, item: QListWidgetItem) -> None:
        show = getattr(self.host, "show_asset", None)
        if callable(show):
            show(str(item.data(ID_ROLE + 1)))

    def _dropped(self, collection_id: str, asset_ids: list[str]) -> None:
        self.add_cards(collection_id, asset_ids)

    def _added(self, ok: bool) -> bool:
        if ok:
            self.refresh()
        return ok

    def _run(self, cmds: Sequence[c.Command], text: str) -> bool:
        ok = self.host.run(list(cmds), text)
        if ok:
            self.refresh()
        return ok

    # ------------------------------------------------------------------ view and export
    def open_current(self) -> bool:
        cid = self.list.current_id()
        if cid is None:
            return False
        self.open_id = cid
        self._update_view()
        return True

    def show_all(self) -> None:
        self.open_id = None
        self._update_view()

    def _update_view(self) -> None:
        """Tell the canvas what to show (the open collection's members, or all)."""
        cid = self.open_id
        if cid is not None and cid not in {col.id for col in self.collections}:
            self.open_id = cid = None  # deleted (here or elsewhere): show everything
        if cid is None:
            self.opened.emit("", "", [])
        else:
            ids = [m.asset_id for m in self.members.get(cid, [])]
            self.opened.emit(cid, self._name(cid), ids)

    def export_current(self) -> bool:
        """Export the collection's files, in its order, through the one export path."""
        cid = self.list.current_id()
        if cid is None:
            return False
        variants = self.scene.model.variants
        vids: list[str] = []
        members = self.members.get(cid, [])
        for m in members:
            if m.variant_id is not None:  # the canvas holds the cards' variants only
                v = variants.get(m.variant_id) or self._live_variant(m.variant_id)
            else:
                card = self.scene.card(m.asset_id)
                v = card.facts.active if card is not None else None
            if v is not None and v.status == "completed" and v.media_path:
                vids.append(v.id)
        return self.bulk.export_variants(vids, len(members) - len(vids))

    def _live_variant(self, variant_id: str) -> VariantRow | None:
        if self.space is None:
            return None
        try:
            rows = self.space.read.variant_rows([variant_id])
        except StudioError:
            return None
        return rows[0] if rows else None


def _context_menu(panel: CollectionsPanel, pos: QPoint) -> None:
    """Right-click on a collection: the panel's buttons as a menu."""
    item = panel.list.itemAt(pos)
    if item is None:
        return
    panel.list.setCurrentItem(item)
    menu = QMenu(panel.list)
    for text, slot in (
        ("Show on the canvas", panel.open_current),
        ("Add the selected cards", panel.add_selection),
        ("Export files…", panel.export_current),
        ("Rename…", panel.rename_current),
        ("Delete", panel.delete_current),
    ):
        menu.addAction(text, slot)
    menu.exec(panel.list.viewport().mapToGlobal(pos))
