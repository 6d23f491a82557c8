"""How each shape kind is drawn: one small function per kind, all on Pillow's
``ImageDraw`` in RGBA blend mode. Sizes are in pixels around a centre."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from PIL import ImageDraw

RGBA = tuple[int, int, int, int]
Point = tuple[float, float]


@dataclass(frozen=True, slots=True)
class Pen:
    """Where and how to draw one shape: centre, radius and angle in pixels and
    radians, its fill and highlight, the canvas size, and an animation phase."""

    d: ImageDraw.ImageDraw
    cx: float
    cy: float
    r: float
    angle: float
    fill: RGBA
    hi: RGBA
    core: RGBA
    width: int
    height: int
    phase: float = 0.0

    def rot(self, points: list[Point]) -> list[Point]:
        """``points`` turned by the pen's angle around its centre."""
        if not self.angle:
            return points
        c, s = math.cos(self.angle), math.sin(self.angle)
        cx, cy = self.cx, self.cy
        return [
            (cx + (x - cx) * c - (y - cy) * s, cy + (x - cx) * s + (y - cy) * c) for x, y in points
        ]


def circle(p: Pen) -> None:
    p.d.ellipse((p.cx - p.r, p.cy - p.r, p.cx + p.r, p.cy + p.r), fill=p.fill)
    if p.r > 6:  # a highlight up-left reads as a sphere
        o, q = p.r * 0.3, p.r * 0.45
        p.d.ellipse((p.cx - o - q, p.cy - o - q, p.cx - o + q, p.cy - o + q), fill=p.hi)


def triangle(p: Pen) -> None:
    cx, cy, r = p.cx, p.cy, p.r
    p.d.polygon(
        p.rot([(cx, cy - r * 1.1), (cx - r, cy + r * 0.9), (cx + r, cy + r * 0.9)]), fill=p.fill
    )
    cap = [(cx, cy - r * 1.1), (cx - r * 0.3, cy - r * 0.5), (cx + r * 0.3, cy - r * 0.5)]
    p.d.polygon(p.rot(cap), fill=p.hi)  # a snow cap / lit tip


def rect(p: Pen) -> None:
    cx, cy, w, h = p.cx, p.cy, p.r * 0.9, p.r * 1.8
    corners = [
        (cx - w / 2, cy - h / 2),
        (cx + w / 2, cy - h / 2),
        (cx + w / 2, cy + h / 2),
        (cx - w / 2, cy + h / 2),
    ]
    p.d.polygon(p.rot(corners), fill=p.fill)
    if p.r > 14 and abs(p.angle) < 0.3:  # lit windows on upright buildings
        step = max(4.0, p.r * 0.22)
        y = cy - h / 2 + step * 0.6
        while y < cy + h / 2 - step:
            x = cx - w / 2 + step * 0.5
            while x < cx + w / 2 - step * 0.6:
                p.d.rectangle((x, y, x + step * 0.45, y + step * 0.5), fill=p.hi)
                x += step
            y += step


def wave(p: Pen) -> None:
    amp, lam = p.r * 0.35, max(8.0, p.r * 3.2)
    top = [
        (x, p.cy + amp * math.sin(2 * math.pi * x / lam + p.angle + p.phase))
        for x in (p.width * i / 95 for i in range(96))
    ]
    p.d.polygon([*top, (p.width, p.height), (0, p.height)], fill=p.fill)
    p.d.line(top, fill=p.hi, width=max(1, int(p.r * 0.08)))


def ground(p: Pen) -> None:
    p.d.rectangle((0, p.cy, p.width, p.height), fill=p.fill)


def star(p: Pen) -> None:
    points = []
    for i in range(10):
        radius = p.r if i % 2 == 0 else p.r * 0.45
        t = p.angle + i * math.pi / 5
        points.append((p.cx + radius * math.sin(t), p.cy - radius * math.cos(t)))
    p.d.polygon(points, fill=p.fill)


def diamond(p: Pen) -> None:
    cx, cy, r = p.cx, p.cy, p.r
    p.d.polygon(
        p.rot([(cx, cy - r), (cx + r * 0.65, cy), (cx, cy + r), (cx - r * 0.65, cy)]), fill=p.fill
    )
    p.d.polygon(p.rot([(cx, cy - r), (cx + r * 0.65, cy), (cx, cy)]), fill=p.hi)  # a facet


def cloud(p: Pen) -> None:
    puffs = (
        (-0.6, 0.1, 0.45),
        (-0.2, -0.15, 0.6),
        (0.3, -0.05, 0.55),
        (0.7, 0.12, 0.4),
        (0.05, 0.2, 0.5),
    )
    for dx, dy, q in puffs:
        x, y, rr = p.cx + dx * p.r * 1.4, p.cy + dy * p.r, q * p.r
        p.d.ellipse((x - rr * 1.3, y - rr, x + rr * 1.3, y + rr), fill=p.fill)


def flower(p: Pen) -> None:
    for i in range(6):
        t = p.angle + i * math.pi / 3
        x, y, q = p.cx + 0.55 * p.r * math.cos(t), p.cy + 0.55 * p.r * math.sin(t), 0.45 * p.r
        p.d.ellipse((x - q, y - q, x + q, y + q), fill=p.fill)
    q = 0.32 * p.r
    p.d.ellipse((p.cx - q, p.cy - q, p.cx + q, p.cy + q), fill=p.core)


def ring(p: Pen) -> None:
    box = (p.cx - p.r, p.cy - p.r, p.cx + p.r, p.cy + p.r)
    p.d.ellipse(box, outline=p.fill, width=max(2, int(p.r * 0.22)))


def spiral(p: Pen) -> None:
    end = 4 * math.pi
    points = []
    for j in range(120):
        u = end * j / 119
        points.append(
            (
                p.cx + p.r * u / end * math.cos(u + p.angle),
                p.cy + p.r * u / end * math.sin(u + p.angle),
            )
        )
    p.d.line(points, fill=p.fill, width=max(2, int(p.r * 0.09)))


def lines(p: Pen) -> None:
    n = 7
    for i in range(n):
        x = p.cx - p.r + 2 * p.r * i / (n - 1)
        end = (x + p.r * math.sin(p.angle), p.cy + p.r)
        p.d.line((x, p.cy - p.r, *end), fill=p.fill, width=max(1, int(p.r * 0.04)))


SHAPES: dict[str, Callable[[Pen], None]] = {
    "circle": circle, "triangle": triangle, "rect": rect, "wave": wave, "ground": ground,
    "star": star, "diamond": diamond, "cloud": cloud, "flower": flower, "ring": ring,
    "spiral": spiral, "lines": lines,
}  # fmt: skip
