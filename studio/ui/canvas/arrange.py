"""Arrange: lay cards out as a grid sorted by kind, type, date or name, as one undoable
step (the layout math is the core's, :mod:`studio.core.layout`)."""

from __future__ import annotations

from collections.abc import Sequence

from studio.core import commands as c
from studio.core.layout import (
    GRID_STEP,
    ArrangeBy,
    Occupancy,
    Placeable,
    arrange_grid,
    free_block,
)
from studio.core.limits import MAX_POSITIONS
from studio.ui.canvas.actions import CanvasActions, quote


def arrange(actions: CanvasActions, ids: Sequence[str], by: ArrangeBy) -> bool:
    """Lay ``ids`` (none: every card of the space) out as a grid sorted ``by``, in one
    undoable step. A selection's grid goes to the free space nearest to where the
    selection starts, so it lands on no other card; the whole space's grid starts at
    its top-left card."""
    assets = actions.scene.model.assets
    chosen = (
        [assets[a] for a in dict.fromkeys(ids) if a in assets] if ids else list(assets.values())
    )
    if not chosen:
        return False
    cards = [
        Placeable(r.id, r.x, r.y, r.name, r.media_kind, r.type, f"{r.created_at:020d}")
        for r in chosen
    ]
    grid = arrange_grid(cards, by, (0.0, 0.0))
    start = (min(p.x for p in cards), min(p.y for p in cards))
    origin = start
    if ids:
        picked = {p.asset_id for p in cards}
        others = Occupancy((r.x, r.y) for r in assets.values() if r.id not in picked)
        cols = round(max(x for x, _ in grid.values()) / GRID_STEP) + 1
        rows = round(max(y for _, y in grid.values()) / GRID_STEP) + 1
        origin = free_block(start, cols, rows, others) or start
    moves = [
        c.Position(aid, origin[0] + dx, origin[1] + dy)
        for aid, (dx, dy) in grid.items()
        if (assets[aid].x, assets[aid].y) != (origin[0] + dx, origin[1] + dy)
    ]
    if not moves:
        return False
    cmds = [
        c.MoveAssets(tuple(moves[i : i + MAX_POSITIONS]))
        for i in range(0, len(moves), MAX_POSITIONS)
    ]
    n = len(cards)
    what = quote(chosen[0].name) if n == 1 else f"{n} assets"
    return actions.run(cmds, f"Arrange {what} by {by.value}")
