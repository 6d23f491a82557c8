"""Each command's own rules and errors."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import ErrorCode, StudioError
from studio.core.space import Space
from tests.conftest import OWNER, add_asset, add_variant
from tests.core.test_inverse import World, build

ERRORS: dict[str, tuple[Callable[[World], c.Command], ErrorCode, str]] = {
    "empty name": (
        lambda w: c.CreateAsset("   ", c.MediaKindName.IMAGE),
        ErrorCode.VALIDATION_ERROR,
        "can't be empty",
    ),
    "long name": (
        lambda w: c.CreateAsset("x" * 201, c.MediaKindName.IMAGE),
        ErrorCode.VALIDATION_ERROR,
        "limit is 200",
    ),
    "long tag": (
        lambda w: c.CreateAsset("a", c.MediaKindName.IMAGE, tags=("t" * 65,)),
        ErrorCode.VALIDATION_ERROR,
        "longer than 64",
    ),
    "missing parent": (
        lambda w: c.CreateAsset("a", c.MediaKindName.IMAGE, parent_asset_id="nope"),
        ErrorCode.NOT_FOUND,
        "no asset nope",
    ),
    "taken id": (
        lambda w: c.CreateAsset("a", c.MediaKindName.IMAGE, asset_id=w.a),
        ErrorCode.CONFLICT,
        "already taken",
    ),
    "bad id": (
        lambda w: c.CreateAsset("a", c.MediaKindName.IMAGE, asset_id="../etc"),
        ErrorCode.VALIDATION_ERROR,
        "ids are",
    ),
    "update nothing": (lambda w: c.UpdateAsset(w.a), ErrorCode.VALIDATION_ERROR, "needs a name"),
    "update missing": (lambda w: c.UpdateAsset("nope", name="x"), ErrorCode.NOT_FOUND, "no asset"),
    "delete twice": (
        lambda w: c.DeleteAsset(w.fork_asset),
        ErrorCode.INVALID_STATE,
        "already deleted",
    ),
    "restore live": (lambda w: c.RestoreAsset(w.a), ErrorCode.INVALID_STATE, "not deleted"),
    "active foreign": (
        lambda w: c.SetActiveVariant(w.a, w.b1),
        ErrorCode.VALIDATION_ERROR,
        "another asset",
    ),
    "active same": (
        lambda w: c.SetActiveVariant(w.a, w.a1),
        ErrorCode.INVALID_STATE,
        "already the active",
    ),
    "reparent self": (
        lambda w: c.ReparentAsset(w.a, w.a),
        ErrorCode.VALIDATION_ERROR,
        "its own parent",
    ),
    "reparent cycle": (
        lambda w: c.ReparentAsset(w.a, w.b),
        ErrorCode.VALIDATION_ERROR,
        "already inside it",
    ),
    "reparent same": (
        lambda w: c.ReparentAsset(w.b, w.a),
        ErrorCode.INVALID_STATE,
        "already has that parent",
    ),
    "move empty": (lambda w: c.MoveAssets(()), ErrorCode.VALIDATION_ERROR, "at least one"),
    "move twice": (
        lambda w: c.MoveAssets((c.Position(w.a, 0, 0), c.Position(w.a, 1, 1))),
        ErrorCode.VALIDATION_ERROR,
        "twice",
    ),
    "move inf": (
        lambda w: c.MoveAssets((c.Position(w.a, float("inf"), 0),)),
        ErrorCode.VALIDATION_ERROR,
        "finite",
    ),
    "star twice": (
        lambda w: c.StarVariant(w.a1, starred=False),
        ErrorCode.INVALID_STATE,
        "already unstarred",
    ),
    "rate same": (
        lambda w: c.RateVariant(w.a1, c.Rating.NONE),
        ErrorCode.INVALID_STATE,
        "already rated",
    ),
    "delete active": (lambda w: c.DeleteVariant(w.a1), ErrorCode.INVALID_STATE, "active variant"),
    "delete last": (lambda w: c.DeleteVariant(w.b1), ErrorCode.INVALID_STATE, "active variant"),
    "restore live variant": (
        lambda w: c.RestoreVariant(w.a2),
        ErrorCode.INVALID_STATE,
        "not deleted",
    ),
    "restore under deleted asset": (
        lambda w: c.RestoreVariant(w.fork_variant),
        ErrorCode.INVALID_STATE,
        "restore the asset first",
    ),
    "fork missing": (lambda w: c.ForkVariant("nope"), ErrorCode.NOT_FOUND, "no variant"),
    "upload into other kind": (
        lambda w: c.BeginUpload(c.MediaKindName.AUDIO, "a.wav", asset_id=w.a),
        ErrorCode.VALIDATION_ERROR,
        "image asset",
    ),
    "sever missing": (lambda w: c.SeverLineage("nope"), ErrorCode.NOT_FOUND, "no lineage"),
    "restore unsevered": (
        lambda w: c.RestoreLineage(w.lineage),
        ErrorCode.INVALID_STATE,
        "not severed",
    ),
    "collection no name": (lambda w: c.CreateCollection(""), ErrorCode.VALIDATION_ERROR, "empty"),
    "item both": (
        lambda w: c.AddCollectionItem(w.coll, asset_id=w.a, variant_id=w.a1),
        ErrorCode.VALIDATION_ERROR,
        "give one",
    ),
    "item neither": (lambda w: c.AddCollectionItem(w.coll), ErrorCode.VALIDATION_ERROR, "give one"),
    "item duplicate": (
        lambda w: c.AddCollectionItem(w.coll, asset_id=w.a),
        ErrorCode.CONFLICT,
        "already in",
    ),
    "item position": (
        lambda w: c.AddCollectionItem(w.coll, asset_id=w.b, position=9),
        ErrorCode.VALIDATION_ERROR,
        "between 0 and 2",
    ),
    "item deleted asset": (
        lambda w: c.AddCollectionItem(w.coll, asset_id=w.fork_asset),
        ErrorCode.NOT_FOUND,
        "no asset",
    ),
    "item missing": (
        lambda w: c.RemoveCollectionItem("nope"),
        ErrorCode.NOT_FOUND,
        "no collection item",
    ),
    "reorder partial": (
        lambda w: c.ReorderCollection(w.coll, (w.item_a,)),
        ErrorCode.VALIDATION_ERROR,
        "exactly once",
    ),
    "frame zero": (
        lambda w: c.CreateFrame("f", 0, 0, 0, 10),
        ErrorCode.VALIDATION_ERROR,
        "more than 0",
    ),
    "frame colour": (
        lambda w: c.CreateFrame("f", 0, 0, 10, 10, color="red"),
        ErrorCode.VALIDATION_ERROR,
        "colour",
    ),
    "frame update nothing": (
        lambda w: c.UpdateFrame(w.frame),
        ErrorCode.VALIDATION_ERROR,
        "something",
    ),
    "style missing collection": (
        lambda w: c.CreateStylePreset("s", collection_id="nope"),
        ErrorCode.NOT_FOUND,
        "no collection",
    ),
    "style delete twice": (
        lambda w: c.DeleteStylePreset("nope"),
        ErrorCode.NOT_FOUND,
        "no style preset",
    ),
}


@pytest.mark.parametrize("label", sorted(ERRORS))
def test_command_errors(space: Space, label: str) -> None:
    world = build(space)
    space.apply(c.ReparentAsset(world.b, world.a), OWNER)  # for the cycle cases
    space.apply(c.DeleteAsset(world.fork_asset), OWNER)
    make, code, fragment = ERRORS[label]
    before, seq = space.snapshot(), space.last_seq()
    with pytest.raises(StudioError) as err:
        space.apply(make(world), OWNER)
    assert err.value.code is code
    assert fragment in err.value.message
    assert space.snapshot() == before and space.last_seq() == seq


def test_create_asset_normalises_and_slugs(space: Space) -> None:
    a = add_asset(space, "  Héro   of  Time ", tags=("Lead", " lead ", "Hero"))
    b = add_asset(space, "Héro of Time")
    ra, rb = space.asset(a), space.asset(b)
    assert ra.name == "Héro of Time" and ra.tags == ("lead", "hero")
    assert (ra.slug, rb.slug) == ("hero-of-time", "hero-of-time-2")


def test_slugs_stay_fixed_on_rename(space: Space) -> None:
    a = add_asset(space, "Hero")
    space.apply(c.UpdateAsset(a, name="Villain"), OWNER)
    assert space.asset(a).slug == "hero"


def test_deleting_a_parent_takes_its_child_until_restored(space: Space) -> None:
    parent = add_asset(space, "Parent")
    child = add_asset(space, "Child", parent_asset_id=parent)
    other = add_asset(space, "Other")
    undo = space.apply(c.DeleteAsset(parent), OWNER).inverse
    assert [a.id for a in space.snapshot().assets] == [other]
    for cmd in undo:
        space.apply(cmd, OWNER)
    assert {a.id for a in space.snapshot().assets} == {parent, child, other}


def test_fork_copies_media_and_records_lineage(space: Space) -> None:
    made = add_variant(space, payload=b"PIXELS")
    applied = space.apply(c.ForkVariant(made.variant_id), OWNER)
    vid, aid = applied.created["variant_id"], applied.created["asset_id"]
    new = space.variant_detail(vid)
    assert new.row.status == "completed"
    assert new.recipe == {"operation": "fork", "source_variant_ids": [made.variant_id]}
    src_path = space.media_dir / space.variant_detail(made.variant_id).row.media_path  # type: ignore[operator]
    new_path = space.media_dir / new.row.media_path  # type: ignore[operator]
    assert new_path != src_path and new_path.read_bytes() == b"PIXELS"
    assert new_path.parent.name == vid and new_path.parent.parent.name == space.asset(aid).slug
    assert space.asset(aid).name == "Hero (fork)"
    assert space.asset(aid).active_variant_id == vid
    (link,) = space.lineage_of(vid)
    assert (link.parent_variant_id, link.child_variant_id, link.relation) == (
        made.variant_id,
        vid,
        "forked",
    )
    assert [e.type for e in applied.events] == [
        "asset:created",
        "variant:created",
        "lineage:created",
    ]


def test_upload_then_complete_or_fail(space: Space) -> None:
    begun = space.apply(c.BeginUpload(c.MediaKindName.AUDIO, "boom.wav", type="sfx"), OWNER)
    vid = begun.created["variant_id"]
    assert space.variant_detail(vid).row.status == "uploading"
    assert space.asset(begun.created["asset_id"]).name == "boom"
    space.apply(c.FailVariant(vid, "STORAGE_ERROR", "disk full"), Actor.system())
    row = space.variant_detail(vid).row
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        "STORAGE_ERROR",
        "disk full",
    )
    with pytest.raises(StudioError, match="already failed"):
        space.apply(c.FailVariant(vid, "X", "again"), Actor.system())


def test_a_deleted_variant_never_completes(space: Space) -> None:
    made = add_variant(space)
    begun = space.apply(
        c.BeginUpload(c.MediaKindName.IMAGE, "b.png", asset_id=made.asset_id), OWNER
    )
    vid = begun.created["variant_id"]
    space.apply(c.DeleteVariant(vid), OWNER)
    (space.media_dir / "f.bin").write_bytes(b"x")
    with pytest.raises(StudioError) as err:
        space.apply(c.CompleteVariant(vid, "f.bin", "image/png", 1, "0" * 64), Actor.system())
    assert err.value.code is ErrorCode.INVALID_STATE and "was deleted" in err.value.message


def test_complete_refuses_a_missing_file(space: Space) -> None:
    begun = space.apply(c.BeginUpload(c.MediaKindName.IMAGE, "b.png"), OWNER)
    with pytest.raises(StudioError, match="missing"):
        space.apply(
            c.CompleteVariant(begun.created["variant_id"], "nope.png", "image/png", 1, "0" * 64),
            Actor.system(),
        )


def test_collection_positions_stay_dense(space: Space) -> None:
    coll = space.apply(c.CreateCollection("Cast"), OWNER).created["collection_id"]
    ids = [add_asset(space, f"A{i}") for i in range(4)]
    items = [
        space.apply(c.AddCollectionItem(coll, asset_id=a), OWNER).created["item_id"] for a in ids
    ]
    space.apply(c.RemoveCollectionItem(items[1]), OWNER)
    space.apply(c.AddCollectionItem(coll, asset_id=ids[1], position=0), OWNER)
    rows = [i for i in space.snapshot().collection_items if i.collection_id == coll]
    assert [i.position for i in rows] == [0, 1, 2, 3]
    assert [i.asset_id for i in rows] == [ids[1], ids[0], ids[2], ids[3]]


def test_only_one_default_style(space: Space) -> None:
    s1 = space.apply(c.CreateStylePreset("A", is_default=True), OWNER).created["style_id"]
    s2 = space.apply(c.CreateStylePreset("B", is_default=True), OWNER).created["style_id"]
    defaults = [s.id for s in space.snapshot().styles if s.is_default]
    assert defaults == [s2]
    space.apply(c.DeleteStylePreset(s2), OWNER)
    space.apply(c.UpdateStylePreset(s1, is_default=True), OWNER)
    space.apply(c.RestoreStylePreset(s2), OWNER)  # comes back, but not as a second default
    assert [s.id for s in space.snapshot().styles if s.is_default] == [s1]


def test_variant_detail_and_lineage_load_lazily(space: Space) -> None:
    made = add_variant(space)
    snap = space.snapshot()
    assert "recipe" not in snap.variants[0]._fields
    detail = space.variant_detail(made.variant_id)
    assert detail.recipe == {"operation": "import", "original_name": "Hero.bin"}
