"""Loading a big space far out: the views' stand-in (every card as the overview paints
it) is kept between frames and each frame draws only the cards built since the last
one (a bounded number), not every card built so far — that repaint was the longest
stall of a switch to 50,000 assets (140-180 ms a frame) — and the picture it ends with
is the one a single pass paints."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QRectF
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from bench._util import fill_big_space
from studio.core.space import Space
from studio.ui.canvas import CanvasScene, CanvasView, pacer, painting
from studio.ui.canvas.geometry import Lod

CARDS = 4_000
PER_TURN = 700


class _Counting(dict):  # type: ignore[type-arg]
    """The theme's colours by media kind, counting the cards painted with one."""

    n = 0

    def get(self, key: object, default: object = None) -> object:
        _Counting.n += 1
        return super().get(key, default)


@pytest.fixture
def far(tmp_path: Path, qtbot, monkeypatch) -> Iterator[tuple[CanvasScene, CanvasView, Space]]:  # type: ignore[no-untyped-def]
    Space.create(tmp_path / "s.db", tmp_path / "media", space_id="s", slug="s").close()
    fill_big_space(tmp_path / "s.db", tmp_path / "media", CARDS, per_asset=1, make_files=False)
    space = Space.open(tmp_path / "s.db", tmp_path / "media", space_id="s", slug="s")
    monkeypatch.setattr(CanvasScene, "BATCH_S", 0.002)  # the load takes many turns
    monkeypatch.setattr(CanvasScene, "LOADING_REPAINT_MS", 5)  # a frame every few turns
    monkeypatch.setattr(pacer, "CARDS_PER_TURN", PER_TURN, raising=False)
    # a frame every few turns however long the last took: on a busy machine the pacing
    # (ten times the last frame's time) left too few loading frames to tell (CI)
    monkeypatch.setattr(pacer, "MAX_REPAINT_MS", 5)
    scene = CanvasScene()
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(1200, 800)
    view.show()
    scene.load(space, space.snapshot())
    assert scene.wait_loaded(60)
    view.fit_all()
    scene.settle_lod()
    QApplication.processEvents()
    assert scene.lod is Lod.FAR
    yield scene, view, space
    view.close()
    scene.clear_canvas()
    space.close()


def _one_pass(scene: CanvasScene, view: CanvasView) -> QImage:
    """The viewport as the stand-in painted it before: background, then every card."""
    vp = view.viewport()
    img = QImage(vp.size(), QImage.Format.Format_ARGB32_Premultiplied)
    p = QPainter(img)
    p.setTransform(view.viewportTransform())
    exposed = view.mapToScene(vp.rect()).boundingRect()
    painting.draw_background(view, p, exposed)
    scene._overview.paint_cards(p, exposed, every=True)
    p.end()
    return img


def test_no_loading_frame_paints_every_card_built_so_far(far) -> None:  # type: ignore[no-untyped-def]
    scene, view, space = far
    t = scene.ctx.theme
    object.__setattr__(t, "kind", _Counting(t.kind))  # the theme is frozen: put it back below
    per_frame: list[int] = []

    def painted() -> None:  # the view emits it after each frame
        per_frame.append(_Counting.n)
        _Counting.n = 0

    view.painted.connect(painted)
    try:
        scene.load(space, space.snapshot())  # far out: the views paint the stand-in
        end = time.monotonic() + 60
        while scene.is_loading() and time.monotonic() < end:
            QApplication.processEvents()
        assert not scene.is_loading()
    finally:
        object.__setattr__(t, "kind", dict(t.kind))
    drawn = [n for n in per_frame if n]
    assert sum(drawn) >= CARDS // 2, f"the stand-in drew few cards while loading: {per_frame}"
    assert len(drawn) >= 3, f"too few loading frames to tell: {per_frame}"
    assert max(drawn) <= PER_TURN, f"a frame painted {max(drawn)} cards: {per_frame}"


def test_the_picture_drawn_as_cards_load_is_the_one_pass_picture(far) -> None:  # type: ignore[no-untyped-def]
    scene, view, space = far
    vp = view.viewport()
    img = QImage(vp.size(), QImage.Format.Format_ARGB32_Premultiplied)
    pic = pacer.FarPicture()

    def frame() -> bool:
        p = QPainter(img)
        p.setTransform(view.viewportTransform())
        exposed = QRectF(view.mapToScene(vp.rect()).boundingRect())
        done = pic.paint(
            view, scene._overview, p, lambda: painting.draw_background(view, p, exposed)
        )
        p.end()
        return done

    scene.load(space, space.snapshot())
    frames = 0
    end = time.monotonic() + 60
    while scene.is_loading() and time.monotonic() < end:  # a frame after every turn
        QApplication.processEvents()
        frame()
        frames += 1
        assert pic.drawn_last <= PER_TURN
    assert not scene.is_loading() and frames >= 3
    for _ in range(100):
        if frame():
            break
    assert pic.complete
    assert pic.done == len(scene.card_map()) == CARDS
    ref = _one_pass(scene, view)
    assert img == ref
