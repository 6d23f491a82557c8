"""Colours, pens, fonts and glyph paths the canvas paints with, made once on first use
(never at import time) so ``paint()`` allocates nothing."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QFont, QFontMetricsF, QPainterPath, QPen, QPixmap

from studio.ui.canvas.geometry import CARD_H, CARD_W, FOOTER_H

KIND_COLOURS = {"image": "#3d5a80", "audio": "#2a7f78", "video": "#6d4c8f"}
FRAME_COLOUR = "#5b6b82"


def cosmetic(colour: QColor | str, width: float = 1.0) -> QPen:
    pen = QPen(QColor(colour), width)
    pen.setCosmetic(True)
    pen.setJoinStyle(Qt.PenJoinStyle.MiterJoin)
    return pen


@dataclass(frozen=True, slots=True)
class Theme:
    canvas: QColor
    canvas_dot: QColor
    card: QColor
    card_border: QPen
    footer: QColor
    text: QColor
    text_dim: QColor
    accent: QColor
    accent_pen: QPen
    accent_fill: QColor
    match_pen: QPen
    failed: QColor
    failed_pen: QPen
    cancelled: QColor
    busy: QColor
    busy_track: QColor
    spinner_pen: QPen
    star: QColor
    star_outline: QPen
    dim: QColor
    kind: dict[str, QColor]
    kind_light: dict[str, QColor]
    name_font: QFont
    name_metrics: QFontMetricsF
    small_font: QFont
    badge_font: QFont
    title_font: QFont
    title_metrics: QFontMetricsF
    card_rect: QRectF
    bound_rect: QRectF
    thumb_box: QRectF
    footer_rect: QRectF
    star_path: QPainterPath
    link_path: QPainterPath
    glyphs: dict[str, QPainterPath]
    dot_brush: QBrush
    no_pen: QPen


def _star(cx: float, cy: float, r: float) -> QPainterPath:
    import math

    path = QPainterPath()
    for i in range(10):
        rad = r if i % 2 == 0 else r * 0.45
        a = -math.pi / 2 + i * math.pi / 5
        p = QPointF(cx + rad * math.cos(a), cy + rad * math.sin(a))
        if i == 0:
            path.moveTo(p)
        else:
            path.lineTo(p)
    path.closeSubpath()
    return path


def _glyphs() -> dict[str, QPainterPath]:
    """12 x 12 media-kind glyphs with their top-left at (0, 0)."""
    image = QPainterPath()
    image.addRect(QRectF(0, 1, 12, 10))
    hole = QPainterPath()
    hole.addRect(QRectF(1.5, 2.5, 9, 7))
    image = image.subtracted(hole)
    mountain = QPainterPath(QPointF(2, 9))
    mountain.lineTo(5, 5)
    mountain.lineTo(7, 7)
    mountain.lineTo(8.5, 5.5)
    mountain.lineTo(10, 9)
    mountain.closeSubpath()
    image.addPath(mountain)
    audio = QPainterPath()
    for i, h in enumerate((4, 8, 12, 7, 10, 5)):
        audio.addRect(QRectF(i * 2, (12 - h) / 2, 1.3, h))
    video = QPainterPath(QPointF(2, 1))
    video.lineTo(11, 6)
    video.lineTo(2, 11)
    video.closeSubpath()
    return {"image": image, "audio": audio, "video": video}


def _link() -> QPainterPath:
    """A small 'inside a parent' corner arrow, 10 x 10."""
    path = QPainterPath(QPointF(1, 0))
    path.lineTo(1, 7)
    path.lineTo(7, 7)
    path.lineTo(7, 9.5)
    path.lineTo(10, 6)
    path.lineTo(7, 2.5)
    path.lineTo(7, 5)
    path.lineTo(3, 5)
    path.lineTo(3, 0)
    path.closeSubpath()
    return path


def _round_pen(colour: QColor, width: float) -> QPen:
    pen = QPen(colour, width)
    pen.setCapStyle(Qt.PenCapStyle.RoundCap)
    return pen


def _dot_brush(canvas: QColor, dot: QColor) -> QBrush:
    tile = QPixmap(40, 40)
    tile.fill(canvas)
    from PySide6.QtGui import QPainter

    p = QPainter(tile)
    p.fillRect(QRectF(0, 0, 2, 2), dot)
    p.end()
    return QBrush(tile)


@cache
def theme() -> Theme:
    canvas = QColor("#1b1c1f")
    dot = QColor("#2e3036")
    name_font = QFont()
    name_font.setPixelSize(13)
    name_font.setWeight(QFont.Weight.Medium)
    small = QFont()
    small.setPixelSize(11)
    badge = QFont()
    badge.setPixelSize(11)
    badge.setWeight(QFont.Weight.DemiBold)
    title = QFont()
    title.setPixelSize(14)
    title.setWeight(QFont.Weight.DemiBold)
    kind = {k: QColor(v) for k, v in KIND_COLOURS.items()}
    return Theme(
        canvas=canvas,
        canvas_dot=dot,
        card=QColor("#26282d"),
        card_border=cosmetic("#3a3d45"),
        footer=QColor(14, 15, 18, 200),
        text=QColor("#eceef2"),
        text_dim=QColor("#9aa0ab"),
        accent=QColor("#4c8dff"),
        accent_pen=cosmetic("#4c8dff", 3.0),
        accent_fill=QColor(76, 141, 255, 60),
        match_pen=cosmetic("#f2c94c", 3.0),
        failed=QColor("#e5484d"),
        failed_pen=cosmetic("#e5484d", 2.0),
        cancelled=QColor("#4a4e57"),
        busy=QColor("#4c8dff"),
        busy_track=QColor(255, 255, 255, 40),
        spinner_pen=_round_pen(QColor("#eceef2"), 4.0),
        star=QColor("#f5c542"),
        star_outline=QPen(QColor("#f5c542"), 1.5),
        dim=QColor(27, 28, 31, 200),
        kind=kind,
        kind_light={k: c.lighter(135) for k, c in kind.items()},
        name_font=name_font,
        name_metrics=QFontMetricsF(name_font),
        small_font=small,
        badge_font=badge,
        title_font=title,
        title_metrics=QFontMetricsF(title),
        card_rect=QRectF(0, 0, CARD_W, CARD_H),
        bound_rect=QRectF(-4, -4, CARD_W + 8, CARD_H + 8),
        thumb_box=QRectF(0, 0, CARD_W, CARD_H),
        footer_rect=QRectF(0, CARD_H - FOOTER_H, CARD_W, FOOTER_H),
        star_path=_star(0, 0, 7),
        link_path=_link(),
        glyphs=_glyphs(),
        dot_brush=_dot_brush(canvas, dot),
        no_pen=QPen(Qt.PenStyle.NoPen),
    )


def kind_colour(kind: str) -> QColor:
    t = theme()
    return t.kind.get(kind, t.card)
