"""Where the shapes of a scene go (layout) and how each kind is drawn (Pillow).

Layout works in relative units: ``x`` and ``y`` are fractions of the width and
height, ``r`` a fraction of the short side, so a scene keeps its look at every
size. Drawing turns an :class:`Item` into pixels on an ``ImageDraw`` in RGBA
blend mode.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
from PIL import ImageDraw

from workers.local_prompt import RGB, SceneSpec
from workers.local_shapes import SHAPES, Pen

SKY_KINDS = frozenset({"circle", "star", "ring", "spiral", "diamond", "cloud", "lines"})
GROUND_KINDS = frozenset({"triangle", "rect", "flower"})


@dataclass(frozen=True, slots=True)
class Item:
    """One shape to draw. ``depth`` runs from 0 (near, sharp) to 1 (far, faded)."""

    kind: str
    x: float
    y: float
    r: float
    color: RGB
    alpha: int
    depth: float
    angle: float = 0.0


def mix(a: RGB, b: RGB, t: float) -> RGB:
    """``a`` moved a fraction ``t`` towards ``b``."""
    return (
        round(a[0] + (b[0] - a[0]) * t),
        round(a[1] + (b[1] - a[1]) * t),
        round(a[2] + (b[2] - a[2]) * t),
    )


def _faded(spec: SceneSpec, color: RGB, depth: float) -> RGB:
    """Atmospheric perspective: far things take on the background's colour."""
    return mix(color, spec.palette.bottom, 0.45 * depth)


def layout(spec: SceneSpec, aspect: float) -> list[Item]:
    """The items of a scene, far first (the drawing order). ``aspect`` is width/height."""
    rng = np.random.default_rng(spec.seed)
    fn = {"centered": _centered, "thirds": _thirds}.get(spec.composition, _scattered)
    items = fn(spec, aspect, rng)
    items = [replace(it, color=_faded(spec, it.color, it.depth)) for it in items]
    return sorted(items, key=lambda it: -it.depth)


def _accent(spec: SceneSpec, i: int) -> RGB:
    accents = spec.palette.accents
    return accents[i % len(accents)]


def _u(rng: np.random.Generator, lo: float, hi: float) -> float:
    return float(rng.uniform(lo, hi))


def _rx(r: float, aspect: float) -> float:
    """A length in short-side units as a fraction of the width."""
    return r / aspect if aspect >= 1 else r


def _ry(r: float, aspect: float) -> float:
    """A length in short-side units as a fraction of the height."""
    return r * aspect if aspect < 1 else r


def _waves(spec: SceneSpec, top: float, rng: np.random.Generator) -> list[Item]:
    n = 3
    step = (1.0 - top) / n
    return [
        Item("wave", 0.5, top + step * (i + 0.3), 0.06 + 0.02 * i, _accent(spec, i + 1),
             220, 0.6 - 0.25 * i, _u(rng, 0, 2 * math.pi))
        for i in range(n)
    ]  # fmt: skip


def _sparkles(spec: SceneSpec, rng: np.random.Generator, n: int, y_max: float) -> list[Item]:
    kind = "star" if "star" in spec.shapes else "circle"
    return [
        Item(kind, _u(rng, 0.02, 0.98), _u(rng, 0.02, y_max), _u(rng, 0.006, 0.018),
             _accent(spec, int(rng.integers(0, 8))), int(rng.integers(90, 170)), 1.0,
             _u(rng, 0, math.pi))
        for _ in range(n)
    ]  # fmt: skip


def _centered(spec: SceneSpec, aspect: float, rng: np.random.Generator) -> list[Item]:
    kinds = [k for k in spec.shapes if k != "wave"] or ["circle"]
    subject = kinds[0]
    items = _sparkles(spec, rng, int(rng.integers(8, 20)), 0.98)
    has_waves = "wave" in spec.shapes
    cy = 0.45 if has_waves else 0.5 + (0.05 if subject == "triangle" else 0.0)
    r = _u(rng, 0.26, 0.34)
    # A soft glow ring behind the subject, then the subject itself.
    items.append(Item("circle", 0.5, cy, r * 1.35, _accent(spec, 1), 60, 0.8))
    items.append(Item(subject, 0.5, cy, r, _accent(spec, 0), 245, 0.0, _u(rng, -0.2, 0.2)))
    satellites = kinds[1:] or kinds
    count = int(rng.integers(3, 6))
    for i in range(count):
        theta = 2 * math.pi * (i / count) + _u(rng, -0.3, 0.3)
        dist = _u(rng, 0.38, 0.46)
        items.append(Item(
            satellites[i % len(satellites)],
            0.5 + _rx(dist, aspect) * math.cos(theta), cy + _ry(dist, aspect) * math.sin(theta),
            _u(rng, 0.05, 0.1), _accent(spec, i + 2), int(rng.integers(150, 210)),
            _u(rng, 0.55, 0.9), _u(rng, 0, math.pi),
        ))  # fmt: skip
    if has_waves:
        items += _waves(spec, 0.72, rng)
    return items


def _thirds(spec: SceneSpec, aspect: float, rng: np.random.Generator) -> list[Item]:
    horizon = 2 / 3 if rng.random() < 0.7 else 1 / 2
    side = 1 / 3 if rng.random() < 0.5 else 2 / 3
    items: list[Item] = []
    ground_color = mix(spec.palette.bottom, _accent(spec, 1), 0.3)
    items.append(Item("ground", 0.5, horizon, 0.02, mix(ground_color, (0, 0, 0), 0.35), 255, 0.5))
    sky = [k for k in spec.shapes if k in SKY_KINDS]
    ground = [k for k in spec.shapes if k in GROUND_KINDS]
    if "star" in spec.shapes or "night" in spec.palette.sources:
        items += _sparkles(spec, rng, int(rng.integers(20, 40)), horizon * 0.9)
    if sky:
        main = sky[0] if sky[0] not in ("lines", "cloud") else "circle"
        items.append(Item(main, side, horizon * 0.45, _u(rng, 0.11, 0.17),
                          _accent(spec, 0), 235, 0.4, _u(rng, -0.3, 0.3)))  # fmt: skip
        if "cloud" in sky:
            for i in range(int(rng.integers(2, 5))):
                items.append(Item("cloud", _u(rng, 0.1, 0.9), _u(rng, 0.1, horizon * 0.6),
                                  _u(rng, 0.06, 0.11), (240, 240, 245), 170, 0.85 - 0.05 * i))  # fmt: skip
        if "lines" in sky:
            items.append(Item("lines", 1 - side, horizon * 0.5, 0.25, _accent(spec, 2), 120, 0.6,
                              0.25))  # fmt: skip
    for row, (depth, lo, hi) in enumerate(((0.75, 0.12, 0.24), (0.25, 0.05, 0.12))):
        kinds = ground or (["triangle"] if row == 0 and not sky else [])
        n = int(rng.integers(5, 10))
        for i in range(n if kinds else 0):
            kind = kinds[(i + row) % len(kinds)]
            r = _u(rng, lo, hi) * (1.6 if kind == "triangle" and row == 0 else 1.0)
            x = (i + _u(rng, 0.1, 0.9)) / n
            base = horizon + (0.0 if row == 0 else _u(rng, 0.02, 0.08))
            y = base - _ry(r * (0.9 if kind != "rect" else 1.8), aspect) * (
                0.5 if kind == "rect" else 1
            )
            items.append(Item(kind, x, y, r, _accent(spec, i + 3 * row), 235, depth))
    # The subject at a thirds point on the near ground.
    if ground:
        r = _u(rng, 0.16, 0.22)
        y = horizon + 0.05 - _ry(r * 0.9, aspect)
        items.append(Item(ground[0], 1 - side, y, r, _accent(spec, 0), 250, 0.05))
    if "wave" in spec.shapes:
        items += _waves(spec, horizon, rng)
    elif not ground:  # rolling dunes, so an empty ground still has form
        for i in range(2):
            color = mix(ground_color, spec.palette.top, 0.25 + 0.2 * i)
            y = horizon + (0.06 + 0.1 * i) * (1 - horizon)
            items.append(
                Item("wave", 0.5, y, 0.12 + 0.05 * i, color, 255, 0.55 - 0.2 * i, _u(rng, 0, 6))
            )
    return items


def _scattered(spec: SceneSpec, aspect: float, rng: np.random.Generator) -> list[Item]:
    cols = max(3, round(5 * math.sqrt(aspect)))
    rows = max(3, round(5 / math.sqrt(aspect)))
    items: list[Item] = []
    kinds = [k for k in spec.shapes if k != "wave"] or ["circle"]
    weights = np.array([2.0**-i for i in range(len(kinds))])
    weights /= weights.sum()
    for row in range(rows):
        for col in range(cols):
            if rng.random() < 0.2:
                continue
            kind = kinds[int(rng.choice(len(kinds), p=weights))]
            items.append(Item(
                kind, (col + _u(rng, 0.15, 0.85)) / cols, (row + _u(rng, 0.15, 0.85)) / rows,
                _u(rng, 0.03, 0.1), _accent(spec, int(rng.integers(0, 8))),
                int(rng.integers(150, 245)), _u(rng, 0.0, 1.0), _u(rng, 0, 2 * math.pi),
            ))  # fmt: skip
    if "wave" in spec.shapes:
        items += _waves(spec, 0.75, rng)
    return items


# ---- drawing -------------------------------------------------------------------


def _light(color: RGB, t: float = 0.4) -> RGB:
    return mix(color, (255, 255, 255), t)


def draw_item(
    d: ImageDraw.ImageDraw, item: Item, width: int, height: int, phase: float = 0.0
) -> None:
    """Draw ``item`` on a ``width`` × ``height`` canvas. ``phase`` animates waves."""
    pen = Pen(
        d=d,
        cx=item.x * width,
        cy=item.y * height,
        r=max(1.0, item.r * min(width, height)),
        angle=item.angle,
        fill=(*item.color, item.alpha),
        hi=(*_light(item.color), int(item.alpha * 0.6)),
        core=(*_light(item.color, 0.7), item.alpha),
        width=width,
        height=height,
        phase=phase,
    )
    SHAPES[item.kind](pen)
