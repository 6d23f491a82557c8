"""Loading a big space, the cards in view are built first and shown in one frame at once,
not over the turns until the pacer's next repaint while the rest are still built."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRectF

from studio.core.space import Space
from studio.ui.canvas import CanvasScene, CanvasView, ThumbnailCache
from studio.ui.canvas.geometry import CARD_H, CARD_W
from tests.conftest import add_asset

COLUMNS, STEP = 40, 280


def test_the_first_frame_shows_every_card_in_view(  # type: ignore[no-untyped-def]
    space: Space, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:
    n = 2000
    for i in range(n):
        add_asset(space, f"A{i}", x=(i % COLUMNS) * STEP, y=(i // COLUMNS) * STEP)
    # a pacer that would not repaint for a long while: only the first screenful's own
    # frame can show cards before the load ends
    monkeypatch.setattr(CanvasScene, "LOADING_REPAINT_MS", 5_000)
    scene = CanvasScene(ThumbnailCache(executor=lambda job: job()))
    scene.BATCH_S = 0.0005  # many small batches, an event-loop turn between each
    view = CanvasView(scene)
    view.resize(900, 700)
    qtbot.addWidget(view)
    view.show()
    qtbot.waitExposed(view)
    view.restore_view_state({"zoom": 1.0, "center": [450, 350]})
    frames: list[set[str]] = []
    view.painted.connect(lambda: frames.append({c.asset.id for c in scene.cards()}))
    snap = space.snapshot()
    shown = view.visible_scene_rect()
    in_view = {a.id for a in snap.assets if shown.intersects(QRectF(a.x, a.y, CARD_W, CARD_H))}
    assert 4 <= len(in_view) < 40
    scene.load(space, snap, focus=view.visible_scene_rect())
    qtbot.waitUntil(lambda: any(frames), timeout=10_000)
    first = next(f for f in frames if f)
    assert in_view <= first  # every card in view, in the first frame with any
    assert len(first) < n  # …while the rest were still being built
    with qtbot.waitSignal(scene.loaded, timeout=30_000):
        pass
    assert len(scene.cards()) == n
