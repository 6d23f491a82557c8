"""The canvas's pure parts (no Qt objects): layout math, the row mirror, the find syntax."""

from __future__ import annotations

import pytest

from studio.store.records import AssetRow, VariantRow, dump_tags
from studio.ui.canvas.filtering import CanvasFilter, asset_matches, parse_query, reading_order
from studio.ui.canvas.geometry import (
    CARD_H,
    CARD_W,
    Lod,
    Rect,
    clamp_scale,
    fit_inside,
    fit_scale,
    frame_around,
    free_spot,
    inside_frame,
    lod_for_scale,
    scaled_size,
    snap_move,
    snap_to_grid,
    zoom_center,
)
from studio.ui.canvas.model import (
    STAR_ACTIVE,
    STAR_NONE,
    STAR_OTHER,
    CanvasModel,
    card_facts,
    thumb_rel,
)
from tests.ui.events import typed_event


def asset(aid: str = "a1", name: str = "Hero", **kw: object) -> AssetRow:
    base = dict(
        id=aid,
        slug=aid,
        name=name,
        type="",
        media_kind="image",
        tags_json="[]",
        parent_asset_id=None,
        x=0.0,
        y=0.0,
        active_variant_id=None,
        created_at=1,
    )
    base.update(kw)
    return AssetRow(**base)  # type: ignore[arg-type]


def variant(vid: str, aid: str = "a1", status: str = "completed", **kw: object) -> VariantRow:
    base = dict(
        id=vid,
        asset_id=aid,
        status=status,
        error_code=None,
        error_message=None,
        media_path=f"{aid}/{vid}/original.png",
        thumb_path=f"{aid}/{vid}/thumb.webp",
        poster_path=None,
        mime="image/png",
        width=10,
        height=10,
        duration_ms=None,
        starred=0,
        rating=None,
        created_at=1,
    )
    base.update(kw)
    return VariantRow(**base)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- geometry


def test_snap_to_neighbour_edges_beats_the_grid() -> None:
    me = Rect(0, 0, CARD_W, CARD_H)
    other = Rect(600, 100, CARD_W, CARD_H)
    # dropping 5 px left of other's left edge, 3 px below its top: aligns both ways
    s = snap_move(me, 600 - CARD_W - 5 + 2, 103, [other], tolerance=8)
    assert (s.dx + CARD_W, s.dy) == (600, 100) and s.guide_x == 600 and s.guide_y == 100
    far = snap_move(me, 313, 407, [other], tolerance=8)  # nothing near enough: grid
    assert (far.dx, far.dy) == (320, 400) and far.guide_x is None
    centre = snap_move(me, 600 + 5, 400, [other], tolerance=8)  # left edge ~ other's left
    assert centre.dx == 600


def test_grid_and_free_spot_and_frames() -> None:
    assert snap_to_grid(29) == 20 and snap_to_grid(31) == 40 and snap_to_grid(-11) == -20
    occupied = [Rect(280, 0, CARD_W, CARD_H), Rect(560, 0, CARD_W, CARD_H)]
    assert free_spot(Rect(280, 0, CARD_W, CARD_H), occupied).x == 840
    r = frame_around([Rect(0, 0, 256, 256), Rect(280, 300, 256, 256)])
    assert r == Rect(-40, -40, 620, 640)
    assert frame_around([]) is None
    assert inside_frame(Rect(10, 10, 256, 256), r) and not inside_frame(Rect(500, 500, 256, 256), r)


def test_fit_zoom_and_lod() -> None:
    assert fit_inside(200, 100, Rect(0, 0, 256, 256)) == Rect(0, 64, 256, 128)
    assert scaled_size(1024, 512, 256) == (256, 128) and scaled_size(10, 5, 256) == (10, 5)
    assert zoom_center((100, 100), (200, 100), 1.0, 2.0) == (150, 100)
    assert fit_scale(Rect(0, 0, 10_000, 1000), 1080, 800) == pytest.approx(0.1)
    assert fit_scale(Rect(0, 0, 100, 100), 1080, 800) == 1.0  # never zooms past 1:1
    assert clamp_scale(100) == 8 and clamp_scale(0) == 0.01
    assert [lod_for_scale(s) for s in (1.0, 0.3, 0.2, 0.1)] == [
        Lod.FULL,
        Lod.FULL,
        Lod.SIMPLE,
        Lod.FAR,
    ]


# --------------------------------------------------------------------------- model


def test_card_facts_star_rule_and_busy_variant() -> None:
    a = asset(active_variant_id="v1")
    v1, v2 = variant("v1"), variant("v2", starred=1)
    facts = card_facts(a, [v1, v2])
    assert facts.active == v1 and facts.count == 2 and facts.star == STAR_OTHER
    assert card_facts(a, [v1._replace(starred=1), v2]).star == STAR_ACTIVE
    assert card_facts(a, [v1]).star == STAR_NONE
    busy = variant("v3", status="processing", created_at=5)
    assert card_facts(a, [v1, busy]).busy == busy
    assert thumb_rel(v1, "image") == "a1/v1/thumb.webp"
    assert thumb_rel(v1._replace(thumb_path=None), "image") == "a1/v1/original.png"
    assert (
        thumb_rel(v1._replace(thumb_path=None, mime="video/mp4", poster_path="p.webp"), "video")
        == "p.webp"
    )
    assert thumb_rel(busy, "image") is None


def test_model_follows_events() -> None:
    m = CanvasModel()
    m.add_asset(asset(active_variant_id="v1"))
    m.add_variant(variant("v1"))
    ch = m.apply(
        typed_event(
            "asset:updated",
            {
                "id": "a1",
                "name": "Heroine",
                "tags": ["x"],
                "x": 5,
                "y": 6,
                "active_variant_id": "v1",
            },
            2,
        )
    )
    assert ch.assets == {"a1"} and ch.renamed == {"a1"} and m.assets["a1"].tags == ("x",)
    ch = m.apply(
        typed_event("asset:moved", {"positions": [{"asset_id": "a1", "x": 50, "y": 60}]}, 3)
    )
    assert ch.moved == {"a1"} and (m.assets["a1"].x, m.assets["a1"].y) == (50, 60)
    m.apply(typed_event("variant:created", dict(variant("v2", status="processing")._asdict()), 4))
    ch = m.apply(
        typed_event("job:progress", {"variant_id": "v2", "progress": 0.25, "message": "m"})
    )
    assert ch.progress == {"a1"} and m.progress["v2"] == (0.25, "m")
    m.apply(typed_event("variant:updated", dict(variant("v2", status="completed")._asdict()), 5))
    assert "v2" not in m.progress
    m.apply(typed_event("variant:deleted", {"id": "v2", "asset_id": "a1"}, 6))
    assert [v.id for v in m.variants_of("a1")] == ["v1"]
    ch = m.apply(typed_event("asset:deleted", {"id": "a1"}, 7))
    assert ch.removed == {"a1"} and m.variants == {}
    ch = m.apply(
        typed_event(
            "frame:created",
            {"id": "f", "title": "T", "x": 0, "y": 0, "width": 9, "height": 9, "color": ""},
            8,
        )
    )
    assert ch.frames == {"f"}
    assert m.apply(typed_event("frame:deleted", {"id": "f"}, 9)).removed_frames == {"f"}
    assert not m.apply(typed_event("job:progress", {"variant_id": "nope", "progress": 1}))


# --------------------------------------------------------------------------- find syntax


def test_parse_query() -> None:
    f = parse_query('red "long cape" kind:image type:Character tag:blue #hero is:starred')
    assert f == CanvasFilter(
        ("red", "long cape"),
        frozenset({"image"}),
        frozenset({"character"}),
        frozenset({"blue", "hero"}),
        True,
    )
    assert parse_query("").empty and parse_query('unclosed "quote').words == ("unclosed", '"quote')


def test_asset_matches() -> None:
    a = asset(name="Blue Knight", type="character", tags_json=dump_tags(("hero", "Steel")))
    prompts_asked: list[int] = []

    def prompts() -> list[str]:
        prompts_asked.append(1)
        return ["A knight in the RAIN"]

    assert asset_matches(parse_query("knight tag:steel"), a, False, prompts)
    assert prompts_asked == []  # found in the name: prompts never fetched
    assert asset_matches(parse_query("rain"), a, False, prompts) and prompts_asked == [1]
    assert not asset_matches(parse_query("kind:audio"), a, False, prompts)
    assert not asset_matches(parse_query("is:starred"), a, False, prompts)
    assert asset_matches(parse_query("-is:starred"), a, False, prompts)
    assert not asset_matches(parse_query("dragon"), a, False, prompts)


def test_reading_order() -> None:
    got = reading_order([("c", 0, 600), ("b", 300, 10), ("a", 0, 0)])
    assert got == ["a", "b", "c"]
