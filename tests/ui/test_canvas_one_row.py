"""The canvas holds one variant row per card (the snapshot's), yet each card's count
and star cover every variant, follow events about variants it never read, and Find
still searches every variant's prompt or file name."""

from __future__ import annotations

from studio.core import commands as c
from studio.core.space import Space
from studio.ui.canvas.model import STAR_ACTIVE, STAR_NONE, STAR_OTHER
from studio.ui.space_jobs import prompts_of
from tests.conftest import OWNER, add_variant
from tests.ui.test_canvas_kit import make_canvas


def test_cards_count_and_star_variants_the_canvas_never_read(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    first = add_variant(space, name="Hero")
    others = [add_variant(space, first.asset_id, name=f"Take {i}").variant_id for i in range(4)]
    plain = add_variant(space, name="Plain")
    space.apply(c.StarVariant(others[2]), OWNER)
    cv = make_canvas(space, qtbot)
    model = cv.scene.model
    assert set(model.variants) == {first.variant_id, plain.variant_id}  # one row a card
    card = cv.scene.card(first.asset_id)
    assert card is not None and card.facts.active is not None
    assert card.facts.active.id == first.variant_id
    assert card.facts.count == 5 and card.facts.star == STAR_OTHER
    assert model.starred(first.asset_id) and not model.starred(plain.asset_id)

    space.apply(c.StarVariant(others[2], starred=False), OWNER)  # a row it never read
    assert card.facts.star == STAR_NONE
    space.apply(c.DeleteVariant(others[0]), OWNER)
    assert card.facts.count == 4
    space.apply(c.RestoreVariant(others[0]), OWNER)
    assert card.facts.count == 5
    more = add_variant(space, first.asset_id, name="Take 5")
    assert card.facts.count == 6
    space.apply(c.SetActiveVariant(first.asset_id, more.variant_id), OWNER)
    space.apply(c.StarVariant(more.variant_id), OWNER)
    assert card.facts.active is not None and card.facts.active.id == more.variant_id
    assert card.facts.star == STAR_ACTIVE and card.facts.count == 6


def test_find_searches_the_variants_the_canvas_never_read(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    hero = add_variant(space, name="Hero")
    add_variant(space, hero.asset_id, name="Dragon")  # its file name: Dragon.bin
    add_variant(space, name="Knight")
    cv = make_canvas(space, qtbot)
    cv.scene.finder.prompt_source = lambda ids: prompts_of(space, ids)  # as the window does
    assert [v.id for v in cv.scene.model.variants_of(hero.asset_id)] == [hero.variant_id]
    assert cv.scene.finder.find("dragon") == 1
    assert cv.scene.finder.matches() == [hero.asset_id]


def test_find_forgets_a_variant_deleted_after_its_list_was_read(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    hero = add_variant(space, name="Hero")
    dragon = add_variant(space, hero.asset_id, name="Dragon")
    cv = make_canvas(space, qtbot)
    cv.scene.finder.prompt_source = lambda ids: prompts_of(space, ids)
    assert cv.scene.finder.find("dragon") == 1  # reads every variant's id once
    space.apply(c.DeleteVariant(dragon.variant_id), OWNER)
    assert cv.scene.finder.find("dragon") == 0  # the cached list still held it
    space.apply(c.RestoreVariant(dragon.variant_id), OWNER)
    assert cv.scene.finder.find("dragon") == 1
