"""FrameItem: a titled rectangle grouping cards, a view of one ``frames`` row.

The row's rectangle is the frame's content area; the title tab sits above its top-left
corner and stays readable when zoomed out (it is drawn at a constant on-screen size
below 1:1). Only the title, the border and the bottom-right resize handle take the
mouse: clicks inside the frame reach the cards and the canvas (rubber band).
"""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPainterPath, QPen
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.store.records import FrameRow
from studio.ui.canvas.geometry import FRAME_TITLE_H, Rect
from studio.ui.canvas.theme import FRAME_COLOUR, theme

HANDLE_PX = 14.0  # resize handle, device pixels
BORDER_PX = 6.0  # grab width of the border, device pixels


class FrameItem(QGraphicsItem):
    def __init__(self, row: FrameRow, scale: float = 1.0) -> None:
        super().__init__()
        self.row = row
        self.dragging = False
        self.highlight = False
        self._scale = scale
        self._title_w = 0.0
        self._colour = QColor()
        self._fill = QColor()
        self._pen = QPen()
        self._apply_colour()
        self.setZValue(-10)
        self.setAcceptHoverEvents(True)
        self.set_rect_visual(row.x, row.y, row.width, row.height)

    @property
    def frame_id(self) -> str:
        return self.row.id

    def _apply_colour(self) -> None:
        c = QColor(self.row.color or FRAME_COLOUR)
        if not c.isValid():
            c = QColor(FRAME_COLOUR)
        self._colour = c
        self._fill = QColor(c.red(), c.green(), c.blue(), 26)
        self._pen = QPen(c.lighter(120), 1.5)
        self._pen.setCosmetic(True)
        self._title_w = theme().title_metrics.horizontalAdvance(self.row.title or "Frame") + 20

    def set_row(self, row: FrameRow) -> None:
        old = self.row
        self.row = row
        if (row.title, row.color) != (old.title, old.color):
            self.prepareGeometryChange()
            self._apply_colour()
        if not self.dragging:
            self.set_rect_visual(row.x, row.y, row.width, row.height)
        self.update()

    def set_rect_visual(self, x: float, y: float, w: float, h: float) -> None:
        self.prepareGeometryChange()
        self.fx, self.fy, self.fw, self.fh = x, y, w, h
        self.setPos(x, y)

    def rect(self) -> Rect:
        return Rect(self.fx, self.fy, self.fw, self.fh)

    def set_scale(self, scale: float) -> None:
        if scale != self._scale:
            self.prepareGeometryChange()
            self._scale = scale

    # ------------------------------------------------------------------ geometry
    def _k(self) -> float:
        """Scene units per device pixel for the title (constant size below 1:1)."""
        return 1.0 / min(1.0, max(self._scale, 0.01))

    def title_rect(self) -> QRectF:
        k = self._k()
        h = FRAME_TITLE_H * k
        return QRectF(0, -h - 4 * k, min(self._title_w * k, max(self.fw, 120 * k)), h)

    def handle_rect(self) -> QRectF:
        s = HANDLE_PX / max(self._scale, 0.01)
        return QRectF(self.fw - s, self.fh - s, s, s)

    def boundingRect(self) -> QRectF:
        return QRectF(0, 0, self.fw, self.fh).united(self.title_rect()).adjusted(-2, -2, 2, 2)

    def shape(self) -> QPainterPath:
        b = BORDER_PX / max(self._scale, 0.01)
        outer = QPainterPath()
        outer.addRect(QRectF(-b / 2, -b / 2, self.fw + b, self.fh + b))
        inner = QPainterPath()
        inner.addRect(QRectF(b / 2, b / 2, self.fw - b, self.fh - b))
        path = outer.subtracted(inner)
        path.addRect(self.title_rect())
        path.addRect(self.handle_rect())
        return path

    def part_at(self, scene_pos: QPointF) -> str | None:
        """``"handle"``, ``"title"``, ``"border"`` or None for a scene point."""
        local = self.mapFromScene(scene_pos)
        if self.handle_rect().contains(local):
            return "handle"
        if self.title_rect().contains(local):
            return "title"
        if self.shape().contains(local):
            return "border"
        return None

    # ------------------------------------------------------------------ painting
    def paint(
        self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        t = theme()
        body = QRectF(0, 0, self.fw, self.fh)
        p.fillRect(body, self._fill)
        p.setPen(self._pen if not self.highlight else t.accent_pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(body)
        tr = self.title_rect()
        k = self._k()
        p.fillRect(tr, self._colour if not self.highlight else t.accent)
        p.save()
        p.translate(tr.topLeft())
        p.scale(k, k)
        p.setFont(t.title_font)
        p.setPen(t.text)
        text = t.title_metrics.elidedText(
            self.row.title or "Frame", Qt.TextElideMode.ElideRight, tr.width() / k - 20
        )
        p.drawText(
            QRectF(10, 0, tr.width() / k - 20, FRAME_TITLE_H),
            Qt.AlignmentFlag.AlignVCenter | Qt.AlignmentFlag.AlignLeft,
            text,
        )
        p.restore()
        hr = self.handle_rect()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        p.setPen(Qt.PenStyle.NoPen)
        p.setBrush(self._colour.lighter(130))
        tri = QPainterPath(hr.bottomLeft())
        tri.lineTo(hr.bottomRight())
        tri.lineTo(hr.topRight())
        tri.closeSubpath()
        p.drawPath(tri)
