"""Arrange: lay cards out as a grid sorted by kind, type, date or name, as one undoable
step (the layout math is the core's, :mod:`studio.core.layout`).

Cards inside a frame are arranged inside it (the frame grows when the grid needs more
room, never shrinks); the other cards form one grid in free space, starting where they
started, on no other card and no frame."""

from __future__ import annotations

from collections.abc import Sequence

from studio.core import commands as c
from studio.core.layout import (
    GRID_STEP,
    ArrangeBy,
    Occupancy,
    Placeable,
    Spot,
    arrange_grid,
    free_block,
)
from studio.store.records import AssetRow, FrameRow
from studio.ui.canvas.actions import CanvasActions, quote
from studio.ui.canvas.geometry import CARD_H, CARD_W, FRAME_PAD, GAP, Rect, card_in_frame


def _placeable(r: AssetRow) -> Placeable:
    return Placeable(r.id, r.x, r.y, r.name, r.media_kind, r.type, f"{r.created_at:020d}")


def _shape(grid: dict[str, Spot]) -> tuple[int, int]:
    cols = round(max(x for x, _ in grid.values()) / GRID_STEP) + 1
    rows = round(max(y for _, y in grid.values()) / GRID_STEP) + 1
    return cols, rows


def _frame_of(r: AssetRow, frames: Sequence[FrameRow]) -> FrameRow | None:
    card = Rect(r.x, r.y, CARD_W, CARD_H)
    for f in frames:
        if card_in_frame(card, Rect(f.x, f.y, f.width, f.height)):
            return f
    return None


def arrange(actions: CanvasActions, ids: Sequence[str], by: ArrangeBy) -> bool:
    """Lay ``ids`` (none: every card of the space) out as grids sorted ``by``, in one
    undoable step."""
    model = actions.scene.model
    assets = model.assets
    chosen = (
        [assets[a] for a in dict.fromkeys(ids) if a in assets] if ids else list(assets.values())
    )
    if not chosen:
        return False
    frames = sorted(model.frames.values(), key=lambda f: f.width * f.height)  # innermost first
    inside: dict[str, list[AssetRow]] = {}
    loose: list[AssetRow] = []
    for r in chosen:
        f = _frame_of(r, frames)
        (inside.setdefault(f.id, []) if f is not None else loose).append(r)
    spots: dict[str, Spot] = {}
    cmds: list[c.Command] = []
    areas = {f.id: Rect(f.x, f.y, f.width, f.height) for f in frames}  # after growing
    for fid, members in inside.items():
        f = model.frames[fid]
        grid = arrange_grid([_placeable(r) for r in members], by, (0.0, 0.0))
        cols, rows = _shape(grid)
        x0, y0 = f.x + FRAME_PAD, f.y + FRAME_PAD
        spots.update({a: (x0 + dx, y0 + dy) for a, (dx, dy) in grid.items()})
        need_w = cols * GRID_STEP - GAP + 2 * FRAME_PAD
        need_h = rows * GRID_STEP - GAP + 2 * FRAME_PAD
        if need_w > f.width or need_h > f.height:
            w, h = max(f.width, need_w), max(f.height, need_h)
            cmds.append(c.UpdateFrame(fid, width=w, height=h))
            areas[fid] = Rect(f.x, f.y, w, h)
    if loose:
        grid = arrange_grid([_placeable(r) for r in loose], by, (0.0, 0.0))
        start = (min(r.x for r in loose), min(r.y for r in loose))
        picked = {r.id for r in loose}
        taken = Occupancy((r.x, r.y) for r in assets.values() if r.id not in picked)
        for area in areas.values():  # a frame's whole area (and its title) is taken
            y = area.y - GRID_STEP / 2
            while y < area.bottom:
                x = area.x
                while x < area.right:
                    taken.add((x, y))
                    x += CARD_W / 2
                y += CARD_H / 2
        origin = free_block(start, *_shape(grid), taken) or start
        spots.update({a: (origin[0] + dx, origin[1] + dy) for a, (dx, dy) in grid.items()})
    moves = [
        c.Position(a, x, y) for a, (x, y) in spots.items() if (assets[a].x, assets[a].y) != (x, y)
    ]
    if not moves and not cmds:
        return False
    cmds += c.moves(moves)
    n = len(chosen)
    what = quote(chosen[0].name) if n == 1 else f"{n} assets"
    return actions.run(cmds, f"Arrange {what} by {by.value}")
