"""Where new cards go: the search for free canvas space near a spot, over the live
cards and frames of a space file (reads only). The door's :func:`free_place
<studio.core.handlers.assets.free_place>` runs it inside a step; the read API runs it
for a batch placed over several steps (an import), through :func:`free_block_near`."""

from __future__ import annotations

import math
import sqlite3

from studio.core.errors import ValidationError
from studio.core.layout import (
    CLEARANCE,
    SEARCH_RINGS,
    Occupancy,
    below_all,
    first_free,
    frame_title_spots,
    grid_spot,
    ring_order,
    search_box,
)

PLACE_RINGS = (2, 8, SEARCH_RINGS)
"""How far :func:`free_place` looks, widening: most new cards find room near the spot,
and a narrow look reads a few dozen rows where the widest reads hundreds."""


def search(
    conn: sqlite3.Connection, want: tuple[float, float], cols: int, rows: int
) -> tuple[int, tuple[float, float] | None]:
    """The full search: (the spot's index in :func:`ring_order`, the spot), or (every
    spot's count, None) when all within ``SEARCH_RINGS`` are taken."""
    for rings in PLACE_RINGS:  # a spot within fewer rings is the one the widest finds
        taken = taken_near(conn, search_box(want, cols, rows, rings))
        found = first_free(want, cols, rows, taken, rings)
        if found is not None:
            return found
    return len(ring_order(SEARCH_RINGS)), None


def probe(
    conn: sqlite3.Connection,
    want: tuple[float, float],
    cols: int,
    rows: int,
    start: int,
    limit: int,
) -> tuple[int, tuple[float, float] | None] | None:
    """From the ``start``-th spot of :func:`ring_order` on, the first whose block is
    free, reading only the cards around each block tested; None after ``limit`` taken
    ones (the full search is cheaper then)."""
    order = ring_order(SEARCH_RINGS)
    if start >= len(order):
        return len(order), None
    reach = CLEARANCE + 1.0  # a little wider than the test: the test itself is exact
    for index in range(start, min(len(order), start + limit)):
        i, j = order[index]
        x0, y0 = grid_spot(want, (i, j))
        x1, y1 = grid_spot(want, (i + cols - 1, j + rows - 1))
        taken = taken_near(conn, (x0 - reach, y0 - reach, x1 + reach, y1 + reach))
        cells = ((i + col, j + row) for row in range(rows) for col in range(cols))
        if not any(taken.taken(grid_spot(want, ij)) for ij in cells):
            return index, (x0, y0)
    return None


def taken_near(conn: sqlite3.Connection, box: tuple[float, float, float, float]) -> Occupancy:
    """The live cards with a corner strictly inside ``box``, and the title tabs of the
    frames that reach into it."""
    x0, y0, x1, y1 = box
    near = conn.execute(
        "SELECT x, y FROM assets WHERE deleted_at IS NULL AND y > ? AND y < ? AND x > ? AND x < ?",
        (y0, y1, x0, x1),
    ).fetchall()
    taken = Occupancy((r[0], r[1]) for r in near)
    for fx, fy, fw in conn.execute(  # a frame's title tab sits above it: keep it clear
        "SELECT x, y, width FROM frames WHERE deleted_at IS NULL AND x < ? AND x + width > ? "
        "AND y > ? AND y < ?",
        (x1, x0, y0, y1 + CLEARANCE),
    ):
        for px in frame_title_spots(fx, fy, fw):
            taken.add(px)
    return taken


def free_block_near(
    conn: sqlite3.Connection, x: float, y: float, cols: int, rows: int
) -> tuple[float, float]:
    """Where :func:`free_place` would put a ``cols`` x ``rows`` block near ``(x, y)`` as
    of the state ``conn`` reads (no hints, nothing written): for a batch of new cards
    placed over several steps (an import), asked once before the first, so the batch
    lands together as one grid instead of each card taking the free spot nearest its
    own. Each card's step still places it where nothing is by then."""
    if not (math.isfinite(x) and math.isfinite(y)):
        raise ValidationError("a place on the canvas must be finite numbers")
    want = (float(x), float(y))
    found = probe(conn, want, cols, rows, 0, 1) or search(conn, want, cols, rows)
    return found[1] or under_the_lowest(conn, want)


def under_the_lowest(conn: sqlite3.Connection, want: tuple[float, float]) -> tuple[float, float]:
    """Where new cards go when every spot near ``want`` is taken: under the lowest live
    card (the ``assets_live_at`` index's last entry), in ``want``'s column."""
    lowest = conn.execute("SELECT MAX(y) FROM assets WHERE deleted_at IS NULL").fetchone()[0]
    return below_all(want, [] if lowest is None else [(want[0], float(lowest))])
