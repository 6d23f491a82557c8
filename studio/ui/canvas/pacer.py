"""ViewPacer: when the canvas's views repaint while a lot changes at once.

- Loading (``throttle``): the views repaint every ``repaint_ms`` instead of after every
  8 ms batch of new cards: far out, each repaint paints every card built so far, and
  repainting after each batch made loading 20,000 cards quadratic (measured: 20 s).
- A level-of-detail switch to FAR (``hold``): until every card is flagged to draw
  nothing itself, the views paint the overview of every card (``paint_far``) in place
  of the items; a frame in between would have each card not yet flagged paint itself
  in Python (20,000 of them: 0.9 s in one turn, measured after a fit-all). Loading
  far out, they do the same (``stand_in``).

The stand-in is kept per view between frames (``FarPicture``): each frame draws only
the cards built since the last one, at most ``CARDS_PER_TURN`` of them and within
``TURN_S``, and asks for another frame while some are left. Repainting every card built
so far on each paced frame was the longest stall of a switch to 50,000 assets
(140-180 ms a frame, measured).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from itertools import islice
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRect, QRectF, Qt, QTimer
from PySide6.QtGui import QPainter, QPixmap, QTransform
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

if TYPE_CHECKING:
    from studio.ui.canvas.card import AssetCardItem
    from studio.ui.canvas.overview import OverviewItem

MAX_REPAINT_MS = 2000
CARDS_PER_TURN = 4096
"""At most this many cards are drawn into a stand-in in one frame (~3 µs a card)."""
TURN_S = 0.008
"""... and no more chunks once a frame has drawn for this long."""
_CHUNK = 512
_SMART = QGraphicsView.ViewportUpdateMode.SmartViewportUpdate
_NONE = QGraphicsView.ViewportUpdateMode.NoViewportUpdate


class ViewPacer(QObject):
    def __init__(
        self,
        scene: QGraphicsScene,
        overview: Callable[[], OverviewItem],
        far: Callable[[], bool],
        repaint_ms: int,
    ) -> None:
        super().__init__(scene)
        self._scene = scene
        self._overview = overview
        self._far = far
        self.holding = False
        """A switch to FAR is flagging the cards: views paint ``paint_far`` instead."""
        self._repaint_ms = repaint_ms
        self._timer = QTimer(self)
        self._timer.setInterval(repaint_ms)
        self._timer.timeout.connect(self._repaint)
        self._pictures: dict[int, FarPicture] = {}

    def stand_in(self) -> bool:
        """Should the views paint ``paint_far`` instead of the items now? While a switch
        to FAR flags the cards, and while cards are built far out (Qt's own frame walks
        and sorts every item in view: ~0.3 s at 50,000, measured, where this pass over
        the cards costs a fraction; the frames show once the cards are built)."""
        return self.holding or (self._timer.isActive() and self._far())

    def hold(self, on: bool) -> None:
        self.holding = on
        if not on:
            self._pictures.clear()
            self._scene.update()

    def paint_far(self, view: QGraphicsView, p: QPainter, background: Callable[[], None]) -> None:
        """Every card as the overview paints it (the views, while ``stand_in()``), from
        the view's ``FarPicture``: this frame draws only the cards it has not drawn yet
        (a bounded number; another frame follows while some are left). ``p`` paints
        the viewport in scene coordinates; ``background()`` fills it first. While
        loading, the next paced repaint waits ten times as long as this one took (at
        least ``repaint_ms``)."""
        t0 = time.perf_counter()
        pic = self._pictures.get(id(view))
        if pic is None:
            pic = self._pictures[id(view)] = FarPicture()
        complete = pic.paint(view, self._overview(), p, background)
        if not complete:  # the rest next turn (the viewport guards the call)
            vp = view.viewport()
            QTimer.singleShot(0, vp, vp.update)
        took_ms = (time.perf_counter() - t0) * 1000
        self._timer.setInterval(int(min(MAX_REPAINT_MS, max(self._repaint_ms, 10 * took_ms))))

    def throttle(self, on: bool) -> None:
        if not on:
            self._pictures.clear()
        for view in self._scene.views():
            view.setViewportUpdateMode(_NONE if on else _SMART)
            view.viewport().update()
        if on:
            self._timer.start(self._repaint_ms)
        else:
            self._timer.stop()

    def repaint_now(self) -> None:
        """While loading: a frame now, and the next one ``repaint_ms`` after it."""
        if self._timer.isActive():
            self._timer.start()
            self._repaint()

    def _repaint(self) -> None:
        for view in self._scene.views():
            view.viewport().update()


class FarPicture:
    """A view's far stand-in kept between frames, in viewport pixels: the cards' bases
    in one layer, their marks (status, filter, stacks) in another over it (as one pass
    paints every base, then every mark), then the selection on top, painted fresh.
    Built incrementally: the cards not drawn yet (the scene's cards in the order they
    were built), those whose thumbnail arrived since, each frame at most
    ``CARDS_PER_TURN``. Redrawn from nothing when the view's transform or size, the
    overview, its filter or zoom change (or a card went away); until complete, the
    last complete picture shows under it, scaled to the new transform."""

    def __init__(self) -> None:
        self.key: tuple[object, ...] | None = None
        self.base = QPixmap()
        self.marks = QPixmap()
        self.transform = QTransform()
        self.done = 0
        self.complete = False
        self.drawn_last = 0
        """How many cards the last frame drew (tests)."""
        self._waiting: list[AssetCardItem] = []
        self._old: tuple[QPixmap, QPixmap, QTransform] | None = None

    def paint(
        self,
        view: QGraphicsView,
        overview: OverviewItem,
        p: QPainter,
        background: Callable[[], None],
    ) -> bool:
        """Bring the picture up to date by one bounded step, paint it with ``p``;
        True when it shows every card."""
        vp = view.viewport()
        dpr = vp.devicePixelRatioF()
        tf = view.viewportTransform()
        cards = overview.card_map()
        key = (
            tf.m11(), tf.m12(), tf.m21(), tf.m22(), tf.dx(), tf.dy(),
            vp.width(), vp.height(), dpr, *overview.far_key(),
        )  # fmt: skip
        if key != self.key or len(cards) < self.done:
            self._reset(key, tf, vp.width(), vp.height(), dpr)
        self._draw(overview, cards, QRectF(view.mapToScene(vp.rect()).boundingRect()))
        background()
        p.save()
        p.resetTransform()
        if not self.complete and self._old is not None:
            base, marks, was = self._old
            p.setTransform(was.inverted()[0] * tf)
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawPixmap(0, 0, base)
            p.drawPixmap(0, 0, marks)
            p.resetTransform()
        p.drawPixmap(0, 0, self.base)
        p.drawPixmap(0, 0, self.marks)
        p.restore()
        overview.paint_overlays(p, True)
        return self.complete

    def _reset(self, key: tuple[object, ...], tf: QTransform, w: int, h: int, dpr: float) -> None:
        if self.complete:
            self._old = (self.base, self.marks, self.transform)
        self.key, self.transform, self.done, self.complete = key, QTransform(tf), 0, False
        self._waiting = []
        self.base, self.marks = _layer(w, h, dpr), _layer(w, h, dpr)

    def _draw(self, overview: OverviewItem, cards: Mapping[str, AssetCardItem], ex: QRectF) -> None:
        t0 = time.perf_counter()
        bp, mp = QPainter(self.base), QPainter(self.marks)
        for painter in (bp, mp):
            painter.setTransform(self.transform)
        drawn = 0
        ready, self._waiting = _split_ready(overview, self._waiting, CARDS_PER_TURN // 2)
        if ready:  # thumbnails arrived: draw those cards again
            overview.paint_marks(mp, overview.paint_bases(bp, ex, ready, True))
            drawn += len(ready)
        rest = islice(cards.values(), self.done, None)
        while drawn < CARDS_PER_TURN and time.perf_counter() - t0 < TURN_S:
            chunk = list(islice(rest, min(_CHUNK, CARDS_PER_TURN - drawn)))
            if not chunk:
                break
            overview.paint_marks(mp, overview.paint_bases(bp, ex, chunk, True, self._waiting))
            self.done += len(chunk)
            drawn += len(chunk)
        bp.end()
        mp.end()
        self.drawn_last = drawn
        self.complete = self.done >= len(cards)  # thumbnails: drawn as they come
        if self.complete:
            self._old = None


def _layer(w: int, h: int, dpr: float) -> QPixmap:
    pm = QPixmap(QRect(0, 0, round(w * dpr), round(h * dpr)).size())
    pm.setDevicePixelRatio(dpr)
    pm.fill(Qt.GlobalColor.transparent)
    return pm


def _split_ready(
    overview: OverviewItem, waiting: list[AssetCardItem], most: int
) -> tuple[list[AssetCardItem], list[AssetCardItem]]:
    """(up to ``most`` waiting cards whose thumbnail is cached now, the others)."""
    if not waiting:
        return [], waiting
    ready: list[AssetCardItem] = []
    left = waiting[most:]  # the others are looked at first next time
    has = overview.has_thumb
    for c in waiting[:most]:
        (ready if has(c) else left).append(c)
    return ready, left
