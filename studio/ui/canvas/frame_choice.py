"""Frames chosen together with the cards (Ctrl+A): they move, nudge and delete with
them. Cards are selected the Qt way; frames are not selectable items (clicks inside a
frame reach the cards and the canvas), so the scene keeps their choice here and the
frames draw it as their highlight."""

from __future__ import annotations

from collections.abc import Sequence

from studio.ui.canvas.frame_item import FrameItem


class FrameChoice:
    # state owned by CanvasScene.__init__
    _frames: dict[str, FrameItem]
    _selected_frames: set[str]

    def selected_frame_ids(self) -> list[str]:
        """The chosen frames, in the scene's order."""
        return [f for f in self._frames if f in self._selected_frames]

    def select_frames(self, ids: Sequence[str]) -> None:
        """Choose exactly these frames (none: let them all go)."""
        chosen = {f for f in ids if f in self._frames}
        for fid in self._selected_frames ^ chosen:
            item = self._frames.get(fid)
            if item is not None:
                item.highlight = fid in chosen
                item.update()
        self._selected_frames = chosen
