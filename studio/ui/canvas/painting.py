"""What the canvas view paints around the items: the background (and its dot grid when
zoomed in enough), the snapping guides and the drag hint."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRect, QRectF, Qt
from PySide6.QtGui import QPainter, QPen

from studio.ui.canvas.theme import theme

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView

DOTS_FROM_SCALE = 0.45


def draw_background(view: CanvasView, p: QPainter, rect: QRectF | QRect) -> None:
    t = theme()
    p.fillRect(rect, t.canvas)
    if view.current_scale() >= DOTS_FROM_SCALE:
        p.fillRect(rect, t.dot_brush)


def draw_foreground(view: CanvasView, p: QPainter, rect: QRectF | QRect) -> None:
    gx, gy = view.drag.guides
    if gx is not None or gy is not None:
        pen = QPen(theme().accent, 1, Qt.PenStyle.DashLine)
        pen.setCosmetic(True)
        p.setPen(pen)
        if gx is not None:
            p.drawLine(QPointF(gx, rect.top()), QPointF(gx, rect.bottom()))
        if gy is not None:
            p.drawLine(QPointF(rect.left(), gy), QPointF(rect.right(), gy))
    if view.drag.hint:
        p.save()
        p.resetTransform()
        r = hint_rect(view.drag.hint, view.drag.hint_at)
        t = theme()
        p.fillRect(r, t.accent)
        p.setPen(t.text)
        p.setFont(t.small_font)
        p.drawText(r, Qt.AlignmentFlag.AlignCenter, view.drag.hint)
        p.restore()


def hint_rect(text: str, at: QPointF) -> QRect:
    """Where the drag hint ``text`` is drawn for the cursor at ``at`` (viewport)."""
    if not text:
        return QRect()
    w = int(theme().name_metrics.horizontalAdvance(text)) + 20
    return QRect(int(at.x()) + 16, int(at.y()) + 18, w, 24)


def paint_far_stand_in(view: CanvasView, rect: QRect) -> None:
    """Paint viewport ``rect`` as the far overview of every card (no items): what the
    view shows while a level-of-detail switch flags the cards (``ViewPacer.hold``)."""
    p = QPainter(view.viewport())
    p.setClipRect(rect)
    p.setTransform(view.viewportTransform())
    exposed = view.mapToScene(rect).boundingRect()
    view.canvas_scene.pacer.paint_far(view, p, lambda: draw_background(view, p, exposed))
    p.end()
