"""The lineage walk and layout (pure: no Qt, no space)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from studio.ui.details.lineage_layout import layout_lineage, walk_lineage


class L(NamedTuple):
    id: str
    parent_variant_id: str
    child_variant_id: str
    relation: str = "derived"
    severed_at: int | None = None


def fetcher(links: list[L], calls: list[list[str]] | None = None):  # type: ignore[no-untyped-def]
    def fetch(ids: Sequence[str]) -> list[L]:
        if calls is not None:
            calls.append(list(ids))
        wanted = set(ids)
        return [x for x in links if x.parent_variant_id in wanted or x.child_variant_id in wanted]

    return fetch


CHAIN = [
    L("l1", "a", "a2", "refined"),
    L("l2", "a2", "c", "derived"),
    L("l3", "b", "c", "derived"),
    L("l4", "c", "f", "forked"),
    L("l5", "x", "y", "derived"),  # unrelated
    L("l6", "b", "sib", "derived"),  # a sibling through b: not an ancestor/descendant of a2
]


def edges(graph) -> set[tuple[str, str, str]]:  # type: ignore[no-untyped-def]
    return {(e.parent, e.child, e.relation) for e in graph.edges}


def test_walk_collects_ancestors_and_descendants_only() -> None:
    g = walk_lineage("a2", fetcher(CHAIN))
    assert set(g.nodes) == {"a", "a2", "c", "f"}
    assert edges(g) == {("a", "a2", "refined"), ("a2", "c", "derived"), ("c", "f", "forked")}
    assert g.depth == {"a2": 0, "a": -1, "c": 1, "f": 2}
    assert not g.truncated

    g = walk_lineage("c", fetcher(CHAIN))
    assert set(g.nodes) == {"a", "a2", "b", "c", "f"}
    assert ("b", "c", "derived") in edges(g) and ("b", "sib", "derived") not in edges(g)
    assert g.depth["a"] == -2 and g.depth["a2"] == -1 and g.depth["b"] == -1


def test_severed_links_are_not_followed() -> None:
    links = [*CHAIN[:3], L("l4", "c", "f", "forked", severed_at=5)]
    g = walk_lineage("a2", fetcher(links))
    assert set(g.nodes) == {"a", "a2", "c"}
    assert all(e.relation != "forked" for e in g.edges)


def test_longest_path_columns_keep_edges_pointing_right() -> None:
    # a -> b -> c and a -> c: a must sit left of b, which sits left of c
    links = [L("1", "a", "b"), L("2", "b", "c"), L("3", "a", "c")]
    g = walk_lineage("c", fetcher(links))
    assert g.depth == {"c": 0, "b": -1, "a": -2}
    g = walk_lineage("a", fetcher(links))
    assert g.depth == {"a": 0, "b": 1, "c": 2}
    layout = layout_lineage(g)
    for e in layout.edges:
        assert layout.node(e.parent).x < layout.node(e.child).x


def test_walk_is_bounded_and_batched() -> None:
    long_chain = [L(f"l{i}", f"v{i}", f"v{i + 1}") for i in range(20)]
    calls: list[list[str]] = []
    g = walk_lineage("v10", fetcher(long_chain, calls), max_depth=3)
    assert set(g.nodes) == {f"v{i}" for i in range(7, 14)}
    assert g.truncated
    assert len(calls) == 4  # one query per level, plus one look past the limit

    fan = [L(f"l{i}", "root", f"c{i}") for i in range(50)]
    g = walk_lineage("root", fetcher(fan), max_nodes=10)
    assert len(g.nodes) == 10 and g.truncated


def test_layout_places_columns_and_centres_rows() -> None:
    g = walk_lineage("c", fetcher(CHAIN))
    layout = layout_lineage(g, column_w=100, row_h=50)
    xs = {n.variant_id: n.x for n in layout.nodes}
    assert xs == {"a": 0, "a2": 100, "b": 100, "c": 200, "f": 300}
    assert layout.width == 300
    ys = {n.variant_id: n.y for n in layout.nodes}
    assert ys["a2"] != ys["b"]  # two in a column get two rows
    assert ys["c"] == (ys["a2"] + ys["b"]) / 2  # the root sits between them
    assert layout.height == 50


def test_lonely_variant() -> None:
    g = walk_lineage("solo", fetcher([]))
    layout = layout_lineage(g)
    assert [n.variant_id for n in layout.nodes] == ["solo"] and layout.edges == ()
