"""The forge tray's rules as plain data: no Qt object is built here."""

from __future__ import annotations

from dataclasses import replace

import pytest

from studio.core import commands as c
from studio.core.forge import MAX_REFERENCE_SLOTS, ForgeOp
from studio.ui.tray.command import build_command, format_estimate, undo_text
from studio.ui.tray.lookup import follow_event, mode_from_recipe, style_from_recipe
from studio.ui.tray.state import (
    STYLE_NONE,
    Destination,
    ModeSettings,
    SlotRef,
    TrayMemory,
    TrayState,
    add_slots,
    asset_type_for,
    judge,
    mode_for_asset,
    move_slot,
)
from tests.ui.events import typed_event
from workers.base import CostEstimate, ModelSpec, Operation
from workers.local import AUDIO_MODEL, IMAGE_MODEL, VIDEO_MODEL


def slot(n: int, kind: str = "image", status: str = "completed") -> SlotRef:
    return SlotRef(f"v{n}", f"a{n}", f"Asset {n}", kind, status)


HERO = Destination("a1", "Hero", "image", "character")


def test_the_matrix_and_its_labels() -> None:
    s = TrayState(prompt="a knight")
    assert judge(s, IMAGE_MODEL).message == "Will generate a new image asset"
    v = judge(TrayState(), IMAGE_MODEL)
    assert not v.ok and v.hint and v.message == "Write a prompt, or add a reference to fork"
    one = TrayState(slots=(slot(1),))
    assert judge(one, IMAGE_MODEL).op is ForgeOp.FORK
    assert judge(one, IMAGE_MODEL).message == "Will fork the reference into a new asset"
    three = replace(s, slots=(slot(1), slot(2), slot(3)))
    assert judge(three, IMAGE_MODEL).message == "Will derive a new image asset from 3 references"
    no_prompt = replace(three, prompt="  ")
    v = judge(no_prompt, IMAGE_MODEL)
    assert not v.ok and not v.hint and v.message.startswith("Several references need a prompt")
    refine = replace(three, destination=HERO)
    assert judge(refine, IMAGE_MODEL).message == "Will refine \u201cHero\u201d (new variant)"
    assert judge(replace(refine, count=3), IMAGE_MODEL).message.endswith("(3 new variants)")
    v = judge(replace(refine, slots=()), IMAGE_MODEL)
    assert not v.ok and v.message.startswith("Refining needs at least one reference")
    v = judge(replace(refine, prompt=""), IMAGE_MODEL)
    assert v.message.startswith("Refining an asset needs a prompt")
    assert judge(replace(s, count=4), IMAGE_MODEL).message == (
        "Will generate 4 variants in a new image asset"
    )
    assert judge(replace(s, count=4, batch_mode="set", mode="sfx"), AUDIO_MODEL).message == (
        "Will generate 4 new sound effect assets"
    )


def test_refusals_name_the_reason() -> None:
    s = TrayState(prompt="move", mode="video", slots=(slot(1), slot(2), slot(3)))
    assert judge(s, VIDEO_MODEL).message == "Local video takes up to 2 references"
    audio = TrayState(prompt="x", slots=(slot(1, "audio"),))
    assert judge(audio, IMAGE_MODEL).message == (
        "Local image can't take audio references (\u201cAsset 1\u201d)"
    )
    assert judge(replace(audio, mode="music"), AUDIO_MODEL).ok
    pending = TrayState(slots=(slot(1, status="pending"),))
    assert "not finished yet" in judge(pending, IMAGE_MODEL).message
    wrong = TrayState(prompt="x", mode="music", slots=(slot(1),), destination=HERO)
    assert judge(wrong, AUDIO_MODEL).message == (
        "\u201cHero\u201d is an image asset: switch the mode to Image"
    )
    setb = TrayState(prompt="x", slots=(slot(1),), destination=HERO, count=2, batch_mode="set")
    assert judge(setb, IMAGE_MODEL).message.startswith("A set batch makes new assets")
    assert judge(replace(setb, batch_mode="explore"), IMAGE_MODEL).ok
    assert (
        "No provider here can make music"
        in judge(TrayState(prompt="x", mode="music"), None).message
    )
    gen_only = ModelSpec("g", "Gen only", "image", (Operation.GENERATE,))
    assert judge(TrayState(prompt="x", slots=(slot(1),)), gen_only).message == (
        "Gen only can't derive (it can generate)"
    )
    refs0 = ModelSpec("r", "No refs", "image", (Operation.DERIVE,))
    assert judge(TrayState(prompt="x", slots=(slot(1),)), refs0).message == (
        "No refs can't take references"
    )


def test_commands() -> None:
    at = (10.0, 20.0)
    settings = ModeSettings("local", "local-image", "512", "16:9", None, {"composition": "thirds"})
    s = TrayState(prompt=" a knight ", image_type="prop", settings=settings, style=STYLE_NONE)
    cmd = build_command(s, IMAGE_MODEL, at)
    assert isinstance(cmd, c.RequestGeneration)
    assert (cmd.prompt, cmd.type, cmd.x, cmd.y, cmd.references) == ("a knight", "prop", 10, 20, ())
    o = cmd.options
    assert (o.provider, o.model, o.size, o.aspect_ratio, o.no_style, o.style_id) == (
        "local",
        "local-image",
        "512",
        "16:9",
        True,
        None,
    )
    assert dict(o.params) == {"composition": "thirds"}
    styled = build_command(replace(s, style="st1"), IMAGE_MODEL)
    assert styled.options.style_id == "st1" and not styled.options.no_style  # type: ignore[attr-defined]
    derive = build_command(replace(s, slots=(slot(1), slot(2))), IMAGE_MODEL)
    assert isinstance(derive, c.RequestGeneration) and derive.references == ("v1", "v2")
    fork = build_command(TrayState(slots=(slot(7),)), None, at)
    assert fork == c.ForkVariant("v7", x=10.0, y=20.0)
    refine = build_command(replace(s, slots=(slot(1),), destination=HERO), IMAGE_MODEL)
    assert isinstance(refine, c.RequestRefine) and refine.asset_id == "a1"
    rb = build_command(replace(s, slots=(slot(1),), destination=HERO, count=3), IMAGE_MODEL)
    assert isinstance(rb, c.RequestBatch)
    assert (rb.asset_id, rb.count, rb.mode, rb.references) == (
        "a1",
        3,
        c.BatchMode.EXPLORE,
        ("v1",),
    )
    sb = build_command(replace(s, count=2, batch_mode="set", mode="video"), VIDEO_MODEL, at)
    assert isinstance(sb, c.RequestBatch) and sb.mode is c.BatchMode.SET
    assert (sb.media_kind, sb.type, sb.asset_id, sb.x) == ("video", "animation", None, 10.0)
    with pytest.raises(ValueError, match="Write a prompt"):
        build_command(TrayState(), IMAGE_MODEL)
    assert undo_text(ForgeOp.FORK, TrayState(slots=(slot(7),))) == "Fork \u201cAsset 7\u201d"
    assert undo_text(ForgeOp.GENERATE, TrayState(mode="sfx")) == "Generate sound effect"


def test_modes() -> None:
    assert asset_type_for("image", " ") == "character"
    assert asset_type_for("video", "x") == "animation"
    assert asset_type_for("dialogue", "x") == "dialogue"
    assert mode_for_asset("audio", "Song") == "music"
    assert mode_for_asset("audio", "whatever") == "sfx"
    assert mode_for_asset("image", "scene") == "image"
    assert mode_from_recipe({"media_kind": "audio", "audio_type": "speech"}, "audio", "") == (
        "speech",
        None,
    )
    assert mode_from_recipe({"media_kind": "image"}, "image", "prop") == ("image", "prop")
    assert style_from_recipe({"style": None}) == "none"
    assert style_from_recipe({"style": {"id": "s1"}}) == "s1"
    assert style_from_recipe({"operation": "fork"}) == "default"


def test_slots_limit_dedup_and_order() -> None:
    slots, reason = add_slots((), [slot(1), slot(2), slot(1)])
    assert [s.variant_id for s in slots] == ["v1", "v2"] and reason is None
    many = [slot(n) for n in range(20)]
    full, reason = add_slots(slots, many)
    assert len(full) == MAX_REFERENCE_SLOTS
    assert reason is not None and "up to 14" in reason and "6 more" in reason
    order = tuple(slot(n) for n in range(4))
    assert [s.variant_id for s in move_slot(order, 0, 3)] == ["v1", "v2", "v0", "v3"]
    assert [s.variant_id for s in move_slot(order, 3, 0)] == ["v3", "v0", "v1", "v2"]
    assert [s.variant_id for s in move_slot(order, 1, 4)] == ["v0", "v2", "v3", "v1"]
    assert move_slot(order, 9, 0) == order


def test_memory_round_trip_and_tolerance() -> None:
    m = TrayMemory(
        mode="video",
        image_type="prop",
        per_mode={
            "video": ModeSettings("local", "local-video", "480p", "9:16", 3.0, {"audio": False})
        },
        style=STYLE_NONE,
        count=5,
        batch_mode="set",
    )
    assert TrayMemory.from_json(m.to_json()) == m
    assert TrayMemory.from_json("not json") == TrayMemory()
    assert TrayMemory.from_json(None) == TrayMemory()
    odd = TrayMemory.from_json('{"mode": "nope", "count": 99, "per_mode": {"x": {}, "sfx": 3}}')
    assert odd.mode == "image" and odd.count == 16 and odd.per_mode == {"sfx": ModeSettings()}


def test_estimate_text() -> None:
    assert format_estimate(CostEstimate(0.0, 1, "image"), "local") == "free (offline)"
    assert (
        format_estimate(CostEstimate(0.04, 4, "image"), "gemini")
        == "\u2248 $0.0400 \u00b7 4 images"
    )
    assert (
        format_estimate(CostEstimate(0.5, 1, "second"), "veo") == "\u2248 $0.5000 \u00b7 1 second"
    )


def test_events_follow_the_space() -> None:
    slots = (slot(1), slot(2, status="pending"))
    out, dest = follow_event(
        typed_event("variant:deleted", {"id": "v1", "asset_id": "a1"}), slots, HERO
    )
    assert [s.variant_id for s in out] == ["v2"] and dest == HERO
    out, dest = follow_event(typed_event("asset:deleted", {"id": "a1"}), slots, HERO)
    assert [s.variant_id for s in out] == ["v2"] and dest is None
    done = {"id": "v2", "status": "completed", "thumb_path": "x/thumb.webp"}
    out, _ = follow_event(typed_event("variant:updated", done), slots, None)
    assert out[1].status == "completed" and out[1].thumb == "x/thumb.webp"
    out, dest = follow_event(typed_event("asset:updated", {"id": "a1", "name": "Zed"}), slots, HERO)
    assert out[0].asset_name == "Zed" and dest is not None and dest.name == "Zed"


def test_the_rules_need_no_qt() -> None:
    import subprocess
    import sys

    code = (
        "import sys, studio.ui.tray, studio.ui.tray.state, studio.ui.tray.lookup; "
        "sys.exit('PySide6' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
