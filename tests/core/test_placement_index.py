"""A new card's free spot is found from the cards near it, through an index (issue 18,
item 3): placing each new asset of a batch read the whole assets table (0.4 s of UI
thread for 50 new cards at 20,000 assets), and a spot in a packed region read every
row again to find the lowest card."""

from __future__ import annotations

import random
import re
from pathlib import Path

from studio.core import commands as c
from studio.core.layout import GRID_STEP, Occupancy, below_all, frame_title_spots, free_block
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


def _expected_now(space: Space, want: tuple[float, float]) -> tuple[float, float]:
    """The placement rule read off every live card and frame title at once."""
    cards = [(a.x, a.y) for a in space.snapshot().assets]
    taken = Occupancy(cards)
    for fx, fy, fw in query(space, "SELECT x, y, width FROM frames WHERE deleted_at IS NULL"):
        for spot in frame_title_spots(fx, fy, fw):
            taken.add(spot)
    spot = free_block(want, 1, 1, taken)
    return spot if spot is not None else below_all(want, cards)


def _band_heights(statements: list[str]) -> list[float]:
    """The height of each band of rows a placement read (``y > a AND y < b``)."""
    out = []
    for s in statements:
        m = re.search(r"deleted_at IS NULL AND y > (\S+) AND y < (\S+) AND", s)
        if m:
            out.append(float(m.group(2)) - float(m.group(1)))
    return out


def test_cards_asked_for_at_one_spot_again_and_again_read_only_the_next_free_spots(
    space: Space,
) -> None:
    """``studio generate`` without a place asks every card at the origin: the door
    remembers how many spots around it it found taken, so the 300th card reads the few
    cards around the next free spot, not the 299 before it (5.5 ms a command at 2,000)."""
    for k in range(300):
        space.apply(c.CreateAsset(f"N{k}", IMAGE), OWNER)
    aid, statements = _traced(space, c.CreateAsset("Next", IMAGE))
    a = space.asset(aid)
    bands = _band_heights(statements)
    assert bands and max(bands) < 2 * GRID_STEP, bands  # a whole ring's band is 7+ steps
    assert (a.x, a.y) != (0.0, 0.0)
    others = [(b.x, b.y) for b in space.snapshot().assets if b.id != aid]
    assert (a.x, a.y) == _expected([p for p in others], (0.0, 0.0))
    # a move frees a spot near the origin: the hint is dropped, the card takes that spot
    first = min(space.snapshot().assets, key=lambda b: abs(b.x) + abs(b.y))
    space.apply(c.MoveAssets((c.Position(first.id, -1e6, -1e6),)), OWNER)
    aid, statements = _traced(space, c.CreateAsset("Back", IMAGE))
    assert (space.asset(aid).x, space.asset(aid).y) == (first.x, first.y)


def test_remembered_spots_give_the_full_search_answer_whoever_writes(
    space: Space, tmp_path: Path
) -> None:
    """Random creates at a few spots mixed with moves, deletes, restores, undo and
    frames, from this door and from a second door on the same file: every new card
    lands where a search over every card would put it."""
    rnd = random.Random(26)
    assert space._db.path is not None
    other = Space.open(space._db.path, space.media_dir, space_id=space.id, slug=space.slug)
    try:
        spots = [(0.0, 0.0), (3 * GRID_STEP, 2 * GRID_STEP), (-1000.0, 500.0)]
        for k in range(160):
            roll = rnd.random()
            live = space.snapshot().assets
            door = space if rnd.random() < 0.7 else other
            if roll < 0.6 or not live:
                want = rnd.choice(spots)
                expected = _expected_now(space, want)
                made = door.apply(c.CreateAsset(f"N{k}", IMAGE, x=want[0], y=want[1]), OWNER)
                a = space.asset(made.created["asset_id"])
                assert (a.x, a.y) == expected, f"step {k}: card asked for at {want}"
            elif roll < 0.7:
                victim = rnd.choice(live)
                door.apply(c.MoveAssets((c.Position(victim.id, victim.x + 7e5, 0.0),)), OWNER)
            elif roll < 0.8:
                door.apply(c.DeleteAsset(rnd.choice(live).id), OWNER)
            elif roll < 0.87:
                door.undo(OWNER)
            elif roll < 0.92:
                fx, fy = rnd.choice(spots)
                door.apply(
                    c.CreateFrame(
                        "F",
                        fx + rnd.uniform(-3, 3) * GRID_STEP,
                        fy + rnd.uniform(-3, 3) * GRID_STEP,
                        900.0,
                        600.0,
                    ),
                    OWNER,
                )
            else:
                door.apply(c.UpdateAsset(rnd.choice(live).id, name=f"R{k}"), OWNER)
    finally:
        other.close()


def test_a_free_spot_asked_for_is_tested_alone(space: Space) -> None:
    """An import's grid and a drop on empty canvas ask for free spots: the door tests
    that spot with the few cards around it before it reads a whole neighbourhood
    (0.5 ms a file of an import's door step)."""
    _seed_grid(space, 5, 5)
    want = (5 * GRID_STEP, 2 * GRID_STEP)  # right beside the grid's edge
    aid, statements = _traced(space, c.CreateAsset("Beside", IMAGE, x=want[0], y=want[1]))
    assert (space.asset(aid).x, space.asset(aid).y) == want
    bands = _band_heights(statements)
    assert len(bands) == 1 and bands[0] < 2 * GRID_STEP, bands
