"""Where cards go on the canvas: free space for new cards, and Arrange.

Pure functions on plain numbers (no Qt, no SQL), shared by every writer: the core
places each new asset (generated, imported, forked, created by the CLI) with
:func:`free_block`, so a new card never lands on an old one; :func:`arrange_grid`
lays chosen cards out as a grid. An asset row's ``(x, y)`` is its card's top-left
corner; every card is ``CARD`` x ``CARD`` canvas units.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

CARD = 256.0
"""A card's side, in canvas units (the UI draws cards this size)."""
GAP = 24.0
GRID_STEP = CARD + GAP
"""Canvas units between neighbouring new cards."""
CLEARANCE = CARD + GAP / 2
"""Two card corners closer than this on both axes are too close (the cards overlap or
touch)."""
SEARCH_RINGS = 24
"""How far (in grid steps) around the wanted spot free space is looked for."""

Spot = tuple[float, float]


def grid_position(index: int, count: int, origin: Spot) -> Spot:
    """Where the ``index``-th of ``count`` new assets goes: a near-square grid."""
    cols = grid_columns(count)
    row, col = divmod(index, cols)
    return origin[0] + col * GRID_STEP, origin[1] + row * GRID_STEP


def grid_columns(count: int) -> int:
    return max(1, math.ceil(math.sqrt(count)))


def grid_shape(count: int) -> tuple[int, int]:
    """(columns, rows) of the near-square grid :func:`grid_position` fills."""
    cols = grid_columns(count)
    return cols, max(1, math.ceil(count / cols))


class Occupancy:
    """The cards already on the canvas, bucketed by grid cell for fast overlap tests."""

    def __init__(self, corners: Iterable[Spot] = ()) -> None:
        self._cells: dict[tuple[int, int], list[Spot]] = {}
        for p in corners:
            self.add(p)

    def _cell(self, p: Spot) -> tuple[int, int]:
        return math.floor(p[0] / GRID_STEP), math.floor(p[1] / GRID_STEP)

    def add(self, p: Spot) -> None:
        self._cells.setdefault(self._cell(p), []).append(p)

    def blocked(self, want: Spot) -> set[tuple[int, int]]:
        """The offsets ``(i, j)`` of the grid through ``want`` (``GRID_STEP`` apart)
        whose spot :meth:`taken` says is taken: each card blocks at most two columns and
        two rows of it (``CLEARANCE < GRID_STEP``), so this is one pass over the cards,
        where asking :meth:`taken` spot by spot walked nine buckets a spot."""
        wx, wy = want
        out: set[tuple[int, int]] = set()
        for spots in self._cells.values():
            for qx, qy in spots:
                i0 = math.floor((qx - wx - CLEARANCE) / GRID_STEP)
                j0 = math.floor((qy - wy - CLEARANCE) / GRID_STEP)
                cols = [i for i in range(i0, i0 + 4) if abs(qx - (wx + i * GRID_STEP)) < CLEARANCE]
                if not cols:
                    continue
                for j in range(j0, j0 + 4):
                    if abs(qy - (wy + j * GRID_STEP)) < CLEARANCE:
                        out.update((i, j) for i in cols)
        return out

    def taken(self, p: Spot) -> bool:
        """Would a card at ``p`` overlap (or touch) a card already here?"""
        cx, cy = self._cell(p)
        for i in (cx - 1, cx, cx + 1):
            for j in (cy - 1, cy, cy + 1):
                for q in self._cells.get((i, j), ()):
                    if abs(q[0] - p[0]) < CLEARANCE and abs(q[1] - p[1]) < CLEARANCE:
                        return True
        return False


def search_box(
    want: Spot, cols: int = 1, rows: int = 1, rings: int = SEARCH_RINGS
) -> tuple[float, float, float, float]:
    """(x0, y0, x1, y1): the corners :func:`free_block` may look at (within ``rings``
    steps of ``want``), for a query."""
    reach = (rings + 1) * GRID_STEP
    return (
        want[0] - reach,
        want[1] - reach,
        want[0] + reach + cols * GRID_STEP,
        want[1] + reach + rows * GRID_STEP,
    )


@functools.cache
def _ring(r: int) -> tuple[tuple[int, int], ...]:
    """The grid offsets at Chebyshev distance ``r``, nearest (Euclidean) first; ties:
    right before left, below before above, so results are deterministic (made once per
    ``r``: every placement walks the same rings)."""
    if r == 0:
        return ((0, 0),)
    cells = [(i, j) for i in range(-r, r + 1) for j in range(-r, r + 1) if max(abs(i), abs(j)) == r]
    return tuple(sorted(cells, key=lambda ij: (ij[0] ** 2 + ij[1] ** 2, -ij[0], -ij[1])))


@functools.cache
def ring_order(rings: int = SEARCH_RINGS) -> tuple[tuple[int, int], ...]:
    """Every grid offset within ``rings`` steps, in the order :func:`free_block` tries
    them (ring by ring, each ring as :func:`_ring` sorts it): the order of a smaller
    ``rings`` is the start of a larger one's."""
    return tuple(ij for r in range(rings + 1) for ij in _ring(r))


def grid_spot(want: Spot, ij: tuple[int, int]) -> Spot:
    """The spot at grid offset ``ij`` from ``want`` (the arithmetic every placement test
    uses, so a spot is the same number however it was found)."""
    return want[0] + ij[0] * GRID_STEP, want[1] + ij[1] * GRID_STEP


def first_free(
    want: Spot, cols: int, rows: int, occupied: Occupancy, rings: int = SEARCH_RINGS
) -> tuple[int, Spot] | None:
    """:func:`free_block`, with the found spot's index in :func:`ring_order`."""
    blocked = occupied.blocked(want)
    for index, (i, j) in enumerate(ring_order(rings)):
        if (i, j) in blocked:
            continue
        if (cols == 1 and rows == 1) or not any(
            (i + col, j + row) in blocked for row in range(rows) for col in range(cols)
        ):
            return index, grid_spot(want, (i, j))
    return None


def free_block(
    want: Spot, cols: int, rows: int, occupied: Occupancy, rings: int = SEARCH_RINGS
) -> Spot | None:
    """The top-left corner, nearest to ``want`` on a grid through ``want``, of a
    ``cols`` x ``rows`` block of cards (``GRID_STEP`` apart) that overlaps nothing in
    ``occupied``; None when there is no such block within ``rings`` steps."""
    found = first_free(want, cols, rows, occupied, rings)
    return None if found is None else found[1]


TITLE_BAND = 60.0
"""Canvas units above a frame kept clear for its title tab (drawn larger when zoomed out)."""
TITLE_SPAN = 480.0
"""How much of a frame's width its title tab may take."""


def frame_title_spots(x: float, y: float, width: float) -> list[Spot]:
    """Corners that mark a frame's title tab as taken (see :class:`Occupancy`): no new
    card overlaps the band ``TITLE_BAND`` high above the frame's top edge (a card whose
    top is less than ``CARD + TITLE_BAND`` above the edge). The marks sit one clearance
    above the edge, so the inside of the frame stays free for new cards."""
    band_y = y - CLEARANCE
    assert CLEARANCE >= TITLE_BAND  # one row of marks covers the whole band
    out: list[Spot] = []
    px = x
    while px <= x + min(width, TITLE_SPAN):
        out.append((px, band_y))
        px += CARD / 2
    return out


def below_all(want: Spot, corners: Iterable[Spot]) -> Spot:
    """A spot that overlaps nothing: under the lowest card, in ``want``'s column."""
    lowest = max((p[1] for p in corners), default=want[1] - GRID_STEP)
    return want[0], max(want[1], lowest + GRID_STEP)


# --------------------------------------------------------------------------- arrange


class ArrangeBy(StrEnum):
    KIND = "kind"
    TYPE = "type"
    DATE = "date"
    NAME = "name"


@dataclass(frozen=True, slots=True)
class Placeable:
    """What Arrange needs to know of one card."""

    asset_id: str
    x: float
    y: float
    name: str
    media_kind: str
    type: str
    created_at: str


def _sort_key(by: ArrangeBy, p: Placeable) -> tuple[str, ...]:
    name = p.name.casefold()
    if by is ArrangeBy.KIND:
        return (p.media_kind, p.type.casefold(), name, p.asset_id)
    if by is ArrangeBy.TYPE:
        return (p.type.casefold(), p.media_kind, name, p.asset_id)
    if by is ArrangeBy.DATE:
        return (p.created_at, name, p.asset_id)
    return (name, p.created_at, p.asset_id)


def _group(by: ArrangeBy, p: Placeable) -> str:
    if by is ArrangeBy.KIND:
        return p.media_kind
    if by is ArrangeBy.TYPE:
        return p.type.casefold()
    return ""


def arrange_grid(
    cards: Sequence[Placeable], by: ArrangeBy, origin: Spot | None = None
) -> dict[str, Spot]:
    """New top-left corners for ``cards``: sorted by ``by`` and laid out as a grid
    (``GRID_STEP`` apart) starting at ``origin`` (default: the cards' top-left). By
    kind or type each group starts a new row, so groups read as blocks; by date or
    name it is one near-square grid."""
    if not cards:
        return {}
    if origin is None:
        origin = (min(p.x for p in cards), min(p.y for p in cards))
    ordered = sorted(cards, key=lambda p: _sort_key(by, p))
    groups: list[list[Placeable]] = []
    for p in ordered:
        if groups and _group(by, groups[-1][0]) == _group(by, p):
            groups[-1].append(p)
        else:
            groups.append([p])
    cols = grid_columns(len(ordered)) if len(groups) == 1 else grid_columns(max(map(len, groups)))
    out: dict[str, Spot] = {}
    row = 0
    for members in groups:
        for k, p in enumerate(members):
            r, col = divmod(k, cols)
            out[p.asset_id] = (origin[0] + col * GRID_STEP, origin[1] + (row + r) * GRID_STEP)
        row += math.ceil(len(members) / cols)
    return out
