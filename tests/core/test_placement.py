"""Every writer's new cards go to free space (issue 11, item 3); Arrange's grid."""

from __future__ import annotations

from itertools import combinations
from pathlib import Path

from PIL import Image

from studio.core import commands as c
from studio.core.imports import import_files
from studio.core.layout import (
    CARD,
    GRID_STEP,
    ArrangeBy,
    Occupancy,
    Placeable,
    arrange_grid,
    free_block,
)
from studio.core.space import Space
from tests.conftest import OWNER, add_asset, add_variant

IMAGE = c.MediaKindName.IMAGE


def _overlapping(space: Space) -> list[tuple[str, str]]:
    assets = space.snapshot().assets
    return [
        (a.name, b.name)
        for a, b in combinations(assets, 2)
        if abs(a.x - b.x) < CARD and abs(a.y - b.y) < CARD
    ]


def test_cards_created_at_the_same_spot_never_overlap(space: Space) -> None:
    first = add_asset(space, "One")
    ids = [add_asset(space, f"A{i}") for i in range(8)]  # all asked for (0, 0), like the CLI
    assert (space.asset(first).x, space.asset(first).y) == (0.0, 0.0)  # free: exactly there
    assert _overlapping(space) == []
    # each went to the nearest free grid cell: all within one ring of the origin
    assert all(
        abs(space.asset(a).x) <= GRID_STEP and abs(space.asset(a).y) <= GRID_STEP for a in ids
    )


def test_a_fork_and_a_generation_land_in_free_space(space: Space) -> None:
    made = add_variant(space, name="Hero")
    blocker = add_asset(space, "Blocker", x=GRID_STEP, y=0.0)  # where the fork would go
    assert space.asset(blocker).x == GRID_STEP
    fork = space.apply(c.ForkVariant(made.variant_id), OWNER).created["asset_id"]
    gen = space.apply(c.RequestGeneration("an owl", IMAGE, x=10.0, y=10.0), OWNER)
    assert _overlapping(space) == []
    # near the source / the wanted spot: within two steps
    assert abs(space.asset(fork).x) <= 2 * GRID_STEP and abs(space.asset(fork).y) <= GRID_STEP
    g = space.asset(gen.created["asset_id"])
    assert abs(g.x - 10) <= GRID_STEP and abs(g.y - 10) <= GRID_STEP


def test_a_set_batch_goes_to_free_space_as_one_grid_with_numbered_names(space: Space) -> None:
    add_asset(space, "Old")  # at the origin, where the batch is asked for
    applied = space.apply(c.RequestBatch("a small owl", IMAGE, 4, c.BatchMode.SET), OWNER)
    ids = applied.created["asset_ids"].split(",")
    rows = [space.asset(a) for a in ids]
    assert _overlapping(space) == []
    xs, ys = sorted({r.x for r in rows}), sorted({r.y for r in rows})
    assert len(xs) == 2 and len(ys) == 2  # still a 2 x 2 grid
    assert xs[1] - xs[0] == GRID_STEP and ys[1] - ys[0] == GRID_STEP
    assert [r.name for r in rows] == [f"a small owl {i}" for i in (1, 2, 3, 4)]


def test_imported_files_land_beside_existing_cards(space: Space, tmp_path: Path) -> None:
    add_asset(space, "Old")
    paths = []
    for i in range(3):
        p = tmp_path / f"pic{i}.png"
        Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(p)
        paths.append(p)
    report = import_files(space, paths, OWNER)
    assert len(report.imported) == 3
    assert _overlapping(space) == []


def test_free_block_skips_taken_cells_and_gives_up_when_all_is_full() -> None:
    taken = Occupancy([(0.0, 0.0), (GRID_STEP, 0.0)])
    assert free_block((0.0, 0.0), 1, 1, taken) == (0.0, GRID_STEP)  # below before above
    assert free_block((5.0, 5.0), 2, 1, Occupancy()) == (5.0, 5.0)
    full = Occupancy((i * GRID_STEP, j * GRID_STEP) for i in range(-30, 31) for j in range(-30, 31))
    assert free_block((0.0, 0.0), 1, 1, full) is None


def _card(aid: str, name: str, kind: str, type_: str, date: str) -> Placeable:
    return Placeable(aid, 1000.0, 500.0, name, kind, type_, date)


def test_arrange_by_name_date_kind_and_type() -> None:
    cards = [
        _card("a", "Zed", "image", "prop", "2026-01-03"),
        _card("b", "amy", "audio", "sfx", "2026-01-01"),
        _card("c", "Bob", "image", "character", "2026-01-02"),
    ]
    by_name = arrange_grid(cards, ArrangeBy.NAME, (0.0, 0.0))
    assert [k for k, _ in sorted(by_name.items(), key=lambda kv: (kv[1][1], kv[1][0]))] == [
        "b",
        "c",
        "a",
    ]
    assert by_name["b"] == (0.0, 0.0) and by_name["c"] == (GRID_STEP, 0.0)
    assert by_name["a"] == (0.0, GRID_STEP)
    by_date = arrange_grid(cards, ArrangeBy.DATE)
    assert by_date["b"] == (1000.0, 500.0)  # the cards' own top-left by default
    by_kind = arrange_grid(cards, ArrangeBy.KIND, (0.0, 0.0))
    assert by_kind["b"] == (0.0, 0.0)  # audio: its own row
    assert by_kind["c"][1] == by_kind["a"][1] == GRID_STEP  # images: the next row
    by_type = arrange_grid(cards, ArrangeBy.TYPE, (0.0, 0.0))
    assert [by_type[k][1] for k in ("c", "a", "b")] == [0.0, GRID_STEP, 2 * GRID_STEP]


def test_new_cards_keep_clear_of_a_frame_title(space: Space) -> None:
    space.apply(c.CreateFrame("Cast", 0.0, 0.0, 900.0, 600.0), OWNER)
    # the spot asked for would put the card over the frame's title tab
    aid = add_asset(space, "Above", x=0.0, y=-250.0)
    a = space.asset(aid)
    overlaps_band = a.y < 0.0 and a.y + CARD > -60.0 and a.x < 480.0 and a.x + CARD > 0.0
    assert not overlaps_band, (a.x, a.y)


def test_a_card_asked_for_inside_a_frame_stays_inside_it(space: Space) -> None:
    space.apply(c.CreateFrame("Cast", 0.0, 0.0, 900.0, 600.0), OWNER)
    aid = add_asset(space, "Inside", x=40.0, y=40.0)  # e.g. a file dropped into the frame
    assert (space.asset(aid).x, space.asset(aid).y) == (40.0, 40.0)


def test_the_blocked_grid_agrees_with_taken_spot_by_spot() -> None:
    """free_block asks a set of blocked grid offsets made in one pass over the cards;
    it must say exactly what asking ``taken`` spot by spot says."""
    import random

    from studio.core.layout import GRID_STEP, Occupancy

    rnd = random.Random(3)
    for _ in range(40):
        want = (rnd.uniform(-5000, 5000), rnd.uniform(-5000, 5000))
        cards = [
            (want[0] + rnd.uniform(-6, 6) * GRID_STEP, want[1] + rnd.uniform(-6, 6) * GRID_STEP)
            for _ in range(rnd.randrange(0, 60))
        ]
        cards += [(want[0] + i * GRID_STEP, want[1]) for i in range(-2, 3)]  # on the grid
        occupied = Occupancy(cards)
        blocked = occupied.blocked(want)
        for i in range(-8, 9):
            for j in range(-8, 9):
                spot = (want[0] + i * GRID_STEP, want[1] + j * GRID_STEP)
                assert ((i, j) in blocked) == occupied.taken(spot), (want, i, j)
