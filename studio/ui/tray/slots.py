"""The forge tray's reference slots strip.

The strip paints its slots itself (a 56 px thumbnail, an index badge and a × each), so
hit-testing, reordering by drag and dropping variants in stay in one small widget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QMimeData,
    QPoint,
    QPointF,
    QRect,
    QRectF,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import (
    QColor,
    QDrag,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFont,
    QHelpEvent,
    QMouseEvent,
    QPainter,
    QPainterPath,
    QPaintEvent,
    QPen,
    QPixmap,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QApplication,
    QScrollArea,
    QToolTip,
    QWidget,
)

from studio.ui.images import read_image
from studio.ui.mime import get_variants, put_variants
from studio.ui.tray.state import SlotRef

SLOT = 56
GAP = 6
PAD = 4
CLOSE = 16  # the × button's diameter
SLOT_MIME = "application/x-forge-studio-tray-slot"
KIND_COLOURS = {"image": "#3d5a80", "audio": "#2a7f78", "video": "#6d4c8f"}
KIND_GLYPHS = {"image": "\u25a7", "audio": "\u266a", "video": "\u25b6"}


def load_thumb(path: Path, side: int = SLOT) -> QPixmap | None:
    """A square, centre-cropped thumbnail (small files: fine on the UI thread)."""
    image = read_image(path, side * 2, cover=True)  # 2x for high-dpi screens
    if image.isNull():
        return None
    s = min(image.width(), image.height())
    image = image.copy((image.width() - s) // 2, (image.height() - s) // 2, s, s)
    return QPixmap.fromImage(image)


class SlotsStrip(QWidget):
    """Reference slots, left to right. Signals: ``removed(index)``, ``moved(src, dst)``
    (dst: the slot index it lands before) and ``dropped(variant_ids, index)``."""

    removed = Signal(int)
    moved = Signal(int, int)
    dropped = Signal(list, int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("traySlots")
        self.setAcceptDrops(True)
        self.setMouseTracking(True)
        self.space_id = ""
        self._slots: tuple[SlotRef, ...] = ()
        self._thumbs: dict[str, QPixmap | None] = {}
        self._media_dir: Path | None = None
        self._press: tuple[QPoint, int] | None = None
        self._drop_at: int | None = None
        self._hover: int | None = None
        self.setFixedHeight(SLOT + 2 * PAD)
        self._resize()

    # ------------------------------------------------------------------ contents
    def set_slots(self, slots: Sequence[SlotRef], media_dir: Path | None) -> None:
        if media_dir != self._media_dir:
            self._thumbs.clear()
        self._media_dir = media_dir
        self._slots = tuple(slots)
        live = {s.thumb for s in self._slots if s.thumb}
        self._thumbs = {k: v for k, v in self._thumbs.items() if k in live}
        self._hover = None
        self._resize()
        self.update()

    def slots(self) -> tuple[SlotRef, ...]:
        return self._slots

    def _thumb(self, slot: SlotRef) -> QPixmap | None:
        if not slot.thumb or self._media_dir is None:
            return None
        if slot.thumb not in self._thumbs:
            self._thumbs[slot.thumb] = load_thumb(self._media_dir / slot.thumb)
        return self._thumbs[slot.thumb]

    def _resize(self) -> None:
        n = len(self._slots)
        width = PAD * 2 + n * SLOT + max(0, n - 1) * GAP if n else 3 * SLOT + 2 * GAP + 2 * PAD
        self.setFixedWidth(width)

    def sizeHint(self) -> QSize:
        return QSize(self.width(), SLOT + 2 * PAD)

    # ------------------------------------------------------------------ geometry
    def slot_rect(self, index: int) -> QRect:
        return QRect(PAD + index * (SLOT + GAP), PAD, SLOT, SLOT)

    def close_rect(self, index: int) -> QRect:
        r = self.slot_rect(index)
        return QRect(r.right() - CLOSE + 1, r.top(), CLOSE, CLOSE)

    def index_at(self, pos: QPoint) -> int | None:
        for i in range(len(self._slots)):
            if self.slot_rect(i).contains(pos):
                return i
        return None

    def insert_index(self, pos: QPoint) -> int:
        """Where a drop at ``pos`` lands (the index it goes before)."""
        i = round((pos.x() - PAD + GAP / 2) / (SLOT + GAP))
        return max(0, min(len(self._slots), i))

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        if not self._slots:
            self._paint_empty(p)
        for i, slot in enumerate(self._slots):
            self._paint_slot(p, i, slot)
        if self._drop_at is not None:
            x = PAD + self._drop_at * (SLOT + GAP) - GAP // 2 - 1
            p.fillRect(QRect(max(0, x), PAD - 2, 3, SLOT + 4), QColor("#3a7bd5"))
        p.end()

    def _paint_empty(self, p: QPainter) -> None:
        r = QRectF(self.rect()).adjusted(PAD + 0.5, PAD + 0.5, -PAD - 0.5, -PAD - 0.5)
        pen = QPen(QColor("#3a7bd5" if self._drop_at is not None else "#4a5160"), 1.2)
        pen.setStyle(Qt.PenStyle.DashLine)
        p.setPen(pen)
        p.setBrush(QColor("#20242b"))
        p.drawRoundedRect(r, 6, 6)
        p.setPen(QColor("#7d8594"))
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, "Drop references\nhere")

    def _paint_slot(self, p: QPainter, i: int, slot: SlotRef) -> None:
        r = QRectF(self.slot_rect(i))
        clip = QPainterPath()
        clip.addRoundedRect(r, 6, 6)
        p.save()
        p.setClipPath(clip)
        pm = self._thumb(slot)
        if pm is not None:
            p.drawPixmap(r.toRect(), pm)
        else:
            p.fillRect(r, QColor(KIND_COLOURS.get(slot.media_kind, "#4a5160")))
            p.setPen(QColor(255, 255, 255, 200))
            font = QFont(p.font())
            font.setPixelSize(22)
            p.setFont(font)
            p.drawText(r, Qt.AlignmentFlag.AlignCenter, KIND_GLYPHS.get(slot.media_kind, "?"))
        if slot.status != "completed":
            p.fillRect(r, QColor(20, 22, 27, 150))
        p.restore()
        p.setPen(QPen(QColor("#5b6475"), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRoundedRect(r.adjusted(0.5, 0.5, -0.5, -0.5), 6, 6)
        # index badge
        badge = QRectF(r.left() + 3, r.bottom() - 17, 16, 14)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor(15, 17, 21, 210))
        p.drawRoundedRect(badge, 4, 4)
        font = QFont(p.font())
        font.setPixelSize(10)
        font.setBold(True)
        p.setFont(font)
        p.setPen(QColor("#e6e9ef"))
        p.drawText(badge, Qt.AlignmentFlag.AlignCenter, str(i + 1))
        # the × button
        c = QRectF(self.close_rect(i)).adjusted(2, 2, -2, -2)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(QColor("#c0392b") if self._hover == i else QColor(15, 17, 21, 210))
        p.drawEllipse(c)
        p.setPen(QPen(QColor("#e6e9ef"), 1.4))
        m = 3.5
        p.drawLine(c.topLeft() + QPointF(m, m), c.bottomRight() - QPointF(m, m))
        p.drawLine(c.topRight() + QPointF(-m, m), c.bottomLeft() + QPointF(m, -m))

    # ------------------------------------------------------------------ mouse
    def mousePressEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        i = self.index_at(pos)
        if event.button() != Qt.MouseButton.LeftButton or i is None:
            return super().mousePressEvent(event)
        if self.close_rect(i).contains(pos):
            self.removed.emit(i)
            return
        self._press = (pos, i)

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        pos = event.position().toPoint()
        hover = self.index_at(pos)
        hover = hover if hover is not None and self.close_rect(hover).contains(pos) else None
        if hover != self._hover:
            self._hover = hover
            self.update()
        if self._press is None or not event.buttons() & Qt.MouseButton.LeftButton:
            return
        start, index = self._press
        if (pos - start).manhattanLength() < QApplication.startDragDistance():
            return
        self._press = None
        self.start_drag(index)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        self._press = None
        super().mouseReleaseEvent(event)

    def wheelEvent(self, event: QWheelEvent) -> None:
        """The wheel scrolls the strip sideways when it is wider than its scroll area."""
        viewport = self.parentWidget()
        area = viewport.parentWidget() if viewport is not None else None
        if isinstance(area, QScrollArea):
            bar = area.horizontalScrollBar()
            delta = event.angleDelta().y() or event.angleDelta().x()
            bar.setValue(bar.value() - delta // 2)
            event.accept()
            return
        super().wheelEvent(event)

    def leaveEvent(self, event: object) -> None:
        self._hover = None
        self.update()

    def slot_mime(self, index: int) -> QMimeData:
        """A slot as drag data: its position (to reorder here) and its variant (for the
        destination control and other widgets)."""
        data = QMimeData()
        data.setData(SLOT_MIME, QByteArray(f"{id(self)}:{index}".encode()))
        put_variants(data, self.space_id, [self._slots[index].variant_id])
        return data

    def start_drag(self, index: int) -> None:
        drag = QDrag(self)
        drag.setMimeData(self.slot_mime(index))
        pm = self._thumb(self._slots[index])
        if pm is not None:
            drag.setPixmap(pm.scaled(40, 40))
        drag.exec(Qt.DropAction.MoveAction | Qt.DropAction.CopyAction)

    def event(self, e: QEvent) -> bool:
        if isinstance(e, QHelpEvent):
            i = self.index_at(e.pos())
            if i is not None:
                s = self._slots[i]
                tip = f"{i + 1}. {s.asset_name}"
                if s.status != "completed":
                    tip += f" ({s.status})"
                QToolTip.showText(e.globalPos(), tip + "\nDrag to reorder · × to remove", self)
            else:
                QToolTip.hideText()
            return True
        return super().event(e)

    # ------------------------------------------------------------------ dropping
    def _own_index(self, data: QMimeData | None) -> int | None:
        if data is None or not data.hasFormat(SLOT_MIME):
            return None
        owner, _, index = bytes(data.data(SLOT_MIME).data()).decode().partition(":")
        return int(index) if owner == str(id(self)) and index.isdigit() else None

    def _accepts(self, data: QMimeData | None) -> bool:
        return self._own_index(data) is not None or bool(get_variants(data, self.space_id))

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
            self._drop_at = self.insert_index(event.position().toPoint())
            self.update()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
            at = self.insert_index(event.position().toPoint())
            if at != self._drop_at:
                self._drop_at = at
                self.update()
        else:
            event.ignore()

    def dragLeaveEvent(self, event: object) -> None:
        self._drop_at = None
        self.update()

    def dropEvent(self, event: QDropEvent) -> None:
        self._drop_at = None
        self.update()
        data = event.mimeData()
        at = self.insert_index(event.position().toPoint())
        own = self._own_index(data)
        if own is not None:
            event.setDropAction(Qt.DropAction.MoveAction)
            event.accept()
            self.moved.emit(own, at)
            return
        ids = get_variants(data, self.space_id)
        if not ids:
            event.ignore()
            return
        event.acceptProposedAction()
        self.dropped.emit(ids, at)
