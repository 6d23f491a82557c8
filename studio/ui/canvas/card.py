"""AssetCardItem: one asset on the canvas, a view of its store rows (never the model).

The card shows the asset's *active* variant: its thumbnail (image thumb, video
poster/thumb, audio waveform thumb), name, media-kind glyph, variant count and star,
and the live status: ``uploading`` a spinner, ``pending``/``processing`` a progress
bar (indeterminate until the job reports progress; "Paused" and a still track while
the queue is paused), ``failed`` a red border and mark with the error as tooltip, and
``cancelled`` (a failed variant whose job was cancelled) a quiet grey mark. When
another variant of the asset is being made, a thin bar runs along the footer.

Star rule: a filled star when the active variant is starred, an outlined star when
only another variant is.

``paint()`` allocates little: texts are ``QStaticText`` built once per name, colours
and paths come from :func:`theme`, and the pixmap's target rectangle is cached per
pixmap. At SIMPLE level of detail (zoomed out) no text is drawn and the 64 px tier is
used; at FAR level the card draws nothing at all (``ItemHasNoContents``) and the
scene's overview item paints it. A stack's count badge shows at every level
(``stack_badge``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QImage, QPainter, QPainterPath, QPixmap, QStaticText
from PySide6.QtWidgets import (
    QGraphicsItem,
    QGraphicsRectItem,
    QStyleOptionGraphicsItem,
    QWidget,
)

from studio.store.records import AssetRow, VariantRow
from studio.ui.canvas.card_status import CanvasContext, CardStatus
from studio.ui.canvas.geometry import (
    CARD_H,
    CARD_W,
    FOOTER_H,
    TIER_FULL,
    TIER_LOW,
    TIER_TINY,
    Lod,
    Rect,
    fit_inside,
)
from studio.ui.canvas.model import (
    BUSY,
    NO_FACTS,
    STAR_ACTIVE,
    STAR_NONE,
    CardFacts,
    shown_status,
    thumb_rel,
)
from studio.ui.canvas.presence_marks import paint_pending, paint_presence
from studio.ui.canvas.stack_badge import paint_badge
from studio.ui.canvas.theme import Theme

if TYPE_CHECKING:
    from studio.ui.canvas.thumbs import Key

_NO_FIT: tuple[QPixmap | None, int, int, int, int] = (None, 0, 0, 0, 0)

_NO_CONTENTS = QGraphicsItem.GraphicsItemFlag.ItemHasNoContents  # looked up once: ~1 µs
_FLAGS = QGraphicsItem.GraphicsItemFlag.ItemIsSelectable
STACK_OFFSET = 5.0  # how far each card edge of a stack shows behind a parent
BADGE_W = 44.0


class AssetCardItem(CardStatus, QGraphicsRectItem):
    """A ``QGraphicsRectItem`` only so that ``boundingRect``/``shape`` stay in C++:
    Qt asks for them twice per card per frame, and a Python override costs ~6 ms per
    10k cards (measured). The rectangle's own pen and brush are never drawn."""

    def __init__(self, ctx: CanvasContext, asset: AssetRow, facts: CardFacts) -> None:
        super().__init__(0.0, 0.0, CARD_W, CARD_H)
        self._ctx = ctx
        self.asset = asset
        self.facts = facts
        self.px = asset.x  # where the card is drawn (differs from the row while dragged)
        self.py = asset.y
        self.dragging = False
        self.progress: tuple[float | None, str] | None = None  # of the shown busy variant
        self.thumb: str | None = None
        self.far_keys: tuple[Key, Key] | None = None  # (low, tiny) cache keys
        self.far_mark = False  # the overview must draw a status mark
        self.far_fit: tuple[QPixmap | None, int, int, int, int] = _NO_FIT  # overview cache
        self._name: QStaticText | None = None
        self._count: QStaticText | None = None
        self._fit: tuple[int, QRectF, QRectF] | None = None
        self.children = 0  # cards inside this one: drawn as a stack with the count
        self.collapsed = False  # its children are hidden (the stack is closed)
        self.hidden = False  # inside a collapsed parent: not drawn, not even far away
        self._thumb_for(facts)
        self.setFlags(_FLAGS)
        self.setPos(asset.x, asset.y)
        self.nocontents = False  # True: the overview paints this card (FAR zoom)
        if ctx.lod is Lod.FAR:
            self.set_nocontents(True)

    # ------------------------------------------------------------------ model
    @property
    def asset_id(self) -> str:
        return self.asset.id

    @property
    def status(self) -> str:
        """The active variant's state as shown (see :func:`shown_status`)."""
        return shown_status(self.facts.active)

    @property
    def animated(self) -> bool:
        """Needs animation ticks: a spinner, or a bar with no progress yet (not while
        the job waits in a paused queue)."""
        if self.status == "uploading":
            return True
        shown = self.shown_busy()
        if shown is None or self._waits_paused(shown):
            return False
        return self.progress is None or self.progress[0] is None

    def shown_busy(self) -> VariantRow | None:
        a = self.facts.active
        if a is not None and a.status in BUSY:
            return a
        return self.facts.busy

    def scene_rect(self) -> Rect:
        """Where the card is drawn, in scene coordinates."""
        return Rect(self.px, self.py, CARD_W, CARD_H)

    def set_rows(self, asset: AssetRow, facts: CardFacts) -> None:
        """New rows for this card (it does not move: the scene decides that)."""
        a, f = self.asset, self.facts
        if (asset.name, facts.count, facts.star) != (a.name, f.count, f.star):
            self._name = self._count = None
        self.asset = asset
        self.facts = facts
        self._thumb_for(facts)
        self.update()

    def set_children(self, count: int, collapsed: bool) -> None:
        """Show this card as a stack of ``count`` children (open or ``collapsed``)."""
        if (count, collapsed) == (self.children, self.collapsed):
            return
        if (count > 0) != (self.children > 0):
            extra = STACK_OFFSET * 2 if count > 0 else 0.0
            self.setRect(0.0, 0.0, CARD_W + extra, CARD_H + extra)
        self.children, self.collapsed = count, collapsed
        self.update()

    def badge_rect(self) -> QRectF:
        """The stack's count badge (a click on it opens or closes the stack)."""
        return QRectF(CARD_W - BADGE_W - 6, 6, BADGE_W, 22)

    def set_progress(self, progress: Mapping[str, tuple[float | None, str]]) -> None:
        """Pick this card's progress (of the variant it shows as busy) from the
        space-wide ``variant id -> (fraction or None, message)`` map."""
        shown = self.shown_busy()
        self.progress = progress.get(shown.id) if shown is not None else None

    def set_tip(self, parent_name: str | None) -> None:
        """Tooltip: the error of a failed active variant, else the parent's name."""
        a, row = self.facts.active, self.asset
        if self.status == "cancelled":
            tip = f"{row.name}: its generation was cancelled (Retry makes it again)"
        elif a is not None and a.status == "failed":
            tip = f"{row.name} failed: {a.error_message or a.error_code or 'unknown error'}"
        elif parent_name is not None and row.parent_asset_id:
            tip = f"{row.name} — inside {parent_name}"
        else:
            tip = ""
        if tip or self.toolTip():
            self.setToolTip(tip)

    def _thumb_for(self, facts: CardFacts) -> None:
        rel = thumb_rel(facts.active, self.asset.media_kind)
        thumb = f"{self._ctx.media_dir}/{rel}" if rel else None
        if thumb != self.thumb:
            self.thumb = thumb
            self.far_keys = ((thumb, TIER_LOW), (thumb, TIER_TINY)) if thumb else None
            self.far_fit = _NO_FIT
        a = facts.active
        self.far_mark = facts.busy is not None or (a is not None and a.status != "completed")

    def set_nocontents(self, on: bool) -> None:
        if on != self.nocontents:
            self.nocontents = on
            self.setFlag(_NO_CONTENTS, on)

    def move_to(self, x: float, y: float) -> None:
        if (x, y) != (self.px, self.py):
            self.px, self.py = x, y
            self.setPos(x, y)  # its tile sits at the origin: the same place in the scene
            tiles = self._ctx.tiles
            if tiles is not None and self.parentItem() is not None:
                tiles.place(self, x, y)  # out of its tile's square: into the next one

    def lift(self, on: bool) -> None:
        """Mark the card as dragged (events then leave its position alone) and raise it
        above the other cards (its tile too: z-order holds between a tile's cards)."""
        self.dragging = on
        self.setZValue(5 if on else 0)
        tiles = self._ctx.tiles
        if tiles is not None:
            if on:
                tiles.raise_card(self)
            else:
                tiles.lower_all()

    # ------------------------------------------------------------------ painting
    def paint(
        self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        ctx = self._ctx
        t = ctx.theme
        if self.match < 0:
            p.setOpacity(0.25)
        if self.children:
            self._paint_stack(p, t)
        if ctx.lod is Lod.FULL:
            self._paint_full(p, ctx, t)
        else:
            self._paint_simple(p, ctx, t)
        aid = self.asset.id
        if ctx.presence and (people := ctx.presence.get(aid)):
            paint_presence(p, people, ctx.scale)
        if aid in ctx.pending:
            paint_pending(p, ctx.scale)

    def _paint_stack(self, p: QPainter, t: Theme) -> None:
        """Two cards' edges behind this one: it holds others."""
        for k in (2, 1):
            d = STACK_OFFSET * k
            p.fillRect(QRectF(d, d, CARD_W, CARD_H), t.footer)
            p.setPen(t.card_border)
            p.drawRect(QRectF(d, d, CARD_W, CARD_H))

    def _paint_badge(self, p: QPainter, t: Theme) -> None:
        r = self.badge_rect()
        p.fillRect(r, t.accent if not self.collapsed else t.footer)
        p.save()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        tri = QPainterPath()
        x, y = r.x() + 8, r.y() + r.height() / 2
        if self.collapsed:  # closed: points right
            tri.moveTo(x - 3, y - 5)
            tri.lineTo(x + 4, y)
            tri.lineTo(x - 3, y + 5)
        else:  # open: points down
            tri.moveTo(x - 5, y - 3)
            tri.lineTo(x + 5, y - 3)
            tri.lineTo(x, y + 4)
        tri.closeSubpath()
        p.fillPath(tri, t.text)
        p.restore()
        p.setFont(t.small_font)
        p.setPen(t.text)
        p.drawText(r.adjusted(14, 0, -4, 0), Qt.AlignmentFlag.AlignCenter, str(self.children))

    def _draw_thumb(self, p: QPainter, pm: QPixmap) -> None:
        key = pm.cacheKey()
        fit = self._fit
        if fit is None or fit[0] != key:
            r = fit_inside(pm.width(), pm.height(), Rect(0, 0, CARD_W, CARD_H))
            fit = self._fit = (key, QRectF(r.x, r.y, r.w, r.h), QRectF(pm.rect()))
        p.drawPixmap(fit[1], pm, fit[2])

    def _paint_simple(self, p: QPainter, ctx: CanvasContext, t: Theme) -> None:
        pm = ctx.thumbs.get(self.thumb, TIER_LOW) if self.thumb else None
        if pm is None:
            p.fillRect(t.card_rect, t.kind.get(self.asset.media_kind, t.card))
        else:
            p.fillRect(t.card_rect, t.card)
            self._draw_thumb(p, pm)
        status = self.status
        if status == "failed":
            p.fillRect(QRectF(0, CARD_H - 48, CARD_W, 48), t.failed)
        elif status == "cancelled":
            p.fillRect(QRectF(0, CARD_H - 48, CARD_W, 48), t.cancelled)
        elif self.shown_busy() is not None:
            self._paint_bar(p, t, QRectF(0, CARD_H - 40, CARD_W, 40))
        if self.children:  # zoomed out: a badge about as big on screen as at 1:1
            paint_badge(p, t, 0.0, 0.0, self.children, self.collapsed, ctx.scale)
        self._paint_outline(p, ctx, t)

    def _paint_full(self, p: QPainter, ctx: CanvasContext, t: Theme) -> None:
        p.fillRect(t.card_rect, t.card)
        pm = ctx.thumbs.best(self.thumb, TIER_FULL) if self.thumb else None
        if pm is not None:
            self._draw_thumb(p, pm)
        else:
            self._paint_placeholder(p, t)
        self._paint_status(p, t)
        self._paint_footer(p, t)
        if self.asset.parent_asset_id:
            p.fillRect(QRectF(6, 6, 20, 20), t.footer)
            p.translate(11, 11)
            p.fillPath(t.link_path, t.text)
            p.translate(-11, -11)
        if self.children:
            self._paint_badge(p, t)
        if ctx.drop_target == self.asset.id:
            p.fillRect(t.card_rect, t.accent_fill)
        self._paint_outline(p, ctx, t)

    def _paint_footer(self, p: QPainter, t: Theme) -> None:
        fr = t.footer_rect
        p.fillRect(fr, t.footer)
        glyph = t.glyphs.get(self.asset.media_kind)
        top = fr.y()
        if glyph is not None:
            p.translate(8, top + 9)
            p.fillPath(glyph, t.text_dim)
            p.translate(-8, -(top + 9))
        if self._name is None:
            self._layout_texts(t)
        assert self._name is not None and self._count is not None
        p.setFont(t.name_font)
        p.setPen(t.text)
        p.drawStaticText(QPointF(26, top + 7), self._name)
        right = CARD_W - 8
        if self.facts.count > 1:
            p.setFont(t.small_font)
            p.setPen(t.text_dim)
            w = self._count.size().width()
            right -= w
            p.drawStaticText(QPointF(right, top + 8), self._count)
            right -= 6
        if self.facts.star != STAR_NONE:
            p.save()
            p.setRenderHint(QPainter.RenderHint.Antialiasing)
            p.translate(right - 8, top + FOOTER_H / 2)
            if self.facts.star == STAR_ACTIVE:
                p.fillPath(t.star_path, t.star)
            else:
                p.strokePath(t.star_path, t.star_outline)
            p.restore()

    def _layout_texts(self, t: Theme) -> None:
        count = QStaticText(f"×{self.facts.count}" if self.facts.count > 1 else "")
        count.setTextFormat(Qt.TextFormat.PlainText)
        count.prepare(font=t.small_font)
        reserve = 34 + (count.size().width() + 6 if self.facts.count > 1 else 0)
        reserve += 20 if self.facts.star != STAR_NONE else 0
        elided = t.name_metrics.elidedText(
            self.asset.name, Qt.TextElideMode.ElideRight, CARD_W - reserve
        )
        name = QStaticText(elided)
        name.setTextFormat(Qt.TextFormat.PlainText)
        name.prepare(font=t.name_font)
        self._name, self._count = name, count

    def _paint_outline(self, p: QPainter, ctx: CanvasContext, t: Theme) -> None:
        if self.isSelected():
            pen = t.accent_pen
        elif self.match > 0:
            pen = t.match_pen
        elif self.status == "failed":
            pen = t.failed_pen
        elif ctx.lod is Lod.FULL:
            pen = t.card_border
        else:
            return
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(ctx.outline_rect(pen.widthF()))


def warm_up(ctx: CanvasContext) -> None:
    """Paint a throw-away card once per level of detail so the first real frame does
    not pay for lazy set-up (fonts, text layout, wrappers: ~30-50 ms once)."""
    row = AssetRow("warm-up", "warm-up", "Warm up", "", "image", "[]", None, 0.0, 0.0, None, 0)
    card = AssetCardItem(ctx, row, NO_FACTS)
    image = QImage(64, 64, QImage.Format.Format_ARGB32_Premultiplied)
    painter = QPainter(image)
    option = QStyleOptionGraphicsItem()
    lod = ctx.lod
    for level in (Lod.FULL, Lod.SIMPLE):
        ctx.lod = level
        card.paint(painter, option, None)
    ctx.lod = lod
    painter.end()
