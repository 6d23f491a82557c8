"""Canvas layout math: card sizes, level of detail, snapping, zoom and fitting.

Pure functions on plain numbers (no Qt), so they are unit-tested without a display.
Coordinates are scene coordinates: an asset row's ``(x, y)`` is its card's top-left
corner; a frame row's ``(x, y, width, height)`` is its content rectangle (the title
sits above it).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from enum import IntEnum
from typing import NamedTuple

# --------------------------------------------------------------------------- sizes

CARD_W = 256.0
CARD_H = 256.0
GAP = 24.0  # CARD + GAP == the core's import/fork grid step (280)
STEP = CARD_W + GAP
FOOTER_H = 30.0
GRID = 20.0  # snapping grid (the import grid, 280, is a multiple of it)
SNAP_PX = 8.0  # neighbour snapping distance, in device pixels
FRAME_PAD = 32.0  # space between a frame's edge and the cards it was made around
FRAME_TITLE_H = 28.0  # the title tab above a frame, at 1:1
FRAME_MIN = 80.0  # smallest frame side

# thumbnail tiers: the longest side of a decoded thumbnail, in pixels
TIER_FULL = 256
TIER_LOW = 64
TIER_TINY = 16  # the overview, when a card is under TINY_BELOW_PX on screen
TINY_BELOW_PX = 24.0

# zoom
MIN_SCALE = 0.01
MAX_SCALE = 8.0
WHEEL_BASE = 1.0015  # per wheel-delta unit: one notch (120) zooms ~20%
BUTTON_STEP = 1.25


class Lod(IntEnum):
    """How much a card shows at a zoom level.

    FAR: the cards draw nothing themselves; one overview item paints them all as
    low-resolution thumbnails or flat colours (a Python ``paint()`` per card costs too
    much when thousands are on screen). SIMPLE: each card paints its low-resolution
    thumbnail and status colour, no text. FULL: everything, full thumbnail.
    """

    FAR = 0
    SIMPLE = 1
    FULL = 2


LOD_SIMPLE_BELOW = 0.3  # scale below which cards drop text and use the low tier
LOD_FAR_BELOW = 0.15  # scale below which the overview paints the cards


def lod_for_scale(scale: float) -> Lod:
    if scale < LOD_FAR_BELOW:
        return Lod.FAR
    if scale < LOD_SIMPLE_BELOW:
        return Lod.SIMPLE
    return Lod.FULL


def tier_for_scale(scale: float) -> int:
    """The thumbnail tier a card shows at ``scale``."""
    if scale * CARD_W < TINY_BELOW_PX:
        return TIER_TINY
    return TIER_FULL if scale >= LOD_SIMPLE_BELOW else TIER_LOW


# --------------------------------------------------------------------------- rectangles


class Rect(NamedTuple):
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2

    def moved(self, dx: float, dy: float) -> Rect:
        return Rect(self.x + dx, self.y + dy, self.w, self.h)

    def adjusted(self, d: float) -> Rect:
        return Rect(self.x - d, self.y - d, self.w + 2 * d, self.h + 2 * d)

    def intersects(self, o: Rect) -> bool:
        return self.x < o.right and o.x < self.right and self.y < o.bottom and o.y < self.bottom

    def contains_point(self, px: float, py: float) -> bool:
        return self.x <= px <= self.right and self.y <= py <= self.bottom


def card_rect(x: float, y: float) -> Rect:
    return Rect(x, y, CARD_W, CARD_H)


def union(rects: Iterable[Rect]) -> Rect | None:
    it = iter(rects)
    first = next(it, None)
    if first is None:
        return None
    x0, y0, x1, y1 = first.x, first.y, first.right, first.bottom
    for r in it:
        x0, y0 = min(x0, r.x), min(y0, r.y)
        x1, y1 = max(x1, r.right), max(y1, r.bottom)
    return Rect(x0, y0, x1 - x0, y1 - y0)


def frame_around(rects: Iterable[Rect], pad: float = FRAME_PAD) -> Rect | None:
    """The content rectangle of a frame drawn around ``rects``, snapped outwards to
    the grid."""
    u = union(rects)
    if u is None:
        return None
    x0 = math.floor((u.x - pad) / GRID) * GRID
    y0 = math.floor((u.y - pad) / GRID) * GRID
    x1 = math.ceil((u.right + pad) / GRID) * GRID
    y1 = math.ceil((u.bottom + pad) / GRID) * GRID
    return Rect(x0, y0, x1 - x0, y1 - y0)


def inside_frame(card: Rect, frame: Rect) -> bool:
    """A card belongs to a frame when its centre is inside the frame."""
    return frame.contains_point(card.cx, card.cy)


def card_in_frame(card: Rect, frame: Rect, slack: float = 1.0) -> bool:
    """A frame's member: the card lies wholly inside the frame (``slack`` canvas units
    of rounding allowed). A card that merely overlaps the frame is not a member."""
    return (
        card.x >= frame.x - slack
        and card.y >= frame.y - slack
        and card.right <= frame.right + slack
        and card.bottom <= frame.bottom + slack
    )


def fit_inside(w: float, h: float, box: Rect) -> Rect:
    """``w x h`` scaled to fit ``box`` (never upscaled past the box), centred."""
    if w <= 0 or h <= 0:
        return box
    s = min(box.w / w, box.h / h)
    fw, fh = w * s, h * s
    return Rect(box.x + (box.w - fw) / 2, box.y + (box.h - fh) / 2, fw, fh)


def scaled_size(w: int, h: int, longest: int) -> tuple[int, int]:
    """Size to decode an image at so its longest side is at most ``longest``."""
    if w <= 0 or h <= 0:
        return (longest, longest)
    if max(w, h) <= longest:
        return (w, h)
    s = longest / max(w, h)
    return (max(1, round(w * s)), max(1, round(h * s)))


# --------------------------------------------------------------------------- snapping


def snap_to_grid(v: float, grid: float = GRID) -> float:
    return round(v / grid) * grid


class Snap(NamedTuple):
    """The snapped move, and the guide lines (scene x / y) that caused it, if any."""

    dx: float
    dy: float
    guide_x: float | None
    guide_y: float | None


def _best_axis(
    edges: tuple[float, ...], targets: Iterable[float], tol: float
) -> tuple[float, float | None]:
    """The smallest shift (within ``tol``) that puts one of ``edges`` on a target."""
    best_d: float | None = None
    best_t: float | None = None
    for t in targets:
        for e in edges:
            d = t - e
            if abs(d) <= tol and (best_d is None or abs(d) < abs(best_d)):
                best_d, best_t = d, t
    return (0.0 if best_d is None else best_d, best_t)


def snap_move(
    moving: Rect,
    dx: float,
    dy: float,
    neighbours: Iterable[Rect],
    tolerance: float,
    grid: float = GRID,
) -> Snap:
    """Snap a move of ``moving`` by ``(dx, dy)``.

    On each axis, if an edge or the centre of the moved rectangle comes within
    ``tolerance`` of a neighbour's edge or centre, it aligns with it (the closest
    wins); otherwise the moved top-left corner snaps to the grid.
    """
    moved = moving.moved(dx, dy)
    xs: list[float] = []
    ys: list[float] = []
    for n in neighbours:
        xs += (n.x, n.cx, n.right)
        ys += (n.y, n.cy, n.bottom)
    ax, gx = _best_axis((moved.x, moved.cx, moved.right), xs, tolerance)
    ay, gy = _best_axis((moved.y, moved.cy, moved.bottom), ys, tolerance)
    if gx is None:
        ax = snap_to_grid(moved.x, grid) - moved.x
    if gy is None:
        ay = snap_to_grid(moved.y, grid) - moved.y
    return Snap(dx + ax, dy + ay, gx, gy)


def free_spot(start: Rect, occupied: Iterable[Rect], step: float = STEP, tries: int = 50) -> Rect:
    """``start`` moved right by ``step`` until it overlaps nothing in ``occupied``."""
    taken = [o.adjusted(-1) for o in occupied]
    r = start
    for _ in range(tries):
        if not any(r.intersects(o) for o in taken):
            return r
        r = r.moved(step, 0)
    return r


# --------------------------------------------------------------------------- zoom


def clamp_scale(s: float) -> float:
    return max(MIN_SCALE, min(MAX_SCALE, s))


def wheel_factor(angle_delta: float) -> float:
    return float(WHEEL_BASE**angle_delta)


def zoom_center(
    center: tuple[float, float], anchor: tuple[float, float], old: float, new: float
) -> tuple[float, float]:
    """The new view centre that keeps the scene point ``anchor`` (under the cursor)
    at the same place on screen when the scale goes from ``old`` to ``new``."""
    k = old / new
    return (anchor[0] + (center[0] - anchor[0]) * k, anchor[1] + (center[1] - anchor[1]) * k)


def fit_scale(content: Rect, viewport_w: float, viewport_h: float, margin: float = 40.0) -> float:
    """The scale that shows all of ``content`` in the viewport with ``margin`` device
    pixels around it, at most 1:1."""
    if content.w <= 0 or content.h <= 0 or viewport_w <= 2 * margin or viewport_h <= 2 * margin:
        return 1.0
    s = min((viewport_w - 2 * margin) / content.w, (viewport_h - 2 * margin) / content.h)
    return clamp_scale(min(1.0, s))
