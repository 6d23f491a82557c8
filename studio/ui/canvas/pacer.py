"""ViewPacer: when the canvas's views repaint while a lot changes at once.

- Loading (``throttle``): the views repaint every ``repaint_ms`` instead of after every
  8 ms batch of new cards: far out, each repaint paints every card built so far, and
  repainting after each batch made loading 20,000 cards quadratic (measured: 20 s).
- A level-of-detail switch to FAR (``hold``): until every card is flagged to draw
  nothing itself, the views paint the overview of every card (``paint_far``) in place
  of the items; a frame in between would have each card not yet flagged paint itself
  in Python (20,000 of them: 0.9 s in one turn, measured after a fit-all). Loading
  far out, they do the same (``stand_in``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRectF, QTimer
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QGraphicsScene, QGraphicsView

if TYPE_CHECKING:
    from studio.ui.canvas.overview import OverviewItem

MAX_REPAINT_MS = 2000
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

    def stand_in(self) -> bool:
        """Should the views paint ``paint_far`` instead of the items now? While a switch
        to FAR flags the cards, and while cards are built far out (Qt's own frame walks
        and sorts every item in view: ~0.3 s at 50,000, measured, where this pass over
        the cards costs a fraction; the frames show once the cards are built)."""
        return self.holding or (self._timer.isActive() and self._far())

    def hold(self, on: bool) -> None:
        self.holding = on
        if not on:
            self._scene.update()

    def paint_far(self, p: QPainter, exposed: QRectF) -> None:
        """Every card as the overview paints it (the views, while ``stand_in()``).
        While loading, the next repaint waits ten times as long as this one took (at
        least ``repaint_ms``): repainting 50,000 cards far out must not take most of
        the UI thread's time while they are being built."""
        t0 = time.perf_counter()
        self._overview().paint_cards(p, exposed, every=True)
        took_ms = (time.perf_counter() - t0) * 1000
        self._timer.setInterval(int(min(MAX_REPAINT_MS, max(self._repaint_ms, 10 * took_ms))))

    def throttle(self, on: bool) -> None:
        for view in self._scene.views():
            view.setViewportUpdateMode(_NONE if on else _SMART)
            view.viewport().update()
        if on:
            self._timer.start(self._repaint_ms)
        else:
            self._timer.stop()

    def _repaint(self) -> None:
        for view in self._scene.views():
            view.viewport().update()
