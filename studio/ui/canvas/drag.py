"""The canvas's mouse gestures: pan, move cards (with snapping), reparent by dropping
onto a card, take out, drag out to other applications, move and resize frames.

Gestures (documented for users in ``CanvasView``):

* **Move**: drag a card; every selected card moves with it. Snaps to neighbours'
  edges and centres (within 8 screen pixels) or else to a 20 px grid; hold **Alt** to
  place freely. On release, one ``MoveAssets`` = one undo step. A refused move snaps
  back.
* **Put inside** (reparent): drag cards and release with the *pointer* over another
  card (it lights up, and a hint names it). The dragged cards go back to where they
  were and become its children (``ReparentAsset``), one undo step.
* **Take out**: hold **Shift** while releasing a dragged child card on the canvas:
  it moves there and leaves its parent, in one step. (Also: the card menu.)
* **Drag out to another application**: drag cards out of the canvas window; the drag
  becomes a file drag of their active variants' original files.
* **Frames**: drag a frame by its title to move it with the cards inside it (one
  step); drag its bottom-right corner to resize.
* **Pan**: middle-button drag, or hold Space and drag.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QApplication

from studio.ui.canvas.card import AssetCardItem
from studio.ui.canvas.frame_item import FrameItem
from studio.ui.canvas.geometry import (
    CARD_H,
    CARD_W,
    FRAME_MIN,
    GRID,
    SNAP_PX,
    Rect,
    snap_move,
    snap_to_grid,
)
from studio.ui.canvas.painting import hint_rect

if TYPE_CHECKING:
    from studio.ui.canvas.scene import CanvasScene
    from studio.ui.canvas.view import CanvasView

LEFT = Qt.MouseButton.LeftButton
MIDDLE = Qt.MouseButton.MiddleButton


class DragController:
    def __init__(self, view: CanvasView) -> None:
        self.view = view
        self.mode: str | None = None  # press-card, cards, press-frame, frame, resize, pan
        self.press_view = QPointF()
        self.press_scene = QPointF()
        self.last_view = QPointF()
        self.card: AssetCardItem | None = None
        self.cards: list[AssetCardItem] = []
        self.starts: dict[str, tuple[float, float]] = {}
        self.frame: FrameItem | None = None
        self.frame_start = Rect(0, 0, 0, 0)
        self.frames: dict[str, Rect] = {}  # selected frames carried along with the cards
        self.refused = False  # hovering where a drop would make a cycle
        self.guides: tuple[float | None, float | None] = (None, None)
        self.hint = ""
        self.hint_at = QPointF()

    @property
    def scene(self) -> CanvasScene:
        return self.view.canvas_scene

    @property
    def active(self) -> bool:
        return self.mode is not None

    # ------------------------------------------------------------------ press
    def press(self, e: QMouseEvent) -> bool:
        pos = e.position()
        if e.button() == MIDDLE or (e.button() == LEFT and self.view.keys.space_held):
            self.mode = "pan"
            self.last_view = pos
            self.view.viewport().setCursor(Qt.CursorShape.ClosedHandCursor)
            return True
        if e.button() != LEFT:
            return False
        sp = self.view.to_scene(pos)
        hit = self.scene.top_item_at(sp)
        if hit is None:
            return False
        self.press_view, self.press_scene, self.last_view = pos, sp, pos
        if isinstance(hit, AssetCardItem):
            if hit.children and hit.badge_rect().contains(hit.mapFromScene(sp)):
                aid = hit.asset.id  # the stack's badge: open or close it
                self.scene.set_collapsed(aid, aid not in self.scene.collapsed)
                return True
            if e.modifiers() & Qt.KeyboardModifier.ControlModifier:
                hit.setSelected(not hit.isSelected())
                return True
            if not hit.isSelected():
                self.scene.select([hit.asset.id])
            self.mode, self.card = "press-card", hit
            return True
        frame, part = hit
        self.frame = frame
        self.mode = "resize" if part == "handle" else "press-frame"
        self.frame_start = frame.rect()
        if self.mode == "resize":
            frame.dragging = True
        return True

    # ------------------------------------------------------------------ move
    def move(self, e: QMouseEvent) -> bool:
        if self.mode is None:
            return False
        pos = e.position()
        if self.mode == "pan":
            d = pos - self.last_view
            self.last_view = pos
            self.view.pan_by(d.x(), d.y())
            return True
        far = (pos - self.press_view).manhattanLength() >= QApplication.startDragDistance()
        if self.mode == "press-card" and far:
            self._begin_cards()
        elif self.mode == "press-frame" and far:
            self._begin_frame()
        sp = self.view.to_scene(pos)
        dx, dy = sp.x() - self.press_scene.x(), sp.y() - self.press_scene.y()
        free = bool(e.modifiers() & Qt.KeyboardModifier.AltModifier)
        if self.mode == "cards":
            self._drag_cards(dx, dy, sp, free, e)
        elif self.mode == "frame":
            self._drag_frame(dx, dy, free)
        elif self.mode == "resize":
            self._resize_frame(dx, dy, free)
        return True

    def _begin_cards(self) -> None:
        assert self.card is not None
        self.cards = self.scene.selected_cards() or [self.card]
        if self.card not in self.cards:
            self.cards.append(self.card)
        self.starts = {c.asset.id: (c.px, c.py) for c in self.cards}
        _lift(self.cards, True)
        self.frames = {}
        for fid in self.scene.selected_frame_ids():
            item = self.scene.frame(fid)
            if item is not None:
                item.dragging = True
                self.frames[fid] = item.rect()
        self.mode = "cards"

    def _drag_cards(self, dx: float, dy: float, sp: QPointF, free: bool, e: QMouseEvent) -> None:
        assert self.card is not None
        lx, ly = self.starts[self.card.asset.id]
        old_guides, self.guides = self.guides, (None, None)
        if not free:
            tol = SNAP_PX / self.view.current_scale()
            window = QRectF(lx + dx - 2 * CARD_W, ly + dy - 2 * CARD_H, 5 * CARD_W, 5 * CARD_H)
            near = [c.scene_rect() for c in self.scene.cards_in(window) if not c.dragging]
            snap = snap_move(Rect(lx, ly, CARD_W, CARD_H), dx, dy, near, tol)
            dx, dy, self.guides = snap.dx, snap.dy, (snap.guide_x, snap.guide_y)
        if self.guides != old_guides:
            self.view.viewport().update()
        for c in self.cards:
            sx, sy = self.starts[c.asset.id]
            c.move_to(sx + dx, sy + dy)
        for fid, r in self.frames.items():
            if (item := self.scene.frame(fid)) is not None:
                item.set_rect_visual(r.x + dx, r.y + dy, r.w, r.h)
        self.scene.refresh_moving(self.cards)
        target = self.scene.card_at(sp, exclude=self.cards)
        self.refused = target is not None and self._inside_dragged(target.asset.id)
        ok = target is not None and not self.refused
        self.scene.set_drop_target(target.asset.id if ok and target is not None else None)
        self.set_hint(self._cards_hint(target, e), e.position())
        if not self.view.viewport().rect().contains(e.position().toPoint()):
            ids = [c.asset.id for c in self.cards]
            # out to another application (their files), or onto another of our own
            # widgets that takes drops (the collections panel takes any card)
            if self.view.canvas_actions.external_paths(ids) or self._over_a_drop_target(e):
                self.cancel()
                self.view.start_external_drag(ids)

    def _over_a_drop_target(self, e: QMouseEvent) -> bool:
        """Is the pointer over a widget of this window, outside the canvas, that
        takes drops?"""
        w = QApplication.widgetAt(e.globalPosition().toPoint())
        window = self.view.window()
        for _ in range(32):  # up to the window (bounded)
            if w is None or w is window or w is self.view:
                return False
            if w.acceptDrops():
                return w.window() is window
            w = w.parentWidget()
        return False

    def _inside_dragged(self, aid: str) -> bool:
        """Is ``aid`` one of the dragged cards or inside one of them (dropping there
        would make a cycle)? Bounded: a damaged tree may loop."""
        dragged = {c.asset.id for c in self.cards}
        model = self.scene.model
        cur: str | None = aid
        for _ in range(len(model.assets) + 1):
            if cur is None:
                return False
            if cur in dragged:
                return True
            row = model.assets.get(cur)
            cur = row.parent_asset_id if row is not None else None
        return True

    def _cards_hint(self, target: AssetCardItem | None, e: QMouseEvent) -> str:
        n = len(self.cards)
        what = f"“{self.cards[0].asset.name}”" if n == 1 else f"{n} assets"
        if target is not None and self.refused:
            return f"Can't put {what} inside “{target.asset.name}”: it is inside {what}"
        if target is not None:
            return f"Put {what} inside “{target.asset.name}”"
        if e.modifiers() & Qt.KeyboardModifier.ShiftModifier and any(
            c.asset.parent_asset_id for c in self.cards
        ):
            return f"Take {what} out of its parent"
        return ""

    def _begin_frame(self) -> None:
        assert self.frame is not None
        self.frame.dragging = True
        self.cards = self.scene.cards_inside_frame(self.frame)
        self.starts = {c.asset.id: (c.px, c.py) for c in self.cards}
        _lift(self.cards, True)
        self.mode = "frame"

    def _drag_frame(self, dx: float, dy: float, free: bool) -> None:
        assert self.frame is not None
        fs = self.frame_start
        if not free:
            dx = snap_to_grid(fs.x + dx) - fs.x
            dy = snap_to_grid(fs.y + dy) - fs.y
        self.frame.set_rect_visual(fs.x + dx, fs.y + dy, fs.w, fs.h)
        for c in self.cards:
            sx, sy = self.starts[c.asset.id]
            c.move_to(sx + dx, sy + dy)
        self.scene.refresh_moving(self.cards)

    def _resize_frame(self, dx: float, dy: float, free: bool) -> None:
        assert self.frame is not None
        fs = self.frame_start
        w, h = max(FRAME_MIN, fs.w + dx), max(FRAME_MIN, fs.h + dy)
        if not free:
            w = max(FRAME_MIN, snap_to_grid(fs.x + w, GRID) - fs.x)
            h = max(FRAME_MIN, snap_to_grid(fs.y + h, GRID) - fs.y)
        self.frame.set_rect_visual(fs.x, fs.y, w, h)

    # ------------------------------------------------------------------ release
    def release(self, e: QMouseEvent) -> bool:
        mode, self.mode = self.mode, None
        if mode is None:
            return False
        self.set_hint("", QPointF())
        self.guides = (None, None)
        if mode == "pan":
            self.view.viewport().setCursor(self.view.keys.idle_cursor())
        elif mode == "press-card" and self.card is not None:
            if not e.modifiers() & Qt.KeyboardModifier.ControlModifier:
                self.scene.select([self.card.asset.id])
        elif mode == "cards":
            self._drop_cards(bool(e.modifiers() & Qt.KeyboardModifier.ShiftModifier))
        elif mode in ("frame", "resize"):
            self._drop_frame(mode)
        self._reset()
        self.view.viewport().update()
        return True

    def _drop_cards(self, shift: bool) -> None:
        scene, actions = self.scene, self.view.canvas_actions
        target = scene.ctx.drop_target
        scene.set_drop_target(None)
        ids = [c.asset.id for c in self.cards]
        _lift(self.cards, False)
        frames = {}
        for fid, r in self.frames.items():
            item = scene.frame(fid)
            if item is not None:
                item.dragging = False
                if (item.fx, item.fy) != (r.x, r.y):
                    frames[fid] = (item.fx, item.fy)
        if target is not None or self.refused:
            scene.snap_back(ids)  # a refused drop (a cycle) was said while hovering
            for fid in self.frames:
                scene.snap_back_frame(fid)
            if target is not None:
                actions.reparent(ids, target)
            return
        moved = {
            c.asset.id: (c.px, c.py) for c in self.cards if (c.px, c.py) != self.starts[c.asset.id]
        }
        take = [c.asset.id for c in self.cards if shift and c.asset.parent_asset_id]
        if (moved or take or frames) and not actions.move(moved, take_out=take, frames=frames):
            scene.snap_back(ids)
            for fid in self.frames:
                scene.snap_back_frame(fid)

    def _drop_frame(self, mode: str) -> None:
        frame = self.frame
        assert frame is not None
        frame.dragging = False
        fid = frame.frame_id
        ids = [c.asset.id for c in self.cards]
        _lift(self.cards, False)
        r, fs = frame.rect(), self.frame_start
        actions = self.view.canvas_actions
        if mode == "frame":
            if (r.x, r.y) == (fs.x, fs.y):
                return
            positions = {c.asset.id: (c.px, c.py) for c in self.cards}
            if not actions.move_frame(fid, r.x, r.y, positions):
                self.scene.snap_back_frame(fid)
                self.scene.snap_back(ids)
        elif (r.w, r.h) != (fs.w, fs.h) and not actions.resize_frame(fid, r.w, r.h):
            self.scene.snap_back_frame(fid)

    # ------------------------------------------------------------------ cancel
    def cancel(self) -> None:
        """Abandon the gesture: everything goes back to where the rows say."""
        scene = self.scene
        scene.set_drop_target(None)
        if self.cards:
            _lift(self.cards, False)
            scene.snap_back([c.asset.id for c in self.cards])
        if self.frame is not None:
            scene.snap_back_frame(self.frame.frame_id)
        for fid in self.frames:
            scene.snap_back_frame(fid)
        if self.mode == "pan":
            self.view.viewport().setCursor(self.view.keys.idle_cursor())
        self.set_hint("", QPointF())
        self.mode = None
        guides = self.guides
        self._reset()
        if guides != (None, None):  # the snapping guides go too (they stayed drawn)
            self.view.viewport().update()

    def forget(self) -> None:
        """The scene dropped every item: abandon the gesture without touching them."""
        self.mode = None
        self.hint = ""
        self._reset()

    def _reset(self) -> None:
        self.card = None
        self.cards = []
        self.starts = {}
        self.frame = None
        self.frames = {}
        self.refused = False
        self.guides = (None, None)

    def set_hint(self, text: str, at: QPointF) -> None:
        if text != self.hint or (text and at != self.hint_at):
            old = hint_rect(self.hint, self.hint_at)
            self.hint, self.hint_at = text, QPointF(at)
            self.view.viewport().update(old)
            self.view.viewport().update(hint_rect(text, at))


def _lift(cards: list[AssetCardItem], on: bool) -> None:
    """Mark cards as dragged (events then leave their position alone) and raise them."""
    for c in cards:
        c.lift(on)
