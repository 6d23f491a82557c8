"""The lineage graph of one variant, walked and laid out without Qt.

:func:`walk_lineage` collects the variant's ancestors (following links to parents) and
descendants (following links to children), across assets, skipping severed links and
stopping at a depth and a node budget. :func:`layout_lineage` places the nodes in
columns — ancestors left of the variant, descendants right of it — with every edge
pointing rightwards (a node sits one column left of its nearest-placed child), and
orders each column to keep edges short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Protocol

MAX_DEPTH = 6
MAX_NODES = 200
COLUMN_W = 190.0
ROW_H = 112.0


class Link(Protocol):
    """What the walk needs of a lineage row (``studio.store.records.LineageRow`` fits)."""

    @property
    def id(self) -> str: ...
    @property
    def parent_variant_id(self) -> str: ...
    @property
    def child_variant_id(self) -> str: ...
    @property
    def relation(self) -> str: ...
    @property
    def severed_at(self) -> int | None: ...


LinkFetcher = Callable[[Sequence[str]], Iterable[Link]]
"""Given variant ids, every lineage link into or out of any of them."""


@dataclass(frozen=True, slots=True)
class Edge:
    id: str
    parent: str
    child: str
    relation: str


@dataclass(frozen=True, slots=True)
class LineageGraph:
    root: str
    depth: dict[str, int]  # variant id -> column (negative: ancestors, 0: root)
    edges: tuple[Edge, ...]
    truncated: bool  # the walk stopped at MAX_DEPTH or MAX_NODES

    @property
    def nodes(self) -> list[str]:
        return list(self.depth)


@dataclass(frozen=True, slots=True)
class Placed:
    variant_id: str
    column: int
    row: int
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class LineageLayout:
    root: str
    nodes: tuple[Placed, ...]
    edges: tuple[Edge, ...]
    width: float
    height: float
    truncated: bool

    def node(self, variant_id: str) -> Placed:
        return next(n for n in self.nodes if n.variant_id == variant_id)


def walk_lineage(
    root: str,
    fetch: LinkFetcher,
    *,
    max_depth: int = MAX_DEPTH,
    max_nodes: int = MAX_NODES,
) -> LineageGraph:
    """Ancestors and descendants of ``root`` (breadth first, both ways at once, one
    ``fetch`` per level). Severed links are neither followed nor returned."""
    up: dict[str, int] = {root: 0}  # ancestors and their distance
    down: dict[str, int] = {root: 0}  # descendants and their distance
    edges: dict[str, Edge] = {}
    frontier_up, frontier_down = [root], [root]
    truncated = False
    for level in range(1, max_depth + 2):
        asked = sorted(set(frontier_up) | set(frontier_down))
        if not asked:
            break
        links = [link for link in fetch(asked) if link.severed_at is None]
        if level > max_depth:  # one look past the limit: is there more?
            truncated = any(
                (lk.child_variant_id in frontier_up and lk.parent_variant_id not in up)
                or (lk.parent_variant_id in frontier_down and lk.child_variant_id not in down)
                for lk in links
            )
            break
        next_up: list[str] = []
        next_down: list[str] = []
        wanted_up, wanted_down = set(frontier_up), set(frontier_down)
        for lk in sorted(links, key=lambda lk: lk.id):
            p, ch = lk.parent_variant_id, lk.child_variant_id
            if ch in wanted_up and p not in up and p not in down:
                if len(set(up) | set(down)) >= max_nodes:
                    truncated = True
                    continue
                up[p] = level
                next_up.append(p)
            if p in wanted_down and ch not in down and ch not in up:
                if len(set(up) | set(down)) >= max_nodes:
                    truncated = True
                    continue
                down[ch] = level
                next_down.append(ch)
            edges.setdefault(lk.id, Edge(lk.id, p, ch, lk.relation))
        frontier_up, frontier_down = next_up, next_down
    members = set(up) | set(down)
    kept = tuple(
        sorted(
            (e for e in edges.values() if e.parent in members and e.child in members),
            key=lambda e: e.id,
        )
    )
    return LineageGraph(root, _columns(root, up, down, kept), kept, truncated)


def _columns(
    root: str, up: dict[str, int], down: dict[str, int], edges: tuple[Edge, ...]
) -> dict[str, int]:
    """Longest-path columns, so every edge points rightwards: an ancestor sits left of
    every child it has on the ancestor side; a descendant right of every parent."""
    col: dict[str, int] = {root: 0}
    for n in up:
        col.setdefault(n, -up[n])
    for n in down:
        col.setdefault(n, down[n])
    anc = set(up)
    desc = set(down)
    for _ in range(len(col)):  # relax until stable (the graph is acyclic and small)
        changed = False
        for e in edges:
            if e.parent in anc and e.child in anc and col[e.parent] >= col[e.child]:
                col[e.parent] = col[e.child] - 1
                changed = True
            elif e.parent in desc and e.child in desc and col[e.child] <= col[e.parent]:
                col[e.child] = col[e.parent] + 1
                changed = True
        if not changed:
            break
    col[root] = 0
    return col


def layout_lineage(
    graph: LineageGraph, *, column_w: float = COLUMN_W, row_h: float = ROW_H
) -> LineageLayout:
    """Place the graph's nodes: x from the column, y from the row within the column.
    Rows are ordered by the mean row of already placed neighbours (a barycentre pass
    outwards from the root), then centred on the root's row."""
    columns: dict[int, list[str]] = {}
    for vid, c in graph.depth.items():
        columns.setdefault(c, []).append(vid)
    neighbours: dict[str, list[str]] = {v: [] for v in graph.depth}
    for e in graph.edges:
        neighbours[e.parent].append(e.child)
        neighbours[e.child].append(e.parent)
    row_of: dict[str, float] = {graph.root: 0.0}
    order = sorted(columns, key=lambda c: (abs(c), c))
    for c in order:
        if c == 0:
            continue
        toward_root = c - 1 if c > 0 else c + 1

        def key(v: str, toward: int = toward_root) -> tuple[float, str]:
            near = [row_of[n] for n in neighbours[v] if graph.depth.get(n) == toward]
            near = near or [row_of[n] for n in neighbours[v] if n in row_of]
            return (sum(near) / len(near) if near else 0.0, v)

        ranked = sorted(columns[c], key=key)
        start = -(len(ranked) - 1) / 2
        for i, v in enumerate(ranked):
            row_of[v] = start + i
    tallest = max(len(vs) for vs in columns.values())
    lo_col = min(columns)
    hi_col = max(columns)
    top = min(row_of.values())
    placed = tuple(
        Placed(
            v,
            graph.depth[v],
            round(row_of[v] - top),
            (graph.depth[v] - lo_col) * column_w,
            (row_of[v] - top) * row_h,
        )
        for v in sorted(graph.depth, key=lambda v: (graph.depth[v], row_of[v], v))
    )
    height = (max(row_of.values()) - top) * row_h
    return LineageLayout(
        graph.root,
        placed,
        graph.edges,
        (hi_col - lo_col) * column_w,
        max(height, (tallest - 1) * row_h),
        graph.truncated,
    )
