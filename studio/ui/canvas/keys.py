"""The canvas's keyboard: Space held to pan, Esc, F, Ctrl+A, Delete, zoom keys and the
arrows (nudge the selection by the grid, Shift: a bigger step)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QCursor, QKeyEvent

from studio.ui.canvas.geometry import GRID, STEP

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView

_ARROWS = {
    Qt.Key.Key_Left: (-1, 0),
    Qt.Key.Key_Right: (1, 0),
    Qt.Key.Key_Up: (0, -1),
    Qt.Key.Key_Down: (0, 1),
}


class CanvasKeys:
    """Key presses on a ``CanvasView``; ``press``/``release`` answer False for keys the
    view's base class should handle."""

    def __init__(self, view: CanvasView) -> None:
        self.view = view
        self.space_held = False

    def press(self, e: QKeyEvent) -> bool:
        view, scene = self.view, self.view.canvas_scene
        key, mods = e.key(), e.modifiers()
        ctrl = bool(mods & Qt.KeyboardModifier.ControlModifier)
        if key == Qt.Key.Key_Space:
            if not e.isAutoRepeat():
                self.space_held = True
                view.viewport().setCursor(Qt.CursorShape.OpenHandCursor)
            return True
        if key == Qt.Key.Key_Escape:
            if view.drag.active:
                view.drag.cancel()
            else:
                scene.clearSelection()
                scene.select_frames(())
        elif key == Qt.Key.Key_F and not ctrl:
            view.fit_all()
        elif key == Qt.Key.Key_A and ctrl:
            scene.select_all()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            view.delete_selection()
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            view.zoom_in()
        elif key == Qt.Key.Key_Minus:
            view.zoom_out()
        elif key == Qt.Key.Key_0:
            view.zoom_reset()
        elif key in _ARROWS and not view.drag.active:
            step = STEP if mods & Qt.KeyboardModifier.ShiftModifier else GRID
            dx, dy = _ARROWS[Qt.Key(key)]
            self.nudge_selection(dx * step, dy * step)
        else:
            return False
        return True

    def release(self, e: QKeyEvent) -> bool:
        if e.key() == Qt.Key.Key_Space and not e.isAutoRepeat():
            self.space_held = False
            if not self.view.drag.active:
                self.view.viewport().setCursor(self.idle_cursor())
            return True
        return False

    def focus_out(self) -> None:
        self.space_held = False

    def idle_cursor(self) -> QCursor:
        return QCursor(
            Qt.CursorShape.OpenHandCursor if self.space_held else Qt.CursorShape.ArrowCursor
        )

    def nudge_selection(self, dx: float, dy: float) -> bool:
        scene = self.view.canvas_scene
        cards = scene.selected_cards()
        frames = {
            fid: (f.fx + dx, f.fy + dy)
            for fid in scene.selected_frame_ids()
            if (f := scene.frame(fid)) is not None
        }
        return self.view.canvas_actions.move(
            {c.asset.id: (c.px + dx, c.py + dy) for c in cards}, frames=frames
        )
