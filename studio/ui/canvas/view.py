"""CanvasView: the window onto a CanvasScene — zoom, pan, selection, gestures, drops.

Navigation: the wheel zooms around the pointer (a trackpad's two-finger scroll pans;
with Ctrl it zooms; pinch zooms); middle-drag or Space+drag pans; **F** fits
everything; **+** / **-** zoom; **0** is 1:1. Selection: click, Ctrl+click to toggle,
drag on the empty canvas for a rubber band (Ctrl adds), Ctrl+A for all, Esc to clear.
Delete removes the selected assets, the arrow keys nudge them (Shift: further). Card
gestures (move, put inside, take out, drag out) are described in ``drag``; a
double-click opens an asset's details, or renames a frame by its title. Files dropped
from other applications are imported where they land — onto a card, as new variants of
that asset. Every change goes to the host as commands: one gesture, one undo step.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEvent, QPointF, QRect, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import (
    QContextMenuEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QKeyEvent,
    QMouseEvent,
    QNativeGestureEvent,
    QPainter,
    QPaintEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QGestureEvent,
    QGraphicsView,
    QPinchGesture,
    QWidget,
)

from studio.core.layout import ArrangeBy
from studio.ui.bulk_actions import BulkActions
from studio.ui.canvas import menus, painting
from studio.ui.canvas.actions import CanvasActions
from studio.ui.canvas.arrange import arrange
from studio.ui.canvas.card import AssetCardItem
from studio.ui.canvas.drag import DragController
from studio.ui.canvas.fitting import FitMemory, centre_before_resize
from studio.ui.canvas.geometry import (
    BUTTON_STEP,
    LOD_SIMPLE_BELOW,
    Rect,
    clamp_scale,
    fit_scale,
    wheel_factor,
    zoom_center,
)
from studio.ui.canvas.keys import CanvasKeys
from studio.ui.canvas.scene import CanvasScene
from studio.ui.canvas.transfer import FileTransfer
from studio.ui.empty_state import EmptyState
from studio.ui.host import CanvasHost
from studio.ui.widgets import ask_choice, ask_text

REVEAL_TRIES = 60
"""How many times (50 ms apart) a new card is waited for before revealing gives up."""


class CanvasView(QGraphicsView):
    selection_changed = Signal(list)  # [asset id] (the scene's signal, forwarded)
    zoom_changed = Signal(float)
    painted = Signal()  # after each frame (benchmarks time the first one with cards)

    def __init__(
        self, scene: CanvasScene, host: CanvasHost | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(scene, parent)
        self.canvas_scene = scene
        self.host = host
        self.canvas_actions = CanvasActions(
            scene, host, self._ask_text, self._ask_files, self._ask_choice
        )
        self.bulk = BulkActions(self)
        """Tag, type, star, rate, delete, collect, export a multi-selection."""
        self.drag = DragController(self)
        self.transfer = FileTransfer(self)
        self.keys = CanvasKeys(self)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.NoAnchor)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setDragMode(QGraphicsView.DragMode.RubberBandDrag)
        self.setRubberBandSelectionMode(Qt.ItemSelectionMode.IntersectsItemBoundingRect)
        self.setViewportUpdateMode(QGraphicsView.ViewportUpdateMode.SmartViewportUpdate)
        self.setOptimizationFlag(QGraphicsView.OptimizationFlag.DontAdjustForAntialiasing)
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self.setAcceptDrops(True)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.viewport().grabGesture(Qt.GestureType.PinchGesture)
        self._reveal_ids: list[str] = []
        self._reveal_tries = 0
        self._fit = FitMemory()  # a resize fits again while the user has not moved it
        self._reveal_timer = QTimer(self)
        self._reveal_timer.setSingleShot(True)
        self._reveal_timer.setInterval(50)
        self._reveal_timer.timeout.connect(self._try_reveal)
        scene.selection_changed.connect(self.selection_changed)
        scene.cleared.connect(self.drag.forget)
        scene.sceneRectChanged.connect(lambda _r: self._update_scroll_rect())
        self.empty_state = EmptyState(self)
        """What an empty canvas (or no space) says to do next."""
        self.set_scale(1.0)

    # ------------------------------------------------------------------ coordinates
    def to_scene(self, p: QPointF) -> QPointF:
        """A viewport point in scene coordinates (sub-pixel exact)."""
        inv, _ok = self.viewportTransform().inverted()
        return inv.map(QPointF(p))

    def current_scale(self) -> float:
        return self.transform().m11()

    def center(self) -> QPointF:
        vp = self.viewport()
        return self.to_scene(QPointF(vp.width() / 2, vp.height() / 2))

    def visible_scene_rect(self) -> QRectF:
        vp = self.viewport()
        return QRectF(self.to_scene(QPointF(0, 0)), self.to_scene(QPointF(vp.width(), vp.height())))

    def center_on(self, x: float, y: float) -> None:
        self._update_scroll_rect(QPointF(x, y))

    def pan_by(self, dx: float, dy: float) -> None:
        h, v = self.horizontalScrollBar(), self.verticalScrollBar()
        h.setValue(h.value() - round(dx))
        v.setValue(v.value() - round(dy))

    def _update_scroll_rect(self, center: QPointF | None = None) -> None:
        """Room to scroll: the scene's bounds (and the wanted centre, which may be
        outside them while a space loads) plus a viewport on every side, so any point
        can be centred at any zoom."""
        s = self.current_scale()
        vp = self.viewport()
        mw, mh = vp.width() / s + 64, vp.height() / s + 64
        c = center if center is not None else self.center()
        rect = self.canvas_scene.sceneRect().united(QRectF(c.x() - 1, c.y() - 1, 2, 2))
        self.setSceneRect(rect.adjusted(-mw, -mh, mw, mh))
        self.centerOn(c)

    # ------------------------------------------------------------------ zoom
    def set_scale(self, scale: float, anchor: QPointF | None = None) -> None:
        """Zoom to ``scale``, keeping the scene point under ``anchor`` (a viewport
        position; default: the centre) where it is."""
        new = clamp_scale(scale)
        old = self.current_scale()
        c = self.center()
        a = self.to_scene(anchor) if anchor is not None else c
        cx, cy = zoom_center((c.x(), c.y()), (a.x(), a.y()), old, new)
        self.setTransform(QTransform.fromScale(new, new))
        self._update_scroll_rect(QPointF(cx, cy))
        self.canvas_scene.set_view_scale(new)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, new >= LOD_SIMPLE_BELOW)
        if new != old:
            self.zoom_changed.emit(new)

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        self.set_scale(self.current_scale() * factor, anchor)

    def zoom_in(self) -> None:
        self.zoom_by(BUTTON_STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / BUTTON_STEP)

    def zoom_reset(self) -> None:
        self.set_scale(1.0)

    def fit_all(self) -> None:
        """Show every card and frame (at most 1:1)."""
        r = self.canvas_scene.content_rect()
        if r.isEmpty():
            self.set_scale(1.0)
            self.center_on(0, 0)
            return
        vp = self.viewport()
        s = fit_scale(Rect(r.x(), r.y(), r.width(), r.height()), vp.width(), vp.height())
        self.set_scale(s)
        self._update_scroll_rect(r.center())
        self._fit.remember(self)

    def focus_rect(self, rect: QRectF) -> None:
        """Centre on ``rect``, zooming in to at least 1:2 if it is tiny on screen."""
        if self.current_scale() < 0.5:
            self.set_scale(0.5)
        self._update_scroll_rect(rect.center())

    def reveal(self, ids: Sequence[str]) -> None:
        """Select these (new) cards and bring them into sight, once they are on the
        canvas: the user's own new cards are never left off-screen. Cards not built yet
        are waited for (a commit reaches the scene through the feed), for a bounded
        time."""
        self._reveal_ids = list(ids)
        self._reveal_tries = REVEAL_TRIES
        self._try_reveal()

    def _try_reveal(self) -> None:
        ids = self._reveal_ids
        if not ids:
            return
        scene = self.canvas_scene
        cards = [card for a in ids if (card := scene.card(a)) is not None]
        if len(cards) < len(ids) and self._reveal_tries > 0:
            self._reveal_tries -= 1
            self._reveal_timer.start()
            return
        self._reveal_ids = []
        if not cards:
            return
        scene.select([card.asset.id for card in cards])
        r = QRectF()
        for card in cards:
            r = r.united(card.sceneBoundingRect())
        if self.visible_scene_rect().contains(r):
            return
        vp = self.viewport()
        if r.width() * self.current_scale() > vp.width() or (
            r.height() * self.current_scale() > vp.height()
        ):
            s = fit_scale(Rect(r.x(), r.y(), r.width(), r.height()), vp.width(), vp.height())
            self.set_scale(min(self.current_scale(), s))
        self._update_scroll_rect(r.center())

    def view_state(self) -> dict[str, Any]:
        c = self.center()
        state: dict[str, Any] = {"zoom": self.current_scale(), "center": [c.x(), c.y()]}
        if self.canvas_scene.collapsed:
            state["collapsed"] = sorted(self.canvas_scene.collapsed)
        return state

    def restore_view_state(self, state: Mapping[str, Any]) -> None:
        try:
            zoom = float(state.get("zoom", 1.0))
            cx, cy = (float(v) for v in state.get("center", (0.0, 0.0)))
        except (TypeError, ValueError):
            return
        if not all(math.isfinite(v) for v in (zoom, cx, cy)) or zoom <= 0:
            return
        closed = state.get("collapsed")
        if isinstance(closed, list):
            self.canvas_scene.collapsed = {a for a in closed if isinstance(a, str)}
        self.set_scale(zoom)
        self._update_scroll_rect(QPointF(cx, cy))

    # ------------------------------------------------------------------ whole-selection actions
    def create_frame_around_selection(self, title: str = "Frame") -> bool:
        return self.canvas_actions.create_frame_around(self.canvas_scene.selected_ids(), title)

    def arrange(self, by: ArrangeBy) -> bool:
        """Arrange the selection (nothing selected: the whole space) as a grid."""
        return arrange(self.canvas_actions, self.canvas_scene.selected_ids(), by)

    def delete_selection(self) -> bool:
        scene = self.canvas_scene
        return self.canvas_actions.delete(scene.selected_ids(), scene.selected_frame_ids())

    def start_external_drag(self, ids: list[str]) -> bool:
        """Drag the cards' original files out to another application."""
        return self.transfer.export(ids)

    # ------------------------------------------------------------------ dialogs (replaceable)
    def _ask_text(self, title: str, label: str, default: str) -> str | None:
        return ask_text(self, title, label, default)

    def _ask_choice(self, title: str, label: str, choices: list[str], current: str) -> str | None:
        return ask_choice(self, title, label, choices, current)

    def _ask_files(self, title: str) -> list[Path]:
        names, _filter = QFileDialog.getOpenFileNames(self, title)
        return [Path(n) for n in names]

    # ------------------------------------------------------------------ input
    def wheelEvent(self, e: QWheelEvent) -> None:
        ctrl = bool(e.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if e.phase() != Qt.ScrollPhase.NoScrollPhase and not ctrl:  # a trackpad: pan
            d = e.pixelDelta() if not e.pixelDelta().isNull() else e.angleDelta() / 4
            self.pan_by(d.x(), d.y())
        else:
            delta = e.angleDelta().y() or e.angleDelta().x()
            if delta:
                self.zoom_by(wheel_factor(delta), e.position())
        e.accept()

    def viewportEvent(self, e: QEvent) -> bool:
        if isinstance(e, QNativeGestureEvent):  # PySide6 hands over the subclass
            g = e
            if g.gestureType() == Qt.NativeGestureType.ZoomNativeGesture:
                self.zoom_by(1.0 + g.value(), g.position())
                return True
        if isinstance(e, QGestureEvent):
            pinch = e.gesture(Qt.GestureType.PinchGesture)
            if isinstance(pinch, QPinchGesture):
                anchor = self.viewport().mapFromGlobal(pinch.centerPoint().toPoint())
                self.zoom_by(pinch.scaleFactor(), QPointF(anchor))
                return True
        return super().viewportEvent(e)

    def mousePressEvent(self, e: QMouseEvent) -> None:
        if e.button() == Qt.MouseButton.RightButton:
            card = self.canvas_scene.card_at(self.to_scene(e.position()))
            if card is not None and not card.isSelected():
                self.canvas_scene.select([card.asset.id])
            e.accept()
            return
        if self.drag.press(e):
            e.accept()
            return
        super().mousePressEvent(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:
        if not self.drag.move(e):
            super().mouseMoveEvent(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:
        if not self.drag.release(e):
            super().mouseReleaseEvent(e)

    def mouseDoubleClickEvent(self, e: QMouseEvent) -> None:
        hit = self.canvas_scene.top_item_at(self.to_scene(e.position()))
        if isinstance(hit, AssetCardItem):
            self.canvas_actions.open_details(hit.asset.id)
        elif hit is not None and hit[1] == "title":
            self.canvas_actions.rename_frame(hit[0].frame_id)
        else:
            super().mouseDoubleClickEvent(e)

    def keyPressEvent(self, e: QKeyEvent) -> None:
        if not self.keys.press(e):
            super().keyPressEvent(e)

    def keyReleaseEvent(self, e: QKeyEvent) -> None:
        if not self.keys.release(e):
            super().keyReleaseEvent(e)

    def focusOutEvent(self, e: Any) -> None:
        self.keys.focus_out()
        super().focusOutEvent(e)

    def contextMenuEvent(self, e: QContextMenuEvent) -> None:
        menu = menus.menu_for(self, self.to_scene(QPointF(e.pos())))
        if menu is not None:
            menu.exec(e.globalPos())
            menu.deleteLater()

    # ------------------------------------------------------------------ files from outside
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:
        self.transfer.enter(e)

    def dragMoveEvent(self, e: QDragMoveEvent) -> None:
        self.transfer.move(e)

    def dragLeaveEvent(self, e: Any) -> None:
        self.transfer.leave()
        e.accept()

    def dropEvent(self, e: QDropEvent) -> None:
        self.transfer.drop(e)

    # ------------------------------------------------------------------ painting
    def resizeEvent(self, e: Any) -> None:
        """The centre stays where it is; a view as :meth:`fit_all` left it is fitted
        again (:mod:`studio.ui.canvas.fitting`)."""
        c = centre_before_resize(self, e.oldSize(), e.size())
        fitted = self._fit.still(self, c)
        super().resizeEvent(e)
        if fitted:
            self.fit_all()
        else:
            self._update_scroll_rect(c)

    def paintEvent(self, e: QPaintEvent) -> None:
        if self.canvas_scene.pacer.stand_in():  # cheap stand-in while cards switch to FAR
            painting.paint_far_stand_in(self, e.rect())
        else:
            super().paintEvent(e)
        self.painted.emit()

    def drawBackground(self, p: QPainter, rect: QRectF | QRect) -> None:
        painting.draw_background(self, p, rect)

    def drawForeground(self, p: QPainter, rect: QRectF | QRect) -> None:
        painting.draw_foreground(self, p, rect)
        self.empty_state.paint(p)
