"""The full view of an asset: a window with the selected variant's media large (zoom
and pan, or a player), the variants grid with its actions and the recipe beside it,
a Compare tab where ticking two or more variants shows them side by side, and a
Lineage tab with the selected variant's graph at full size."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QCloseEvent, QColor, QIcon, QKeySequence, QPixmap, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFrame,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core.protocol import AssetData, LineageData, TypedEvent
from studio.store.records import VariantRow
from studio.ui.canvas.overlay import PendingOverlay
from studio.ui.details.compare import CompareWidget
from studio.ui.details.lineage import LineageView
from studio.ui.details.presence_line import PresenceLine
from studio.ui.details.thumbs import load_thumb
from studio.ui.details.widget import DetailsCore
from studio.ui.host import StudioHost
from studio.ui.icons import checkbox_style

PICK_ICON = 56


class AssetDetailsDialog(QDialog):
    def __init__(
        self,
        host: StudioHost,
        asset_id: str,
        parent: QWidget | None = None,
        *,
        variant_id: str | None = None,
        compare: Sequence[str] = (),
        overlay: PendingOverlay | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("assetDetailsDialog")
        self.setWindowFlag(Qt.WindowType.WindowMaximizeButtonHint, True)
        self.resize(1200, 780)
        self.host = host
        self.core = DetailsCore(host, self, compact=False)
        self.core.space = host.space
        if overlay is not None:  # a joined space's unanswered steps show here too
            self.core.overlay = overlay
        self.core.compare_requested.connect(self.show_compare)

        self.title = QLabel("")
        self.title.setObjectName("inspectorTitle")
        side = QWidget()
        col = QVBoxLayout(side)
        col.setContentsMargins(6, 0, 6, 6)
        col.addWidget(self.title)
        col.addWidget(QLabel("Variants"))
        col.addWidget(self.core.grid, 1)
        col.addWidget(self.core.action_bar)
        recipe_scroll = QScrollArea()
        recipe_scroll.setWidgetResizable(True)
        recipe_scroll.setFrameShape(QFrame.Shape.NoFrame)
        recipe_scroll.setWidget(self.core.recipe)
        col.addWidget(QLabel("Recipe"))
        col.addWidget(recipe_scroll, 1)
        media_tab = QSplitter(Qt.Orientation.Horizontal)
        media_tab.addWidget(self.core.preview)
        media_tab.addWidget(side)
        media_tab.setStretchFactor(0, 3)
        media_tab.setStretchFactor(1, 1)
        media_tab.setSizes([820, 360])

        self._blank = QPixmap(PICK_ICON, PICK_ICON)
        self._blank.fill(QColor("#15171c"))
        self.picker = QListWidget()
        self.picker.setIconSize(self.picker.iconSize().expandedTo(QSize(PICK_ICON, PICK_ICON)))
        self.picker.setMaximumWidth(200)
        self.picker.setSpacing(2)
        self.picker.setToolTip("Tick the variants to compare")
        self.picker.setObjectName("comparePicker")
        self.picker.setStyleSheet(checkbox_style("comparePicker"))  # visible on the dark theme
        self.picker.itemChanged.connect(lambda _item: self._compare_ticked())
        self.compare = CompareWidget()
        compare_tab = QSplitter(Qt.Orientation.Horizontal)
        compare_tab.addWidget(self.picker)
        compare_tab.addWidget(self.compare)
        compare_tab.setStretchFactor(1, 1)
        compare_tab.setSizes([220, 960])

        self.lineage = LineageView()
        self.lineage.node_clicked.connect(lambda asset_id, _vid: host.show_asset(asset_id))
        self.core.variant_selected.connect(lambda _vid: self._load_lineage())

        self.tabs = QTabWidget()
        self.tabs.addTab(media_tab, "Media")
        self.tabs.addTab(compare_tab, "Compare")
        self.tabs.addTab(self.lineage, "Lineage")
        self.tabs.currentChanged.connect(lambda _i: self._load_lineage())
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.presence = PresenceLine()  # "Mira renamed this" (a shared or joined space)
        layout.addWidget(self.presence)
        layout.addWidget(self.tabs)
        QShortcut(QKeySequence(Qt.Key.Key_Space), self, self._space_key)

        self._compared: list[VariantRow] | None = None
        self._lineage_for: str | None = None
        self.core.load(asset_id, variant_id)
        self._refresh_titles()
        self._fill_picker(compare)
        if len(compare) >= 2:
            self.tabs.setCurrentIndex(1)

    # ------------------------------------------------------------------ API
    def asset_id(self) -> str | None:
        return self.core.current_asset()

    def apply_event(self, event: TypedEvent) -> None:
        outcome = self.core.handle_event(event)
        if outcome == "gone":
            self.close()
            return
        if outcome == "reload":
            self._refresh_titles()
            self._fill_picker(self.ticked())
        match event:
            case TypedEvent(data=LineageData()):
                self._reload_lineage()
            case TypedEvent(kind="asset:updated", data=AssetData(id=aid)) if (
                aid in self._lineage_assets()
            ):
                self._reload_lineage()

    def apply_overlay(self) -> None:
        """The user's waiting steps changed what this asset shows."""
        if self.core._reload(None) == "gone":
            self.close()
            return
        self._refresh_titles()
        self._fill_picker(self.ticked())

    def _reload_lineage(self) -> None:
        self._lineage_for = None
        self._load_lineage()

    def _lineage_assets(self) -> set[str]:
        return {item.info.asset_id for item in self.lineage.nodes.values()}

    def _load_lineage(self) -> None:
        """Build the graph when its tab is shown (and again when the variant changes)."""
        vid = self.core.current_variant()
        if self.tabs.currentWidget() is not self.lineage or vid == self._lineage_for:
            return
        self.lineage.load(self.core.space, vid)
        self._lineage_for = vid

    def show_compare(self, variant_ids: Sequence[str]) -> None:
        self._fill_picker(variant_ids)
        self.tabs.setCurrentIndex(1)

    def ticked(self) -> list[str]:
        out = []
        for i in range(self.picker.count()):
            item = self.picker.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.append(item.data(Qt.ItemDataRole.UserRole))
        return out

    def set_ticked(self, variant_ids: Sequence[str]) -> None:
        self._fill_picker(variant_ids)

    # ------------------------------------------------------------------ internals
    def _refresh_titles(self) -> None:
        a = self.core.asset
        if a is None:
            return
        self.setWindowTitle(f"{a.name} — {a.media_kind} details")
        n = len(self.core.rows)
        waiting = self.core.overlay.changes(a.id, [r.id for r in self.core.rows])
        self.title.setText(
            f"{a.name}  ·  {a.type or a.media_kind}  ·  {n} variants"
            + ("  ·  waiting to send" if waiting else "")
        )

    def _fill_picker(self, ticked: Sequence[str]) -> None:
        space = self.core.space
        want = set(ticked)
        blocker = self.picker.blockSignals(True)
        try:
            self.picker.clear()
            for i, row in enumerate(self.core.rows, 1):
                label = f"#{i}"
                if row.starred:
                    label += " ★"
                if row.rating:
                    label += " ✓" if row.rating == "approved" else " ✗"
                if self.core.asset and row.id == self.core.asset.active_variant_id:
                    label += "\nactive"
                elif row.status != "completed":
                    label += f"\n{row.status}"
                item = QListWidgetItem(label)
                item.setData(Qt.ItemDataRole.UserRole, row.id)
                pm = load_thumb(space.media_dir if space else None, row.thumb_path, PICK_ICON)
                item.setIcon(QIcon(pm if pm is not None else self._blank))
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                item.setFlags(flags)
                checked = row.id in want
                item.setCheckState(Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked)
                self.picker.addItem(item)
        finally:
            self.picker.blockSignals(blocker)
        self._compare_ticked()

    def _compare_ticked(self) -> None:
        ids = self.ticked()
        by_id = {r.id: (i, r) for i, r in enumerate(self.core.rows, 1)}
        rows = [by_id[v][1] for v in ids if v in by_id]
        if rows == self._compared:  # same variants, same state: keep players going
            return
        self._compared = rows
        captions = {}
        for v in ids:
            if v in by_id:
                i, r = by_id[v]
                extra = " ★" if r.starred else ""
                if self.core.asset and r.id == self.core.asset.active_variant_id:
                    extra += " (active)"
                captions[v] = f"#{i}{extra}"
        space = self.core.space
        kind = self.core.asset.media_kind if self.core.asset else "image"
        self.compare.set_variants(space.media_dir if space else None, rows, kind, captions)

    def _space_key(self) -> None:
        if self.tabs.currentIndex() == 1:
            self.compare.transport.toggle()
            return
        player = self.core.preview.audio_player or self.core.preview.video_player
        if player is not None and player.available:
            player.transport.toggle()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.core.preview.close_media()
        self.compare.close_media()
        super().closeEvent(event)

    def done(self, result: int) -> None:
        self.core.preview.close_media()
        self.compare.close_media()
        super().done(result)
