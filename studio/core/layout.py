"""Where new cards go on the canvas (shared by file imports and generation batches)."""

from __future__ import annotations

import math

GRID_STEP = 280.0
"""Canvas units between neighbouring new cards."""


def grid_position(index: int, count: int, origin: tuple[float, float]) -> tuple[float, float]:
    """Where the ``index``-th of ``count`` new assets goes: a near-square grid."""
    cols = max(1, math.ceil(math.sqrt(count)))
    row, col = divmod(index, cols)
    return origin[0] + col * GRID_STEP, origin[1] + row * GRID_STEP
