"""Zooming far out over thousands of cards: no frame in the middle of the level-of-detail
switch has each card not yet flagged paint itself in Python (20,000 such paints took
0.9 s in one event-loop turn); the views paint the overview of every card instead."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from bench._util import fill_big_space
from studio.core.space import Space
from studio.ui.canvas import CanvasScene, CanvasView
from studio.ui.canvas.card import AssetCardItem
from studio.ui.canvas.geometry import Lod

CARDS = 3_000


@pytest.fixture
def canvas(tmp_path: Path, qtbot, monkeypatch) -> Iterator[tuple[CanvasScene, CanvasView]]:  # type: ignore[no-untyped-def]
    Space.create(tmp_path / "s.db", tmp_path / "media", space_id="s", slug="s").close()
    fill_big_space(tmp_path / "s.db", tmp_path / "media", CARDS, per_asset=1, make_files=False)
    space = Space.open(tmp_path / "s.db", tmp_path / "media", space_id="s", slug="s")
    monkeypatch.setattr(CanvasScene, "BATCH_S", 0.0005)  # the switch takes many turns
    scene = CanvasScene()
    view = CanvasView(scene)
    qtbot.addWidget(view)
    view.resize(1400, 900)
    view.show()
    scene.load(space, space.snapshot())
    assert scene.wait_loaded(60)
    QApplication.processEvents()
    yield scene, view
    view.close()
    scene.clear_canvas()
    space.close()


def test_no_card_paints_itself_while_the_switch_to_far_runs(
    canvas: tuple[CanvasScene, CanvasView], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    scene, view = canvas
    view.set_scale(0.5)  # SIMPLE: cards paint themselves
    view.viewport().repaint()
    painted: list[str] = []
    real = AssetCardItem.paint

    def counting(self: AssetCardItem, *args: object) -> None:
        painted.append(self.asset.id)
        real(self, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(AssetCardItem, "paint", counting)
    view.fit_all()  # far out: every card in view
    assert scene.lod is Lod.FAR
    frames = 0
    for _ in range(10_000):  # a frame after every batch of the switch
        if not scene._lod.running:
            break
        view.viewport().repaint()
        frames += 1
        QApplication.processEvents()
    assert frames >= 3, "the switch ran in one turn: nothing in between was tested"
    assert not scene._lod.running
    view.viewport().repaint()
    assert painted == []  # all far: the overview paints them, in one pass
    assert all(c.nocontents for c in scene.cards())


def test_a_space_loaded_while_far_out_is_painted(canvas: tuple[CanvasScene, CanvasView]) -> None:
    """Another space opened at the same far zoom: its cards are born flagged, and the
    overview that paints them is active (it was left off: every card invisible)."""
    scene, view = canvas
    view.fit_all()
    scene.settle_lod()
    space = scene.space
    assert space is not None and scene.lod is Lod.FAR
    scene.load(space, space.snapshot())  # as a switch does: clear, then build again
    assert scene.wait_loaded(60)
    flags = scene._overview.flags()
    assert all(c.nocontents for c in scene.cards())
    assert not flags & scene._overview.GraphicsItemFlag.ItemHasNoContents
