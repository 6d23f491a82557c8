"""Shared helpers for the canvas tests (no tests here): a host over a real undo stack
and space, real image variants with thumbnails, and synthesized input events."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image, ImageDraw
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent, QUndoStack
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.space import Space
from studio.ui.bridge import EventBridge
from studio.ui.canvas import CanvasScene, CanvasView, ThumbnailCache
from studio.ui.feed_follower import typed
from studio.ui.undo import push
from tests.conftest import OWNER, Made

NO_MODS = Qt.KeyboardModifier.NoModifier
LEFT = Qt.MouseButton.LeftButton


@dataclass
class FakeHost:
    """A CanvasHost: real undo stack and space; records what the view asked for."""

    _space: Space
    stack: QUndoStack = field(default_factory=QUndoStack)
    runs: list[tuple[str, list[c.Command]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    imports: list[tuple[list[Path], tuple[float, float], str | None]] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    @property
    def space(self) -> Space:
        return self._space

    def run(self, cmds: Sequence[c.Command], text: str) -> bool:
        self.runs.append((text, list(cmds)))
        return push(self.stack, self._space, OWNER, cmds, text, self.errors.append) is not None

    def import_paths(
        self, paths: Sequence[Path], at: tuple[float, float], into: str | None = None
    ) -> None:
        self.imports.append((list(paths), at, into))

    def open_details(self, asset_id: str) -> None:
        self.details.append(asset_id)

    def show_error(self, message: str) -> None:
        self.errors.append(message)


@dataclass
class Canvas:
    space: Space
    scene: CanvasScene
    view: CanvasView
    host: FakeHost
    bridge: EventBridge

    def vp(self, x: float, y: float) -> QPoint:
        """Scene point -> viewport point."""
        return self.view.mapFromScene(QPointF(x, y))

    def pos(self, asset_id: str) -> tuple[float, float]:
        row = self.space.asset(asset_id)
        return (row.x, row.y)


def make_canvas(space: Space, qtbot: object, size: tuple[int, int] = (1200, 800)) -> Canvas:
    scene = CanvasScene(ThumbnailCache(executor=lambda job: job()))
    host = FakeHost(space)
    view = CanvasView(scene, host)
    view.resize(*size)
    qtbot.addWidget(view)  # type: ignore[attr-defined]
    view.show()
    bridge = EventBridge()
    bridge.attach(space)
    bridge.core_event.connect(typed(scene.apply_event))  # as the feed follower decodes
    scene.load(space, space.snapshot())
    assert scene.wait_loaded()
    return Canvas(space, scene, view, host, bridge)


def picture(colour: tuple[int, int, int], size: tuple[int, int], seed: int) -> Image.Image:
    """A small recognisable picture: a gradient with a few shapes."""
    w, h = size
    im = Image.new("RGB", size, colour)
    draw = ImageDraw.Draw(im)
    for i in range(h):
        k = i / h
        draw.line([(0, i), (w, i)], fill=tuple(int(v * (0.55 + 0.45 * k)) for v in colour))
    r = min(w, h) // 4
    cx, cy = w // 2 + (seed * 37 % (w // 3)) - w // 6, h // 2
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=(245, 235, 210))
    draw.polygon([(0, h), (w // 3, h // 2 + seed % 30), (w * 2 // 3, h)], fill=(30, 40, 50))
    return im


def add_image(
    space: Space,
    name: str,
    x: float = 0.0,
    y: float = 0.0,
    *,
    colour: tuple[int, int, int] = (200, 90, 60),
    size: tuple[int, int] = (320, 320),
    seed: int = 0,
    asset_id: str | None = None,
) -> Made:
    """A completed image variant with a real PNG original and WebP thumbnail."""
    begun = space.apply(
        c.BeginUpload(
            media_kind=c.MediaKindName.IMAGE,
            original_name=f"{name}.png",
            asset_id=asset_id,
            name=name,
            x=x,
            y=y,
        ),
        OWNER,
    )
    aid, vid = begun.created["asset_id"], begun.created["variant_id"]
    slug = space.asset(aid).slug
    folder = space.media_dir / slug / vid
    folder.mkdir(parents=True, exist_ok=True)
    im = picture(colour, size, seed)
    im.save(folder / "original.png")
    thumb = im.copy()
    thumb.thumbnail((512, 512))
    thumb.save(folder / "thumb.webp")
    data = (folder / "original.png").read_bytes()
    space.apply(
        c.CompleteVariant(
            variant_id=vid,
            media_path=f"{slug}/{vid}/original.png",
            mime="image/png",
            size_bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            width=size[0],
            height=size[1],
            thumb_path=f"{slug}/{vid}/thumb.webp",
        ),
        Actor.system(),
    )
    return Made(aid, vid)


def mouse(
    view: CanvasView,
    kind: QEvent.Type,
    at: QPoint | QPointF,
    button: Qt.MouseButton = LEFT,
    modifiers: Qt.KeyboardModifier = NO_MODS,
) -> None:
    """Send one mouse event to the view's viewport (QTest cannot hold modifiers while
    moving)."""
    p = QPointF(at)
    buttons = Qt.MouseButton.NoButton if kind == QEvent.Type.MouseButtonRelease else button
    if kind == QEvent.Type.MouseMove:
        button = Qt.MouseButton.NoButton
    ev = QMouseEvent(kind, p, view.viewport().mapToGlobal(p), button, buttons, modifiers)
    QApplication.sendEvent(view.viewport(), ev)


def drag(
    view: CanvasView,
    start: QPoint | QPointF,
    end: QPoint | QPointF,
    modifiers: Qt.KeyboardModifier = NO_MODS,
    button: Qt.MouseButton = LEFT,
    steps: int = 5,
    on_move: Callable[[], object] | None = None,
) -> None:
    """Press at ``start``, move in ``steps`` to ``end``, release there; ``on_move`` is
    called after each move (to look at the view while hovering)."""
    a, b = QPointF(start), QPointF(end)
    mouse(view, QEvent.Type.MouseButtonPress, a, button, modifiers)
    for i in range(1, steps + 1):
        p = a + (b - a) * (i / steps)
        ev = QMouseEvent(
            QEvent.Type.MouseMove,
            p,
            view.viewport().mapToGlobal(p),
            Qt.MouseButton.NoButton,
            button,
            modifiers,
        )
        QApplication.sendEvent(view.viewport(), ev)
        if on_move is not None:
            on_move()
    mouse(view, QEvent.Type.MouseButtonRelease, b, button, modifiers)
