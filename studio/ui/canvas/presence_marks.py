"""What a card shows about other people and about the user's own waiting edits (a joined
space): round avatars with initials of the people who have it selected, a thin border in
the first one's colour, and a small clock when an edit of it waits to be sent.

Painted by the card itself from :class:`~studio.ui.canvas.card_status.CanvasContext`
(``presence``: asset id → avatars, ``pending``: asset ids): no widget per card, and a
presence update repaints only the cards whose avatars changed. The sizes stay about the
same on screen at every zoom the cards paint themselves (FULL and SIMPLE levels of
detail); at FAR zoom the overview draws the cards and shows neither.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QPainter, QPen, QPixmap

from studio.ui.canvas.geometry import CARD_H, CARD_W, FOOTER_H

SCREEN_D = 26.0
"""An avatar's diameter on screen, in pixels (at most a fifth of the card's width)."""
MAX_SHOWN = 3
"""Avatars drawn on one card; more people are one "+N" circle."""
TEXT_FROM_PX = 14.0
"""Initials are written while an avatar is at least this big on screen."""
PENDING_COLOUR = "#e8a33c"


@dataclass(frozen=True, slots=True)
class Avatar:
    """One person as the canvas and the details show them: ``key`` is their device (or
    the host's id), ``colour`` a ``#rrggbb`` string (see ``studio.ui.sharing.people``)."""

    key: str
    name: str
    initials: str
    colour: str


_colours: dict[str, QColor] = {}
_fonts: dict[int, QFont] = {}
_DARK = QColor("#1b1c1f")
_WHITE = QColor("#ffffff")


def _cosmetic(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setCosmetic(True)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


_RING = _cosmetic(_DARK, 1.5)
_HANDS = _cosmetic(_DARK, 2.0)


def qcolour(hex_: str) -> QColor:
    """One QColor per colour string (painting allocates nothing per frame)."""
    got = _colours.get(hex_)
    if got is None:
        got = _colours[hex_] = QColor(hex_)
    return got


def _font(px: int) -> QFont:
    got = _fonts.get(px)
    if got is None:
        got = _fonts[px] = QFont()
        got.setPixelSize(px)
        got.setWeight(QFont.Weight.DemiBold)
    return got


def diameter(scale: float) -> float:
    """An avatar's diameter in card coordinates at the view's ``scale``."""
    return min(CARD_W * 0.2, SCREEN_D / max(scale, 1e-3))


def avatar_rects(count: int, scale: float) -> list[QRectF]:
    """Where the avatars of ``count`` people go (right to left above the footer); with
    more than :data:`MAX_SHOWN`, the last rectangle is the "+N" circle."""
    d = diameter(scale)
    step = d * 0.9
    y = CARD_H - FOOTER_H - d - d * 0.25
    right = CARD_W - d * 0.25
    shown = min(count, MAX_SHOWN + 1)
    return [QRectF(right - d - i * step, y, d, d) for i in range(shown)]


def clock_rect(scale: float) -> QRectF:
    d = diameter(scale)
    return QRectF(d * 0.25, CARD_H - FOOTER_H - d - d * 0.25, d, d)


def paint_presence(p: QPainter, avatars: tuple[Avatar, ...], scale: float) -> None:
    """The people who have this card selected: a border in the first one's colour and
    up to :data:`MAX_SHOWN` avatars (then "+N") — one pixmap per row of faces and size,
    made once (a card then costs a few fills and one drawPixmap)."""
    brush = _brushes.get(avatars[0].colour)
    if brush is None:
        brush = _brushes[avatars[0].colour] = QBrush(qcolour(avatars[0].colour))
    for edge in _edges(scale):
        p.fillRect(edge, brush)
    rects = avatar_rects(len(avatars), scale)
    extra = len(avatars) - MAX_SHOWN if len(avatars) > MAX_SHOWN + 1 else 0
    faces = tuple((a.colour, a.initials) for a in avatars[: len(rects)])
    if extra:
        faces = (*faces[:-1], ("#4a4e57", f"+{extra}"))
    ratio = p.device().devicePixelRatioF() if p.device() is not None else 1.0
    pm = _row(faces, rects[0].width() * scale, ratio)
    left = rects[-1]
    target = QRectF(left.x(), left.y(), rects[0].right() - left.x(), left.height())
    p.drawPixmap(target, pm, QRectF(pm.rect()))


_edge_cache: list[tuple[float, tuple[QRectF, ...]]] = [(0.0, ())]
_brushes: dict[str, QBrush] = {}
_rows: dict[tuple[tuple[tuple[str, str], ...], int, float], QPixmap] = {}


def _edges(scale: float) -> tuple[QRectF, ...]:
    """The border, 2 px on screen just inside the selection's outline, as four
    rectangles (filling them costs a third of stroking a rectangle); made per zoom."""
    at, edges = _edge_cache[0]
    if at != scale:
        w = 2.0 / max(scale, 1e-3)
        a = w * 1.25
        edges = (
            QRectF(a, a, CARD_W - 2 * a, w),
            QRectF(a, CARD_H - a - w, CARD_W - 2 * a, w),
            QRectF(a, a, w, CARD_H - 2 * a),
            QRectF(CARD_W - a - w, a, w, CARD_H - 2 * a),
        )
        _edge_cache[0] = (scale, edges)
    return edges


def _row(faces: tuple[tuple[str, str], ...], on_screen: float, ratio: float) -> QPixmap:
    """Discs of ``faces`` (colour, text) right to left, the first on top, as one pixmap."""
    px = max(4, round(on_screen))
    key = (faces, px, ratio)
    pm = _rows.get(key)
    if pm is not None:
        return pm
    if len(_rows) >= MAX_DISCS:
        _rows.clear()
    step = px * 0.9
    width = px + step * (len(faces) - 1)
    pm = QPixmap(round(width * ratio), round(px * ratio))
    pm.setDevicePixelRatio(ratio)
    pm.fill(Qt.GlobalColor.transparent)
    q = QPainter(pm)
    for i in reversed(range(len(faces))):
        colour, text = faces[i]
        q.drawPixmap(QPointF(width - px - i * step, 0), _disc(colour, text, px, ratio))
    q.end()
    _rows[key] = pm
    return pm


def paint_pending(p: QPainter, scale: float) -> None:
    """A small clock: an edit of this card waits to be sent to the host."""
    r = clock_rect(scale)
    ratio = p.device().devicePixelRatioF() if p.device() is not None else 1.0
    pm = _disc(PENDING_COLOUR, _CLOCK, r.width() * scale, ratio)
    p.drawPixmap(r, pm, QRectF(pm.rect()))


_CLOCK = "\0clock"  # not initials: the clock's hands
_discs: dict[tuple[str, str, int, float], QPixmap] = {}
MAX_DISCS = 512


def _disc(fill: str, text: str, on_screen: float, ratio: float) -> QPixmap:
    """A filled circle with a dark ring and white ``text`` (or a clock), ``on_screen``
    pixels across: made once per colour, text and whole pixel size."""
    px = max(4, round(on_screen))
    key = (fill, text, px, ratio)
    pm = _discs.get(key)
    if pm is not None:
        return pm
    if len(_discs) >= MAX_DISCS:  # zooming through many sizes: start again
        _discs.clear()
    pm = QPixmap(round(px * ratio), round(px * ratio))
    pm.setDevicePixelRatio(ratio)
    pm.fill(Qt.GlobalColor.transparent)
    q = QPainter(pm)
    q.setRenderHint(QPainter.RenderHint.Antialiasing)
    r = QRectF(0.75, 0.75, px - 1.5, px - 1.5)
    q.setPen(_RING)
    q.setBrush(qcolour(fill))
    q.drawEllipse(r)
    if text == _CLOCK:
        q.setPen(_HANDS)
        c, h = r.center(), r.height()
        q.drawLine(c, QPointF(c.x(), c.y() - h * 0.3))
        q.drawLine(c, QPointF(c.x() + h * 0.22, c.y() + h * 0.08))
    elif px >= TEXT_FROM_PX:
        q.setFont(_font(max(8, int(px * 0.42))))
        q.setPen(_WHITE)
        q.drawText(r, Qt.AlignmentFlag.AlignCenter, text)
    q.end()
    _discs[key] = pm
    return pm
