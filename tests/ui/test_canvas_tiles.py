"""Cards grouped under tiles (issue 18): a far frame sorts a few hundred tiles, not every
card, while clicks, drags, rubber bands, z-order and undo work as before."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, Qt

from studio.core import commands as c
from studio.core.space import Space
from studio.ui.canvas.geometry import CARD_H, CARD_W, Lod
from studio.ui.canvas.tiles import TILE, TileItem, tile_key
from tests.conftest import OWNER, add_asset
from tests.sql import write_many
from tests.ui.test_canvas_kit import Canvas, drag, make_canvas

ALT = Qt.KeyboardModifier.AltModifier
INSERT = (
    "INSERT INTO assets (id, slug, name, media_kind, x, y, created_at, updated_at) "
    "VALUES (?, ?, ?, 'image', ?, ?, 1, 1)"
)


def _grid(space: Space, cols: int, rows: int) -> None:
    write_many(
        space,
        INSERT,
        [
            (f"g{i}-{j}", f"g-{i}-{j}", f"G{i},{j}", i * 280.0, j * 300.0)
            for i in range(cols)
            for j in range(rows)
        ],
    )


def _assert_in_its_tile(cv: Canvas, aid: str) -> TileItem:
    card = cv.scene.card(aid)
    assert card is not None
    tile = card.parentItem()
    assert isinstance(tile, TileItem) and tile.key == tile_key(card.px, card.py)
    assert tile.rect().contains(card.sceneBoundingRect())  # what the tile promises Qt
    assert (card.scenePos().x(), card.scenePos().y()) == (card.px, card.py)  # no jump
    return tile


def test_cards_hang_under_a_few_tiles_not_at_the_scene_top(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    _grid(space, 60, 40)  # 2,400 cards over 17 x 12 canvas units of 1,000
    cv = make_canvas(space, qtbot)
    cards = cv.scene.cards()
    assert len(cards) == 2400
    top = [it for it in cv.scene.items() if it.parentItem() is None]
    tiles = [it for it in top if isinstance(it, TileItem)]
    # Qt's frame sorts the top-level items in view: a few dozen tiles, not 2,400 cards
    assert len(tiles) == len(cv.scene.tiles) and len(top) <= len(tiles) + 1  # + overview
    assert len(tiles) <= 30
    for card in cards[::97]:
        _assert_in_its_tile(cv, card.asset.id)
    # far out (every card drawn by the overview) the index still finds each card
    cv.view.fit_all()
    cv.scene.settle_lod()
    assert cv.scene.lod is Lod.FAR
    far_card = cv.scene.card("g59-39")
    assert far_card is not None
    mid = QPointF(far_card.px + CARD_W / 2, far_card.py + CARD_H / 2)
    assert cv.scene.card_at(mid) is far_card
    assert cv.scene.top_item_at(mid) is far_card
    inside = cv.scene.cards_in(QRectF(0, 0, 3 * 280 - 30, 2 * 300 - 50))
    assert {c.asset.id for c in inside} == {f"g{i}-{j}" for i in range(3) for j in range(2)}
    cv.view.grab()  # a real frame of tiles paints without error


def test_a_card_dragged_into_another_tile_moves_there_without_a_jump(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    a = add_asset(space, "Alpha", x=0, y=0)
    b = add_asset(space, "Beta", x=TILE + 200, y=0)  # in the next tile to the right
    g = add_asset(space, "Gamma", x=0, y=TILE + 100)  # a tile the drag never enters
    cv = make_canvas(space, qtbot)
    cv.view.set_scale(0.2)
    cv.view.center_on(TILE / 2, 200)
    gamma = _assert_in_its_tile(cv, g)
    home = _assert_in_its_tile(cv, a)
    assert _assert_in_its_tile(cv, b) is not home
    seen: list[tuple[TileItem, float, float]] = []  # (tile, its z, Gamma's tile's z)

    def look() -> None:
        card = cv.scene.card(a)
        assert card is not None and card.dragging
        tile = _assert_in_its_tile(cv, a)
        seen.append((tile, tile.zValue(), gamma.zValue()))
        beta = cv.scene.card(b)
        assert beta is not None
        if beta.parentItem() is tile:  # over Beta in the same tile
            assert card.zValue() > beta.zValue()

    end = (TILE + 200 + 600, 100)
    drag(cv.view, cv.vp(100, 100), cv.vp(*end), modifiers=ALT, steps=6, on_move=look)
    # while carried the card changed tile, and its tile was always raised over the others
    assert seen[0][0] is home and seen[-1][0] is not home
    assert all(z > other for _tile, z, other in seen)
    x, y = cv.pos(a)
    assert (x, y) != (0, 0) and tile_key(x, y) == (1, 0)
    tile = _assert_in_its_tile(cv, a)
    assert tile.key == (1, 0) and all(t.zValue() == 0 for t in cv.scene.tiles.tiles())
    card = cv.scene.card(a)
    mid = QPointF(x + CARD_W / 2, y + CARD_H / 2)
    assert cv.scene.card_at(mid) is card
    # undo: the move comes back as an event and the card goes home, to its old tile
    cv.host.stack.undo()
    assert cv.pos(a) == (0, 0)
    assert _assert_in_its_tile(cv, a) is home
    assert cv.scene.card_at(QPointF(CARD_W / 2, CARD_H / 2)) is card


def test_rubber_band_far_out_selects_across_tiles(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = [add_asset(space, f"C{i}", x=i * (TILE / 2), y=0) for i in range(4)]  # 2 tiles
    out = add_asset(space, "Out", x=0, y=TILE)
    cv = make_canvas(space, qtbot)
    cv.view.set_scale(0.08)
    cv.view.center_on(TILE, TILE / 2)
    cv.scene.settle_lod()
    assert {cv.scene.tiles.tiles()[i].key for i in range(len(cv.scene.tiles))} >= {
        (0, 0),
        (1, 0),
        (0, 1),
    }
    drag(cv.view, cv.vp(-100, -100), cv.vp(2 * TILE, CARD_H + 100))
    assert set(cv.scene.selected_ids()) == set(ids) and out not in cv.scene.selected_ids()
    # a move by someone else across a tile edge: the card follows into the tile there
    cv.space.apply(c.MoveAssets((c.Position(out, 3 * TILE + 10, 20),)), OWNER)
    assert _assert_in_its_tile(cv, out).key == (3, 0)


def test_leaving_a_space_hides_its_cards_at_once_and_frees_them_over_turns(
    space: Space, qtbot
) -> None:  # type: ignore[no-untyped-def]
    _grid(space, 60, 40)
    cv = make_canvas(space, qtbot)
    scene = cv.scene
    tiles = scene.tiles.tiles()
    old = scene.card("g10-10")
    assert old is not None
    at = QPointF(old.px + CARD_W / 2, old.py + CARD_H / 2)
    scene.select(["g10-10", "g11-10"])
    scene.clear_canvas()
    # nothing of the old space is found, selected or drawn any more ...
    assert scene.card_at(at) is None and scene.cards_in(QRectF(0, 0, 9000, 9000)) == []
    assert scene.selectedItems() == [] and scene.cards() == []
    cv.view.grab()
    # ... though its tiles leave the scene a few per turn, not in one long one
    still = [t for t in tiles if t.scene() is scene]
    assert len(still) > 0 and scene._graveyard.pending_items() == len(still)
    qtbot.waitUntil(lambda: scene._graveyard.pending_items() == 0, timeout=10_000)
    assert [it for it in scene.items() if it.parentItem() is None] == [scene._overview]
    # the next space's cards go into new tiles
    scene.load(space, space.snapshot())
    assert scene.wait_loaded()
    assert len(scene.cards()) == 2400 and scene.card_at(at) is not None
