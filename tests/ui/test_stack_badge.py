"""A stack (a parent card holding others) shows its count badge at every zoom level,
not only at full zoom: SIMPLE cards draw it, and at FAR zoom the overview does."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect
from PySide6.QtGui import QColor, QImage, QPainter

from studio.core.space import Space
from studio.ui.canvas.geometry import CARD_H, CARD_W, Lod
from studio.ui.canvas.theme import theme
from tests.conftest import add_asset
from tests.ui.test_canvas_kit import Canvas, make_canvas


def _render(cv: Canvas) -> QImage:
    cv.scene.settle_lod()
    image = QImage(cv.view.viewport().size(), QImage.Format.Format_ARGB32_Premultiplied)
    image.fill(QColor("black"))
    p = QPainter(image)
    cv.view.render(p)
    p.end()
    return image


def _count(image: QImage, rect: QRect, colour: QColor) -> int:
    """Pixels of exactly ``colour`` inside ``rect`` (viewport coordinates)."""
    want = colour.rgb()
    r = rect.intersected(image.rect())
    return sum(
        1
        for x in range(r.left(), r.right() + 1)
        for y in range(r.top(), r.bottom() + 1)
        if image.pixel(x, y) == want
    )


def _stack(space: Space, qtbot) -> tuple[Canvas, str]:  # type: ignore[no-untyped-def]
    parent = add_asset(space, "Parent", x=0, y=0)
    for i in range(3):
        add_asset(space, f"Child {i}", x=2000 + 300 * i, y=0, parent_asset_id=parent)
    cv = make_canvas(space, qtbot, size=(900, 700))
    card = cv.scene.card(parent)
    assert card is not None and card.children == 3
    return cv, parent


@pytest.mark.parametrize(("scale", "lod"), [(0.22, Lod.SIMPLE), (0.1, Lod.FAR), (0.05, Lod.FAR)])
def test_the_badge_shows_zoomed_out(space: Space, qtbot, scale: float, lod: Lod) -> None:  # type: ignore[no-untyped-def]
    cv, parent = _stack(space, qtbot)
    cv.view.set_scale(scale)
    cv.view.center_on(CARD_W / 2, CARD_H / 2)
    assert cv.scene.lod is lod
    top_left = cv.view.mapFromScene(0.0, 0.0)
    bottom_right = cv.view.mapFromScene(CARD_W, CARD_H)
    on_screen = QRect(top_left, bottom_right)
    image = _render(cv)
    t = theme()
    # the badge sits in the card's top right corner, in the accent colour
    badge = on_screen.adjusted(on_screen.width() // 2, 0, 0, -on_screen.height() // 2)
    seen = _count(image, badge, t.accent)
    assert seen >= 30, f"no stack badge at scale {scale} ({seen} accent pixels)"

    cv.scene.set_collapsed(parent, True)  # closed: the badge turns grey
    image = _render(cv)
    assert _count(image, badge, t.accent) == 0
    assert _count(image, badge, t.text_dim) >= 30


def test_a_card_without_children_has_no_badge(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    add_asset(space, "Alone", x=0, y=0)
    cv = make_canvas(space, qtbot, size=(900, 700))
    for scale in (0.22, 0.1):
        cv.view.set_scale(scale)
        cv.view.center_on(CARD_W / 2, CARD_H / 2)
        rect = QRect(cv.view.mapFromScene(0.0, 0.0), cv.view.mapFromScene(CARD_W, CARD_H))
        assert _count(_render(cv), rect, theme().accent) == 0
