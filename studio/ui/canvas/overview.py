"""OverviewItem: paints the cards that do not paint themselves (FAR zoom), in one loop.

Far out, thousands of cards are on screen and one Python ``paint()`` call per card
costs more than the drawing itself (measured: a fit-all of 10k Python-painted items is
~100 ms; the same cards flagged ``ItemHasNoContents`` plus this one loop ~35 ms). The
cards stay in the scene, visible and selectable (rubber band, clicks, drags all keep
working); they just draw nothing while this item draws their 64 px thumbnails (or a
colour while those load), status marks, stacks with their count badges, filter dimming
and selection outlines.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Iterator, Mapping

from PySide6.QtCore import QObject, QRectF, Qt
from PySide6.QtGui import QPainter, QPainterPath, QPixmap
from PySide6.QtWidgets import QGraphicsItem, QStyleOptionGraphicsItem, QWidget

from studio.ui.canvas.batches import Batches
from studio.ui.canvas.card import AssetCardItem, CanvasContext
from studio.ui.canvas.geometry import CARD_H, CARD_W, TINY_BELOW_PX, Lod, lod_for_scale
from studio.ui.canvas.stack_badge import paint_far_stack

NO_THUMBS_BELOW_PX = 6.0
_W = int(CARD_W)
_H = int(CARD_H)


class OverviewItem(QGraphicsItem):
    def __init__(
        self,
        ctx: CanvasContext,
        cards: Mapping[str, AssetCardItem],
        selected: Callable[[], Collection[AssetCardItem]],
    ) -> None:
        super().__init__()
        self._ctx = ctx
        self._cards = cards
        self._selected = selected
        self._rect = QRectF()
        self.setZValue(-5)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemUsesExtendedStyleOption, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, True)

    def set_rect(self, rect: QRectF) -> None:
        if rect != self._rect:
            self.prepareGeometryChange()
            self._rect = QRectF(rect)

    def set_active(self, on: bool) -> None:
        self.setFlag(QGraphicsItem.GraphicsItemFlag.ItemHasNoContents, not on)
        self.set_cached(on)
        self.update()

    def set_cached(self, on: bool) -> None:
        """Keep what it painted in a pixmap (at FAR zoom, once every card is flagged): a
        frame re-runs the loop below only for the parts that changed (a card's progress,
        a thumbnail that arrived), not for every card on every repaint (a 50-job batch
        at fit-all repainted 20,000 cards several times a second: stalls up to 0.6 s,
        measured). Off while zooming back in (the cache is rebuilt at each new scale)."""
        mode = QGraphicsItem.CacheMode
        self.setCacheMode(mode.DeviceCoordinateCache if on else mode.NoCache)

    def boundingRect(self) -> QRectF:
        return self._rect

    def shape(self) -> QPainterPath:
        return QPainterPath()  # never hit: clicks go to the cards or the canvas

    def paint(
        self, p: QPainter, option: QStyleOptionGraphicsItem, widget: QWidget | None = None
    ) -> None:
        self.paint_cards(p, option.exposedRect)

    def far_key(self) -> tuple[int, int, float]:
        """What a picture of the cards depends on besides the view and the cards: this
        overview, the filter and the zoom (a stand-in kept between frames is redrawn
        when it changes)."""
        return (id(self), id(self._ctx.matching), self._ctx.scale)

    def card_map(self) -> Mapping[str, AssetCardItem]:
        return self._cards

    def paint_cards(self, p: QPainter, ex: QRectF, *, every: bool = False) -> None:
        """One tight loop over the cards in ``ex`` (this is the hot path of a fit-all
        frame: no property access, no allocation per card beyond the draw calls): those
        flagged to draw nothing themselves, or ``every`` card (the views' stand-in for
        the scene while a switch to FAR is flagging them)."""
        marked = self.paint_bases(p, ex, self._cards_near(ex, every), every)
        self.paint_marks(p, marked)
        self.paint_overlays(p, every)

    def paint_bases(
        self,
        p: QPainter,
        ex: QRectF,
        cards: Iterable[AssetCardItem],
        every: bool,
        waiting: list[AssetCardItem] | None = None,
    ) -> list[AssetCardItem]:
        """Each of ``cards`` in ``ex``: its thumbnail, or its kind's colour while that
        loads (those cards go to ``waiting`` when given). Returns the cards that need a
        mark on top (``paint_marks``), drawn after every card's base."""
        ctx = self._ctx
        t = ctx.theme
        left, top = ex.left() - CARD_W, ex.top() - CARD_H
        right, bottom = ex.right(), ex.bottom()
        px = ctx.scale * CARD_W  # a card's size on screen
        which = 1 if px < TINY_BELOW_PX else 0
        lookup, touch, request = ctx.thumbs.hot_access()
        wait = None if waiting is None else waiting.append
        if px < NO_THUMBS_BELOW_PX:  # specks: show what is cached, load nothing new
            request = _ignore
            wait = None
        fill = p.fillRect
        draw = p.drawPixmap
        bg = t.card
        kinds = t.kind
        marked: list[AssetCardItem] = []
        matching = ctx.matching  # a filter is on: every card is dimmed or outlined
        for c in cards:
            if c.hidden or not (every or c.nocontents):
                continue
            x, y = c.px, c.py
            if x < left or x > right or y < top or y > bottom:
                continue
            ix, iy = int(x), int(y)
            keys = c.far_keys
            pm = None
            if keys is not None:
                key = keys[which]
                pm = lookup(key)
                if pm is None:
                    request(key)
                    if wait is not None:
                        wait(c)
                else:
                    touch(key)
            if pm is None:
                fill(ix, iy, _W, _H, kinds.get(c.asset.media_kind, bg))
            else:
                fit = c.far_fit
                if fit[0] is not pm:
                    fit = c.far_fit = _fit(pm)
                if fit[3] != _W or fit[4] != _H:
                    fill(ix, iy, _W, _H, bg)
                draw(ix + fit[1], iy + fit[2], fit[3], fit[4], pm)
            if matching is not None or c.far_mark or c.children:
                marked.append(c)
        return marked

    def has_thumb(self, c: AssetCardItem) -> bool:
        """Is the thumbnail ``paint_bases`` would draw for ``c`` cached now?"""
        keys = c.far_keys
        if keys is None:
            return False
        which = 1 if self._ctx.scale * CARD_W < TINY_BELOW_PX else 0
        return self._ctx.thumbs.hot_access()[0](keys[which]) is not None

    def paint_marks(self, p: QPainter, marked: Iterable[AssetCardItem]) -> None:
        """Filter dimming or outlines, status marks and stacks, over the cards' bases."""
        ctx = self._ctx
        t = ctx.theme
        fill = p.fillRect
        matching = ctx.matching
        for c in marked:
            ix, iy = int(c.px), int(c.py)
            match = 0 if matching is None else (1 if c.asset.id in matching else -1)
            if match < 0:
                fill(ix, iy, _W, _H, t.dim)
                continue
            if c.status == "failed":
                fill(ix, iy + _H - 64, _W, 64, t.failed)
            elif c.status == "cancelled":
                fill(ix, iy + _H - 64, _W, 64, t.cancelled)
            elif c.shown_busy() is not None:
                fill(ix, iy + _H - 48, _W, 48, t.busy)
            if match > 0:
                p.setPen(t.match_pen)
                p.setBrush(Qt.BrushStyle.NoBrush)
                p.drawRect(ix, iy, _W, _H)
            if c.children:  # a stack: its edges and count badge, big enough to see
                paint_far_stack(p, t, ix, iy, c.children, c.collapsed, ctx.scale)

    def paint_overlays(self, p: QPainter, every: bool) -> None:
        """The drop target and the selection outlines, over everything."""
        ctx = self._ctx
        t = ctx.theme
        target = self._cards.get(ctx.drop_target or "")
        if target is not None and (every or target.nocontents):
            p.fillRect(int(target.px), int(target.py), _W, _H, t.accent)
        sel = self._selected()
        if sel:
            p.setPen(t.accent_pen)
            p.setBrush(Qt.BrushStyle.NoBrush)
            for c in sel:
                if every or c.nocontents:
                    p.drawRect(int(c.px), int(c.py), _W, _H)

    def _cards_near(self, ex: QRectF, every: bool) -> Iterable[AssetCardItem]:
        """The cards to look at for exposed rect ``ex``: all of them, or when ``ex`` is
        a small part of the overview (a few cards changed), those the scene's index
        finds there (its C++ index, not a Python pass over 50,000 cards)."""
        scene = self.scene()
        r = self._rect
        if every or scene is None or ex.width() * ex.height() > _SMALL * r.width() * r.height():
            return self._cards.values()
        mode = Qt.ItemSelectionMode.IntersectsItemBoundingRect
        near = scene.items(ex, mode, Qt.SortOrder.AscendingOrder)
        return [c for c in near if isinstance(c, AssetCardItem)]


_SMALL = 1 / 16  # of the overview's area: below it, ask the index


def _ignore(_key: object) -> None:
    pass


def _fit(pm: QPixmap) -> tuple[QPixmap, int, int, int, int]:
    """Where ``pm`` goes inside a card: (pm, dx, dy, w, h), letterboxed."""
    pw, ph = pm.width(), pm.height()
    if pw >= ph:
        h = _H * ph // max(pw, 1)
        return (pm, 0, (_H - h) // 2, _W, h)
    w = _W * pw // max(ph, 1)
    return (pm, (_W - w) // 2, 0, w, _H)


class LodSwitcher:
    """Follows the zoom: sets ``ctx.lod`` and, when crossing into or out of FAR, flags
    every card ``ItemHasNoContents`` (or clears it) in time-boxed batches — ~6 µs a
    card, so 50k cards take several event-loop turns, never one long one.

    Going FAR, the views stop drawing the scene's items until every card is flagged
    (``hold(True)``, then ``hold(False)``): a frame in between would have each card
    not yet flagged paint itself in Python — 20,000 of them took 0.9 s in one turn
    (measured, the whole canvas in view after a fit-all). Meanwhile a view paints the
    overview of every card instead (``paint_cards(every=True)``), the same picture.
    Coming back from FAR only the few cards in view paint themselves, so the overview
    paints exactly the flagged cards and every frame is complete."""

    def __init__(
        self,
        ctx: CanvasContext,
        overview: OverviewItem,
        cards: Callable[[], Collection[AssetCardItem]],
        budget_s: float,
        parent: QObject,
        hold: Callable[[bool], None] = lambda _on: None,
    ) -> None:
        self._ctx = ctx
        self.overview = overview
        self._cards = cards
        self.budget_s = budget_s
        self._hold = hold
        self._holding = False
        self._batches = Batches(budget_s, parent)
        self._batches.sliced.connect(self._sliced)

    def _sliced(self) -> None:
        if not self._holding:
            self.overview.update()

    def _set_hold(self, on: bool) -> None:
        if on != self._holding:
            self._holding = on
            self._hold(on)

    @property
    def running(self) -> bool:
        return self._batches.running

    def set_scale(self, scale: float) -> None:
        ctx = self._ctx
        ctx.scale = scale
        lod = lod_for_scale(scale)
        was_far = ctx.lod is Lod.FAR
        ctx.lod = lod
        if (lod is Lod.FAR) != was_far:
            self._batches.budget_s = self.budget_s
            self._set_hold(lod is Lod.FAR)
            if lod is not Lod.FAR:
                self.overview.set_cached(False)
            self._batches.start(self._steps(lod is Lod.FAR))
            self._batches.run_batch()

    def settle(self) -> None:
        self._batches.finish()

    def stop(self) -> None:
        self._batches.stop()
        self._set_hold(False)

    def _steps(self, far: bool) -> Iterator[None]:
        if far:
            self.overview.set_active(True)
        cards = list(self._cards())
        for i in range(0, len(cards), 256):
            for c in cards[i : i + 256]:
                c.set_nocontents(far)
            yield
        if not far:
            self.overview.set_active(False)
        self.overview.update()
        self._set_hold(False)
