"""A new card's free spot is found from the cards near it, through an index (issue 18,
item 3): placing each new asset of a batch read the whole assets table (0.4 s of UI
thread for 50 new cards at 20,000 assets), and a spot in a packed region read every
row again to find the lowest card."""

from __future__ import annotations

import random

from studio.core import commands as c
from studio.core.layout import GRID_STEP, Occupancy, below_all, free_block
from studio.core.space import Space
from tests.conftest import OWNER
from tests.sql import query, write_many

IMAGE = c.MediaKindName.IMAGE
INSERT = (
    "INSERT INTO assets (id, slug, name, media_kind, x, y, created_at, updated_at) "
    "VALUES (?, ?, ?, 'image', ?, ?, 1, 1)"
)


def _seed_grid(space: Space, cols: int, rows: int, x0: float = 0.0, y0: float = 0.0) -> None:
    """``cols`` x ``rows`` cards, one per grid cell, written behind the door (fast)."""
    write_many(
        space,
        INSERT,
        [
            (f"g{i}-{j}", f"g-{i}-{j}", f"G{i},{j}", x0 + i * GRID_STEP, y0 + j * GRID_STEP)
            for i in range(cols)
            for j in range(rows)
        ],
    )


def _traced(space: Space, cmd: c.Command) -> tuple[str, list[str]]:
    statements: list[str] = []
    space._db.conn.set_trace_callback(statements.append)
    try:
        aid = str(space.apply(cmd, OWNER).created.get("asset_id", ""))
    finally:
        space._db.conn.set_trace_callback(None)
    return aid, statements


def _scans_of_assets(space: Space, statements: list[str]) -> list[str]:
    """The SELECTs that walk the whole assets table (its rows or a whole index)."""
    out = []
    for s in statements:
        if not s.lstrip().upper().startswith("SELECT") or "FROM assets" not in s:
            continue
        plan = " / ".join(str(r[-1]) for r in query(space, "EXPLAIN QUERY PLAN " + s))
        if "SCAN assets" in plan or "INDEX" not in plan:
            out.append(f"{s.strip()[:90]} -> {plan}")
    return out


def test_placing_a_card_never_walks_the_assets_table(space: Space) -> None:
    _seed_grid(space, 60, 60)  # 3,600 cards, packed: wider and taller than the search
    middle = (30 * GRID_STEP, 30 * GRID_STEP)
    # packed all around: the card goes under the lowest one (the old code read every row)
    aid, statements = _traced(
        space, c.CreateAsset("In the middle", IMAGE, x=middle[0], y=middle[1])
    )
    a = space.asset(aid)
    assert (a.x, a.y) == (middle[0], 60 * GRID_STEP)
    assert _scans_of_assets(space, statements) == []
    # a batch of 16 at an edge: the block and each of its cards, all by the index
    batch = c.RequestBatch(
        "x",
        IMAGE,
        16,
        mode=c.BatchMode.SET,
        x=0.0,
        y=0.0,
        options=c.GenerationOptions(no_style=True),
    )
    _, statements = _traced(space, batch)
    placing = [s for s in statements if "deleted_at IS NULL AND y >" in s]
    assert len(placing) >= 17  # the block, then each card: the placements were traced
    assert _scans_of_assets(space, statements) == []


def _expected(cards: list[tuple[float, float]], want: tuple[float, float]) -> tuple[float, float]:
    """The placement rule read off every card at once (the old full scan)."""
    spot = free_block(want, 1, 1, Occupancy(cards))
    return spot if spot is not None else below_all(want, cards)


def test_the_widening_look_picks_the_spot_the_full_scan_picked(space: Space) -> None:
    rnd = random.Random(18)
    # a ragged field: packed blocks with holes, so spots are found near, far and nowhere
    _seed_grid(space, 30, 30)
    holes = [(f"g{rnd.randrange(30)}-{rnd.randrange(30)}",) for _ in range(40)]
    write_many(space, "UPDATE assets SET deleted_at = 5 WHERE id = ?", holes)
    for k in range(40):
        cards = [(a.x, a.y) for a in space.snapshot().assets]
        want = (rnd.uniform(-5, 32) * GRID_STEP, rnd.uniform(-5, 32) * GRID_STEP)
        made = space.apply(c.CreateAsset(f"N{k}", IMAGE, x=want[0], y=want[1]), OWNER)
        a = space.asset(made.created["asset_id"])
        assert (a.x, a.y) == _expected(cards, want), f"card {k} asked for {want}"
