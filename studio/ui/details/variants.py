"""All variants of an asset as a grid of ~96 px tiles: thumbnail, status badge, progress
bar while queued or generating, red error text when failed, ★ when starred, ✓ / ✗ when
approved / rejected, and a ring around the active one. Tiles drag out as variants (the
forge tray takes them) and as files (other applications take those)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import (
    QItemSelectionModel,
    QMimeData,
    QModelIndex,
    QPersistentModelIndex,
    QRect,
    QSize,
    Qt,
    QUrl,
)
from PySide6.QtCore import Signal as _Signal
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QListView,
    QListWidget,
    QListWidgetItem,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from studio.store.records import VariantRow
from studio.ui.details.thumbs import load_thumb
from studio.ui.mime import put_variants

TILE = 96
PAD = 4
CAPTION_H = 16
CELL = QSize(TILE + 2 * PAD + 4, TILE + CAPTION_H + 2 * PAD + 4)
ROW_ROLE = Qt.ItemDataRole.UserRole
UNFINISHED = ("pending", "processing", "uploading")
BADGES = {"pending": "queued", "processing": "generating", "uploading": "importing"}
C_ACCENT = QColor("#3a7bd5")
C_ACTIVE = QColor("#4cc38a")
C_FAILED = QColor("#e06c6c")
C_STAR = QColor("#f2c14e")
C_TEXT_DIM = QColor("#9aa3b2")


@dataclass(frozen=True, slots=True)
class TileState:
    """What a tile shows (tests read it; the delegate paints it)."""

    variant_id: str
    index: int
    status: str
    badge: str
    progress: float | None
    error: str
    starred: bool
    rating: str | None
    active: bool


class VariantGrid(QListWidget):
    """Signals: ``current_changed(variant_id)`` when the current tile changes,
    ``tile_opened(variant_id)`` on double-click, ``menu_requested(QPoint global)`` on
    right-click (the owner builds the menu for :meth:`selected_variants`)."""

    current_changed = _Signal(str)
    tile_opened = _Signal(str)
    menu_requested = _Signal(object)

    def __init__(self, parent: QWidget | None = None, *, max_rows: int = 3) -> None:
        super().__init__(parent)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setFlow(QListView.Flow.LeftToRight)
        self.setWrapping(True)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setUniformItemSizes(True)
        self.setGridSize(CELL)
        self.setSpacing(0)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(
            lambda pos: self.menu_requested.emit(self.viewport().mapToGlobal(pos))
        )
        self.setItemDelegate(VariantDelegate(self))
        self.setStyleSheet("QListWidget { background: #1b1e24; border: none; }")
        self.max_rows = max_rows
        self.space_id = ""
        self.media_dir: Path | None = None
        self.active_id: str | None = None
        self.progress: dict[str, float] = {}
        self.rows: dict[str, VariantRow] = {}
        self._order: list[str] = []
        self._pixmaps: dict[str, QPixmap | None] = {}
        self.currentItemChanged.connect(self._on_current)
        self.itemDoubleClicked.connect(lambda item: self.tile_opened.emit(item.data(ROW_ROLE).id))

    # ------------------------------------------------------------------ content
    def set_variants(
        self,
        space_id: str,
        media_dir: Path | None,
        rows: Sequence[VariantRow],
        active_id: str | None,
        select: str | None = None,
    ) -> None:
        """Show ``rows`` and make ``select`` (or the current one, or the active one)
        current, keeping the other selected tiles selected."""
        keep = select or self.current_variant() or active_id
        selected = set(self.selected_variants())
        self.space_id, self.media_dir, self.active_id = space_id, media_dir, active_id
        self.rows = {r.id: r for r in rows}
        self._order = [r.id for r in rows]
        self._pixmaps = {r.id: load_thumb(media_dir, r.thumb_path, TILE) for r in rows}
        # progress belongs to a running attempt: a queued or finished variant starts over
        running = {r.id for r in rows if r.status == "processing"}
        self.progress = {k: v for k, v in self.progress.items() if k in running}
        blocker = self.blockSignals(True)
        try:
            self.clear()
            for r in rows:
                item = QListWidgetItem()
                item.setData(ROW_ROLE, r)
                item.setSizeHint(CELL)
                item.setToolTip(self._tooltip(r))
                flags = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                if r.status == "completed":
                    flags |= Qt.ItemFlag.ItemIsDragEnabled
                item.setFlags(flags)
                self.addItem(item)
            if keep not in self.rows and rows:
                keep = active_id if active_id in self.rows else rows[0].id
            for i, vid in enumerate(self._order):
                if vid == keep:
                    self.setCurrentRow(i)
                if vid in selected or vid == keep:
                    self.item(i).setSelected(True)
        finally:
            self.blockSignals(blocker)
        self._fit_height()
        self.viewport().update()

    def set_progress(self, variant_id: str, progress: float) -> bool:
        """Move a tile's progress bar; False if the variant is not shown."""
        row = self.rows.get(variant_id)
        if row is None or row.status not in UNFINISHED:
            return False
        self.progress[variant_id] = max(0.0, min(1.0, float(progress)))
        i = self._order.index(variant_id)
        self.update(self.indexFromItem(self.item(i)))
        return True

    def current_variant(self) -> str | None:
        item = self.currentItem()
        return None if item is None else item.data(ROW_ROLE).id

    def selected_variants(self) -> list[str]:
        """Selected tiles in grid order (the current one if nothing is selected)."""
        chosen = {it.data(ROW_ROLE).id for it in self.selectedItems()}
        out = [v for v in self._order if v in chosen]
        cur = self.current_variant()
        return out or ([cur] if cur else [])

    def select_variant(self, variant_id: str) -> None:
        """Make ``variant_id`` current and the only selected tile."""
        if variant_id in self.rows:
            flag = QItemSelectionModel.SelectionFlag.ClearAndSelect
            self.setCurrentRow(self._order.index(variant_id), flag)

    def pixmap(self, variant_id: str) -> QPixmap | None:
        return self._pixmaps.get(variant_id)

    def tile(self, variant_id: str) -> TileState:
        r = self.rows[variant_id]
        progress = self.progress.get(variant_id) if r.status in UNFINISHED else None
        if r.status in UNFINISHED and progress is None:
            progress = 0.0
        error = (r.error_message or r.error_code or "failed") if r.status == "failed" else ""
        return TileState(
            r.id,
            self._order.index(variant_id) + 1,
            r.status,
            BADGES.get(r.status, "failed" if r.status == "failed" else ""),
            progress,
            error,
            bool(r.starred),
            r.rating,
            r.id == self.active_id,
        )

    @staticmethod
    def _tooltip(r: VariantRow) -> str:
        lines = [r.status]
        if r.width and r.height:
            lines.append(f"{r.width}×{r.height}")
        if r.duration_ms:
            lines.append(f"{r.duration_ms / 1000:.1f} s")
        if r.status == "failed":
            lines.append(r.error_message or r.error_code or "")
        return "\n".join(x for x in lines if x)

    # ------------------------------------------------------------------ qt
    def _on_current(self, current: QListWidgetItem | None, _prev: object) -> None:
        if current is not None:
            self.current_changed.emit(current.data(ROW_ROLE).id)

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        data = QMimeData()
        ids = [it.data(ROW_ROLE).id for it in items]
        put_variants(data, self.space_id, ids)
        if self.media_dir is not None:
            urls = [
                QUrl.fromLocalFile(str(self.media_dir / r.media_path))
                for r in (it.data(ROW_ROLE) for it in items)
                if r.media_path
            ]
            data.setUrls(urls)
        return data

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._fit_height()

    def _fit_height(self) -> None:
        """As tall as the tiles need, up to ``max_rows`` rows (then it scrolls)."""
        if self.max_rows <= 0:
            return
        cols = max(1, self.viewport().width() // CELL.width())
        rows = max(1, -(-self.count() // cols))
        self.setFixedHeight(min(rows, self.max_rows) * CELL.height() + 2 * self.frameWidth() + 4)


class VariantDelegate(QStyledItemDelegate):
    def __init__(self, grid: VariantGrid) -> None:
        super().__init__(grid)
        self.grid = grid
        self.small = QFont()
        self.small.setPointSizeF(7.5)
        self.bold = QFont(self.small)
        self.bold.setBold(True)

    def sizeHint(
        self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex
    ) -> QSize:
        return CELL

    def paint(
        self,
        p: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        row: VariantRow = index.data(ROW_ROLE)
        if row is None or row.id not in self.grid.rows:
            return
        t = self.grid.tile(row.id)
        cell: QRect = option.rect
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        tile = QRect(cell.x() + PAD, cell.y() + PAD, TILE + 4, TILE + 4)
        thumb = tile.adjusted(2, 2, -2, -2)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#2f3a4d" if selected else "#262a33"))
        p.drawRoundedRect(cell.adjusted(1, 1, -1, -1), 6, 6)
        p.fillRect(thumb, QColor("#15171c"))
        pm = self.grid.pixmap(row.id)
        if pm is not None:
            x = thumb.x() + (thumb.width() - pm.width()) // 2
            y = thumb.y() + (thumb.height() - pm.height()) // 2
            p.drawPixmap(x, y, pm)
        if t.status == "failed":
            p.fillRect(thumb, QColor(120, 30, 30, 150))
            p.setPen(QColor("#ffb3b3"))
            p.setFont(self.small)
            flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
            p.drawText(thumb.adjusted(4, 18, -4, -4), int(flags), t.error[:120])
        elif t.status in UNFINISHED:
            p.fillRect(thumb, QColor(0, 0, 0, 90))
        if t.progress is not None:
            bar = QRect(thumb.x() + 6, thumb.bottom() - 10, thumb.width() - 12, 5)
            p.setBrush(QColor("#3a3f4a"))
            p.drawRoundedRect(bar, 2, 2)
            fill = QRect(bar.x(), bar.y(), int(bar.width() * t.progress), bar.height())
            p.setBrush(C_ACCENT)
            p.drawRoundedRect(fill, 2, 2)
        if t.badge:
            self._badge(p, thumb.x() + 3, thumb.y() + 3, t.badge, t.status == "failed")
        if t.starred:
            p.setPen(C_STAR)
            p.setFont(self.bold)
            p.drawText(
                QRect(thumb.right() - 18, thumb.y() + 1, 16, 16), Qt.AlignmentFlag.AlignCenter, "★"
            )
        if t.rating in ("approved", "rejected"):
            ok = t.rating == "approved"
            r = QRect(thumb.right() - 17, thumb.bottom() - 17, 15, 15)
            p.setPen(Qt.PenStyle.NoPen)
            p.setBrush(QColor("#2f8f5b") if ok else QColor("#b04444"))
            p.drawEllipse(r)
            p.setPen(QColor("white"))
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, "✓" if ok else "✗")
        if t.active:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(C_ACTIVE, 2.5))
            p.drawRoundedRect(tile.adjusted(1, 1, -1, -1), 5, 5)
        elif selected:
            p.setBrush(Qt.BrushStyle.NoBrush)
            p.setPen(QPen(C_ACCENT, 1.5))
            p.drawRoundedRect(tile.adjusted(1, 1, -1, -1), 5, 5)
        caption = f"#{t.index}" + (" · active" if t.active else "")
        if row.duration_ms and t.status == "completed":
            caption += f" · {row.duration_ms / 1000:.1f}s"
        p.setPen(C_ACTIVE if t.active else C_TEXT_DIM)
        p.setFont(self.small)
        p.drawText(
            QRect(cell.x(), tile.bottom() + 1, cell.width(), CAPTION_H),
            Qt.AlignmentFlag.AlignCenter,
            caption,
        )
        p.restore()

    def _badge(self, p: QPainter, x: int, y: int, text: str, failed: bool) -> None:
        p.setFont(self.bold)
        w = p.fontMetrics().horizontalAdvance(text) + 8
        r = QRect(x, y, w, 13)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(C_FAILED if failed else QColor(30, 34, 42, 220))
        p.drawRoundedRect(r, 3, 3)
        p.setPen(QColor("white"))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
