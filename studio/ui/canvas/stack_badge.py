"""A stack's count badge when zoomed out (SIMPLE and FAR levels of detail).

At full zoom a parent card draws its badge itself (``AssetCardItem._paint_badge``, 44 ×
22 scene units). Zoomed out that would be a few pixels, so here the badge keeps about
the same size *on screen* (:data:`SCREEN_W` × :data:`SCREEN_H` px, at most 60 % of the
card's width and 40 % of its height), and its count is drawn in screen pixels while it
is tall enough to read. At FAR zoom the overview also draws the stack's edges, thick
enough to see.
"""

from __future__ import annotations

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QPainter

from studio.ui.canvas.geometry import CARD_H, CARD_W
from studio.ui.canvas.theme import Theme

SCREEN_W = 30.0
SCREEN_H = 16.0
"""The badge's size on screen, in pixels (far out: a share of the card, see badge_rect)."""
TEXT_FROM_PX = 10.0
"""The count is written while the badge is at least this tall on screen."""
EDGE_SCREEN_PX = 2.0
MAX_EDGE = 24.0


def badge_rect(scale: float) -> QRectF:
    """The badge in card coordinates (top right corner) at the view's ``scale``."""
    s = max(scale, 1e-3)
    w = min(CARD_W * 0.6, SCREEN_W / s)
    h = min(CARD_H * 0.4, SCREEN_H / s)
    pad = min(6.0, 2.0 / s)
    return QRectF(CARD_W - w - pad, pad, w, h)


def paint_badge(
    p: QPainter, t: Theme, x: float, y: float, count: int, collapsed: bool, scale: float
) -> None:
    """The badge of a stack of ``count`` for the card at (``x``, ``y``)."""
    r = badge_rect(scale).translated(x, y)
    p.fillRect(r, t.accent if not collapsed else t.text_dim)
    on_screen = r.height() * scale
    if on_screen < TEXT_FROM_PX:
        return
    p.save()
    p.translate(r.topLeft())
    p.scale(1.0 / scale, 1.0 / scale)
    p.setFont(t.badge_font)
    p.setPen(t.canvas if collapsed else t.text)
    text = str(count) if count < 1000 else "999+"
    p.drawText(QRectF(0, 0, r.width() * scale, on_screen), Qt.AlignmentFlag.AlignCenter, text)
    p.restore()


def paint_far_stack(
    p: QPainter, t: Theme, x: float, y: float, count: int, collapsed: bool, scale: float
) -> None:
    """FAR zoom (the overview paints it): the stack's edges below and to the right of
    the card, then the badge."""
    d = min(MAX_EDGE, max(5.0, EDGE_SCREEN_PX / max(scale, 1e-3)))
    p.fillRect(QRectF(x + d, y + CARD_H, CARD_W, d), t.text_dim)
    p.fillRect(QRectF(x + CARD_W, y + d, d, CARD_H), t.text_dim)
    paint_badge(p, t, x, y, count, collapsed, scale)
