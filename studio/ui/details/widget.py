"""The asset details in the inspector dock: name, type and tags edited inline, the
selected variant's media, every variant as a grid with its actions, then the recipe
and the lineage graph in sections that fold away. "Open full view" (or a double-click
on the media) opens :class:`AssetDetailsDialog` with large media and Compare.

Signals:

- ``variant_selected(variant_id)``: the current tile of the grid changed.
- ``compare_requested(variant_ids)``: the user asked to compare these (2+) variants;
  the widget opens the full view on its Compare tab itself.
- ``full_view_opened(dialog)``: an :class:`AssetDetailsDialog` was opened.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QPoint, Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.protocol import (
    AssetData,
    Deleted,
    JobProgress,
    LineageData,
    TypedEvent,
    VariantData,
    VariantDeleted,
)
from studio.core.space import Space
from studio.store.records import AssetRow, VariantRow
from studio.ui.canvas.overlay import PendingOverlay
from studio.ui.details.actions import ActionBar, VariantActions
from studio.ui.details.form import AssetForm, Section
from studio.ui.details.lineage import LineageView
from studio.ui.details.media import MediaPreview
from studio.ui.details.presence_line import PresenceLine
from studio.ui.details.recipe import RecipePanel
from studio.ui.details.variants import VariantGrid
from studio.ui.host import StudioHost

if TYPE_CHECKING:  # full_view builds on DetailsCore, so it imports this module
    from studio.ui.details.full_view import AssetDetailsDialog


def recipe_operations(space: Space, variant_ids: Sequence[str]) -> dict[str, str]:
    """Each variant's recipe operation (generate, refine, import…), in one query."""
    return space.read.operations(variant_ids)


class DetailsCore(QWidget):
    """What the dock widget and the full view share: an asset, its variants in a grid
    with actions, the selected variant's media and recipe, and event handling."""

    variant_selected = Signal(str)
    compare_requested = Signal(list)

    def __init__(self, host: StudioHost, parent: QWidget | None, *, compact: bool) -> None:
        super().__init__(parent)
        self.host = host
        self.space: Space | None = None
        self.asset: AssetRow | None = None
        self.rows: list[VariantRow] = []
        self.overlay = PendingOverlay()  # a joined space's unanswered steps (the scene's)
        self.preview = MediaPreview(compact=compact)
        self.preview.fetch_missing = host.fetch_original  # a joined space's originals
        self.grid = VariantGrid(max_rows=3 if compact else 0)
        self.variant_actions = VariantActions(host, self)
        self.action_bar = ActionBar(self.variant_actions, two_rows=compact)
        self.recipe = RecipePanel(host)
        self.grid.current_changed.connect(self._on_current)
        self.grid.itemSelectionChanged.connect(self._sync_actions)
        self.grid.menu_requested.connect(self._menu)
        self.variant_actions.compare_requested.connect(self.compare_requested)

    # ------------------------------------------------------------------ state
    def current_asset(self) -> str | None:
        return None if self.asset is None else self.asset.id

    def current_variant(self) -> str | None:
        return self.grid.current_variant()

    def load(self, asset_id: str | None, select: str | None = None) -> bool:
        """Read the asset and its variants; False (and cleared) if it is gone."""
        space = self.space
        if space is None or asset_id is None:
            self._clear()
            return False
        try:
            asset = self.overlay.asset(space.asset(asset_id))
            rows = self.overlay.variant_rows(space.variants_of(asset_id))
        except StudioError:
            self._clear()
            return False
        same = self.asset is not None and self.asset.id == asset_id
        self.asset, self.rows = asset, rows
        if not same:
            self.grid.progress.clear()
        self.grid.set_variants(space.id, space.media_dir, rows, asset.active_variant_id, select)
        self._sync_actions()
        self._show_current()
        return True

    def _clear(self) -> None:
        self.asset, self.rows = None, []
        self.grid.set_variants("", None, [], None)
        self.preview.clear("Nothing selected")
        self.recipe.show_variant(None, None)
        self._sync_actions()

    def _row(self, variant_id: str | None) -> VariantRow | None:
        return next((r for r in self.rows if r.id == variant_id), None)

    def _on_current(self, variant_id: str) -> None:
        self._show_current()
        self.variant_selected.emit(variant_id)

    def _show_current(self) -> None:
        vid = self.grid.current_variant()
        row = self._row(vid)
        kind = self.asset.media_kind if self.asset else "image"
        self.preview.show_variant(self.space.media_dir if self.space else None, row, kind)
        if row is not None and self.grid.progress.get(row.id) is not None:
            self.preview.set_progress(row.id, self.grid.progress[row.id])
        if self.recipe.variant_id != vid or vid is None:
            self.recipe.show_variant(self.space, vid)
        self._sync_actions()
        self.variant_changed(vid)

    def variant_changed(self, variant_id: str | None) -> None:
        """Hook: the shown variant may have changed (lineage follows it)."""

    def _sync_actions(self) -> None:
        ids = [r.id for r in self.rows]
        ops = recipe_operations(self.space, ids) if self.space is not None else {}
        self.variant_actions.set_context(
            self.asset, self.rows, self.grid.selected_variants(), self.grid.current_variant(), ops
        )
        self.action_bar.refresh()

    def _menu(self, global_pos: QPoint) -> None:
        self._sync_actions()
        if self.variant_actions.current is None:
            return
        menu = self.variant_actions.build_menu(self)
        menu.exec(global_pos)
        menu.deleteLater()

    # ------------------------------------------------------------------ events
    def handle_event(self, event: TypedEvent) -> str:
        """React to one core event: "reload" (asset or variants changed), "gone",
        "progress", or "" if it is not about this asset."""
        a = self.asset
        if a is None:
            return ""
        match event:
            case TypedEvent(data=JobProgress(variant_id=vid, progress=fraction)):
                if self.grid.set_progress(vid, fraction):
                    self.preview.set_progress(vid, fraction)
                    return "progress"
                return ""
            case TypedEvent(kind="asset:deleted", data=Deleted(id=gone)) if gone == a.id:
                return "gone"
            case TypedEvent(kind="asset:updated", data=AssetData(id=aid)) if aid == a.id:
                return self._reload(None)
            case TypedEvent(data=VariantData(asset_id=aid) as v) if aid == a.id:
                return self._reload(v.id if event.kind == "variant:updated" else None)
            case TypedEvent(data=VariantDeleted(asset_id=aid)) if aid == a.id:
                return self._reload(None)
            case TypedEvent(kind="asset:updated", data=AssetData(id=aid)) if (
                aid in self.recipe.reference_assets
            ):
                self.recipe.show_variant(self.space, self.grid.current_variant())
        return ""

    def _reload(self, updated_variant: str | None) -> str:
        """Load the asset again (keeping the current variant); show the recipe again
        when ``updated_variant`` is the current one."""
        a = self.asset
        assert a is not None
        current = self.grid.current_variant()
        if not self.load(a.id, current):
            return "gone"
        if updated_variant is not None and updated_variant == current:
            self.recipe.show_variant(self.space, current)
        return "reload"


class AssetDetailsWidget(QWidget):
    """The inspector's details of one asset (compact). See the module doc for signals."""

    variant_selected = Signal(str)
    compare_requested = Signal(list)
    full_view_opened = Signal(object)

    def __init__(self, host: StudioHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("assetDetails")
        self.host = host
        self.core = _DockCore(self, host)
        self.form = AssetForm(host)
        self.title = QLabel("")
        self.title.setObjectName("inspectorTitle")
        self.title.setWordWrap(True)
        self.kind_label = QLabel("")
        self.kind_label.setStyleSheet("color: #9aa3b2;")
        self.presence = PresenceLine()  # who else looks at it; "X renamed this"
        self.full_button = QPushButton("Open full view")
        self.full_button.setToolTip(
            "Large media and side-by-side compare (or double-click the media)"
        )
        self.full_button.clicked.connect(lambda: self.open_full_view())
        self.core.preview.activated.connect(lambda: self.open_full_view())
        self.core.grid.tile_opened.connect(lambda _vid: self.open_full_view())
        self.core.variant_selected.connect(self.variant_selected)
        self.core.compare_requested.connect(self._compare)
        self.lineage = LineageView()
        self.lineage.setFixedHeight(160)
        self.lineage.auto_height = True
        self.lineage.node_clicked.connect(self._node_clicked)
        self.recipe_section = Section("Recipe", self.core.recipe)
        self.lineage_section = Section("Lineage", self.lineage)
        self.lineage_section.toggled.connect(lambda _open: self._load_lineage())
        self.variants_label = QLabel("Variants")
        self.variants_label.setStyleSheet("font-weight: 600;")

        body = QWidget()
        col = QVBoxLayout(body)
        col.setContentsMargins(8, 6, 8, 8)
        col.setSpacing(6)
        head = QHBoxLayout()
        head.addWidget(self.title, 1)
        head.addWidget(self.full_button)
        col.addLayout(head)
        col.addWidget(self.kind_label)
        col.addWidget(self.presence)
        col.addWidget(self.form)
        col.addWidget(self.core.preview)
        col.addWidget(self.variants_label)
        col.addWidget(self.core.grid)
        col.addWidget(self.core.action_bar)
        col.addWidget(self.recipe_section)
        col.addWidget(self.lineage_section)
        col.addStretch(1)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)
        self.scroll_area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.scroll_area.setWidget(body)
        self.empty = QLabel("Nothing selected")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setStyleSheet("color: #7d8594; font-size: 14px;")
        self.pages = QStackedWidget()
        self.pages.addWidget(self.empty)
        self.pages.addWidget(self.scroll_area)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(self.pages)
        self._lineage_for: str | None = None
        self._lineage_dirty = True
        self.dialogs: list[AssetDetailsDialog] = []

    # ------------------------------------------------------------------ API
    def set_space(self, space: Space | None) -> None:
        for dialog in list(self.dialogs):
            dialog.close()
        self.core.space = space
        self.show_asset(None)

    def show_asset(self, asset_id: str | None, selected_count: int = 1) -> None:
        if asset_id is None or not self.core.load(asset_id):
            self.core.load(None)
            self.empty.setText(
                f"{selected_count} assets selected" if selected_count > 1 else "Nothing selected"
            )
            self.pages.setCurrentWidget(self.empty)
            self.form.set_asset(None)
            self.lineage.clear_graph()
            self._lineage_for = None
            self.presence.show_for(None)
            return
        self.pages.setCurrentWidget(self.scroll_area)
        self._show_asset_fields()

    def apply_event(self, event: TypedEvent) -> None:
        for dialog in list(self.dialogs):
            dialog.apply_event(event)
        outcome = self.core.handle_event(event)
        if outcome == "gone":
            self.show_asset(None)
        elif outcome == "reload":
            self._show_asset_fields()
        match event:
            case TypedEvent(data=LineageData(parent_variant_id=up, child_variant_id=down)):
                if {up, down} & (set(self.lineage.nodes) | {self.current_variant()}):
                    self._lineage_dirty = True
                    self._load_lineage()
            case TypedEvent(kind="asset:updated", data=AssetData(id=aid)) if any(
                item.info.asset_id == aid for item in self.lineage.nodes.values()
            ):
                self._lineage_dirty = True
                self._load_lineage()

    def current_asset(self) -> str | None:
        return self.core.current_asset()

    def overlay_changed(self, asset_ids: set[str]) -> None:
        """The user's waiting steps changed what these assets show."""
        if self.current_asset() in asset_ids:
            self.show_asset(self.current_asset())
        for dialog in list(self.dialogs):
            if dialog.asset_id() in asset_ids:
                dialog.apply_overlay()

    def current_variant(self) -> str | None:
        return self.core.current_variant()

    def open_full_view(self, *, compare: Sequence[str] = ()) -> QWidget | None:
        """Open the full view of the current asset (on Compare with ``compare`` ticked).
        ``compare`` is keyword-only: a signal connected here directly (a menu action's
        ``triggered(checked)``) passes nothing."""
        from studio.ui.details.full_view import AssetDetailsDialog

        aid = self.current_asset()
        if aid is None or self.core.space is None:
            return None
        dialog = AssetDetailsDialog(
            self.host,
            aid,
            self.window(),
            variant_id=self.current_variant(),
            compare=compare,
            overlay=self.core.overlay,
        )
        self.dialogs.append(dialog)
        dialog.finished.connect(lambda _r, d=dialog: self._forget(d))
        dialog.show()
        self.full_view_opened.emit(dialog)
        return dialog

    # ------------------------------------------------------------------ internals
    def _forget(self, dialog: AssetDetailsDialog) -> None:
        if dialog in self.dialogs:
            self.dialogs.remove(dialog)
        dialog.deleteLater()

    def _compare(self, variant_ids: list[str]) -> None:
        self.compare_requested.emit(variant_ids)
        self.open_full_view(compare=variant_ids)

    def _show_asset_fields(self) -> None:
        a = self.core.asset
        if a is None:
            return
        self.title.setText(a.name)
        self.form.set_asset(a)
        self.presence.show_for(a.id)
        n = len(self.core.rows)
        ids = [r.id for r in self.core.rows]
        waiting = " · waiting to send" if self.core.overlay.changes(a.id, ids) else ""
        self.kind_label.setText(f"{a.media_kind} · {n} variant{'s' if n != 1 else ''}{waiting}")
        self.variants_label.setText(f"Variants ({n})")

    def _node_clicked(self, asset_id: str, _variant_id: str) -> None:
        self.host.show_asset(asset_id)

    def _on_variant(self, variant_id: str | None) -> None:
        if variant_id != self._lineage_for:
            self._lineage_dirty = True
        self._load_lineage()

    def _load_lineage(self) -> None:
        if not self.lineage_section.is_open() or not self._lineage_dirty:
            return
        vid = self.current_variant()
        self.lineage.load(self.core.space, vid)
        self._lineage_for = vid
        self._lineage_dirty = False


class _DockCore(DetailsCore):
    def __init__(self, owner: AssetDetailsWidget, host: StudioHost) -> None:
        super().__init__(host, owner, compact=True)
        self.owner = owner

    def variant_changed(self, variant_id: str | None) -> None:
        if hasattr(self.owner, "lineage_section"):
            self.owner._on_variant(variant_id)
