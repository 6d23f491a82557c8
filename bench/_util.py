"""Small helpers shared by the benchmarks (not a test module)."""

from __future__ import annotations

import sqlite3
import statistics
import time
from collections.abc import Callable


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


ASSET_INSERT = (
    "INSERT INTO assets (id, slug, name, type, media_kind, tags, parent_asset_id, x, y, "
    "active_variant_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)
VARIANT_INSERT = (
    "INSERT INTO variants (id, asset_id, status, media_path, thumb_path, mime, width, height, "
    "size_bytes, sha256, recipe, starred, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def insert_rows(
    conn: sqlite3.Connection, assets: list[tuple[object, ...]], variants: list[tuple[object, ...]]
) -> None:
    """Bulk-load benchmark rows straight into a migrated space file, in one transaction."""
    conn.executemany(ASSET_INSERT, assets)
    conn.executemany(VARIANT_INSERT, variants)
    conn.execute("COMMIT")


def paired_ratios(
    ours: Callable[[], float], base: Callable[[], float], rounds: int
) -> tuple[list[float], list[float], list[float]]:
    """Run ``base`` then ``ours`` (each returns the seconds it measured), ``rounds`` times
    in turn (A B A B …): the machine's drift hits both alike. Returns the ratios ours /
    base of each round, and both lists of times; report the median of the ratios."""
    ratios, ours_s, base_s = [], [], []
    for _ in range(rounds):
        b = base()
        o = ours()
        base_s.append(b)
        ours_s.append(o)
        ratios.append(o / b if b > 0 else float("inf"))
    return ratios, ours_s, base_s
