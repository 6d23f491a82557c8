"""What an empty canvas says: what to do next.

With no space open, the canvas says how to create or open one; in a space with no
cards and no frames, how to bring something in (drop files, File ▸ Import) or make
something (a prompt in the forge tray). The view paints it over the background, in
viewport coordinates; it is gone as soon as there is a card or a frame.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QRect, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QPainterPath

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView


@dataclass(frozen=True, slots=True)
class EmptyMessage:
    title: str
    lines: tuple[str, ...]


NO_SPACE = EmptyMessage(
    "No space open",
    (
        "Create one with File ▸ New space (Ctrl+N),",
        "or open one from the Spaces list on the left.",
    ),
)
EMPTY_SPACE = EmptyMessage(
    "This space is empty",
    (
        "Drop images, sounds or videos here, or use File ▸ Import (Ctrl+I).",
        "Or type a prompt in the Forge tray below and press Ctrl+Return.",
    ),
)

PAD = 24
LINE_GAP = 6


class EmptyState(QObject):
    """Follows the view's scene and paints the message while there is one."""

    def __init__(self, view: CanvasView) -> None:
        super().__init__(view)
        self._view = view
        self._shown: EmptyMessage | None = None
        scene = view.canvas_scene
        scene.changed.connect(lambda _r: self.refresh())
        scene.cleared.connect(self.refresh)
        scene.loaded.connect(self.refresh)

    def message(self) -> EmptyMessage | None:
        """What the canvas says now (None: it has something on it)."""
        view = self._view
        host = view.host
        if host is None:
            return None
        if host.space is None:
            return NO_SPACE
        scene = view.canvas_scene
        if scene.space is not host.space:  # its snapshot is still being read
            return None
        if scene.is_loading() or scene.model.assets or scene.model.frames:
            return None
        return EMPTY_SPACE

    def refresh(self) -> None:
        """Repaint when the message comes, goes or changes."""
        now = self.message()
        if now != self._shown:
            self._shown = now
            self._view.viewport().update()

    def rect(self, message: EmptyMessage) -> QRect:
        """Where ``message`` is painted (viewport coordinates, centred)."""
        title, body = _fonts()
        tm, bm = QFontMetrics(title), QFontMetrics(body)
        w = max(
            [tm.horizontalAdvance(message.title)] + [bm.horizontalAdvance(s) for s in message.lines]
        )
        h = tm.height() + LINE_GAP + len(message.lines) * (bm.height() + LINE_GAP)
        w, h = w + 2 * PAD, h + 2 * PAD
        vp = self._view.viewport().rect()
        return QRect(vp.center().x() - w // 2, vp.center().y() - h // 2, w, h)

    def paint(self, p: QPainter) -> None:
        message = self.message()
        self._shown = message
        if message is None:
            return
        # imported here: the canvas package imports this module
        from studio.ui.canvas.theme import theme

        t = theme()
        title, body = _fonts()
        r = self.rect(message)
        p.save()
        p.resetTransform()
        p.setRenderHint(QPainter.RenderHint.Antialiasing)
        path = QPainterPath()
        path.addRoundedRect(QRectF(r), 12, 12)
        p.fillPath(path, QColor(38, 40, 45, 235))
        p.setPen(QColor("#3a3d45"))
        p.drawPath(path)
        y = r.top() + PAD
        p.setFont(title)
        p.setPen(t.text)
        th = QFontMetrics(title).height()
        p.drawText(QRect(r.left(), y, r.width(), th), Qt.AlignmentFlag.AlignCenter, message.title)
        y += th + LINE_GAP
        p.setFont(body)
        p.setPen(t.text_dim)
        bh = QFontMetrics(body).height()
        for line in message.lines:
            p.drawText(QRect(r.left(), y, r.width(), bh), Qt.AlignmentFlag.AlignCenter, line)
            y += bh + LINE_GAP
        p.restore()


def _fonts() -> tuple[QFont, QFont]:
    title = QFont()
    title.setPixelSize(20)
    title.setWeight(QFont.Weight.DemiBold)
    body = QFont()
    body.setPixelSize(14)
    return title, body
