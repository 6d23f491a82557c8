"""The canvas's snapshot reads one row per asset (its active variant) plus the variants
still being made, with each asset's variant count and starred ids; every other variant
is read on demand (``Space.variants_of``, ``Space.all_variants``)."""

from __future__ import annotations

from studio.core import commands as c
from studio.core.space import Space, StarredIds
from tests.conftest import OWNER, add_asset, add_variant


def _stack_of(space: Space, n: int, name: str) -> tuple[str, list[str]]:
    first = add_variant(space, name=name)
    vids = [first.variant_id]
    for _ in range(n - 1):
        vids.append(add_variant(space, first.asset_id, name=name).variant_id)
    return first.asset_id, vids


def test_the_snapshot_has_one_variant_row_per_asset(space: Space) -> None:
    made = [_stack_of(space, 5, f"Asset {i}") for i in range(12)]
    snap = space.snapshot()
    assert len(snap.assets) == 12
    assert len(snap.variants) == 12  # was 60: every variant of every asset
    active = {space.asset(aid).active_variant_id for aid, _ in made}
    assert {v.id for v in snap.variants} == active
    assert dict(snap.variant_counts) == {aid: 5 for aid, _ in made}
    every = {vid for _, vids in made for vid in vids}
    assert {v.id for v in space.all_variants()} == every  # the rest, on demand
    aid, vids = made[0]
    assert [v.id for v in space.variants_of(aid)] == vids


def test_counts_stars_and_busy_variants_are_the_cards(space: Space) -> None:
    starred_aid, vids = _stack_of(space, 3, "Starred")
    active = space.asset(starred_aid).active_variant_id
    other = next(v for v in vids if v != active)
    space.apply(c.StarVariant(other), OWNER)
    space.apply(c.DeleteVariant(next(v for v in vids if v not in (active, other))), OWNER)
    bare = add_asset(space, "No variant yet")
    busy_aid, busy_vids = _stack_of(space, 1, "Busy")
    begun = space.apply(
        c.BeginUpload(
            media_kind=c.MediaKindName.IMAGE, original_name="more.bin", asset_id=busy_aid
        ),
        OWNER,
    ).created
    gone_aid, _ = _stack_of(space, 2, "Gone")
    space.apply(c.DeleteAsset(gone_aid), OWNER)

    snap = space.snapshot()
    assert {a.id for a in snap.assets} == {starred_aid, bare, busy_aid}
    busy_active = space.asset(busy_aid).active_variant_id
    shown = {v.id: v.status for v in snap.variants}
    assert set(shown) == {active, busy_active, begun["variant_id"]} - {None}
    assert shown[begun["variant_id"]] == "uploading"  # a card shows its progress
    counts = dict(snap.variant_counts)
    assert counts == {starred_aid: 2, busy_aid: len(busy_vids) + 1}  # none for `bare`
    assert dict(snap.starred) == {starred_aid: frozenset({other})}
    assert isinstance(snap.starred, StarredIds)  # kept as text: the canvas makes its sets
    assert list(snap.starred.id_lists()) == [(starred_aid, [other])]
