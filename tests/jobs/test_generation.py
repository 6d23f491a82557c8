"""Generation requests through the door: rows, events, lineage, recipes, validation."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from studio.core import commands as c
from studio.core.errors import ErrorCode, StudioError
from studio.core.events import Event
from studio.core.space import Space
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from tests.conftest import OWNER, add_variant
from tests.sql import query
from workers.testing import ScriptedProvider

IMAGE = c.MediaKindName.IMAGE
PLAIN = c.GenerationOptions(no_style=True, seed=7)


def run_all(space: Space) -> None:
    scheduler = Scheduler(space, InlineExecutor())
    assert scheduler.run_until_idle(timeout_s=10)
    scheduler.close()


def test_generate_creates_placeholder_then_completes(
    space: Space, provider: ScriptedProvider
) -> None:
    events: list[Event] = []
    space.subscribe(events.append)
    applied = space.apply(
        c.RequestGeneration("a red kite over hills", IMAGE, type="scene", options=PLAIN), OWNER
    )
    aid, vid, jid = (applied.created[k] for k in ("asset_id", "variant_id", "job_id"))
    assert [e.type for e in applied.events] == ["asset:created", "variant:created", "job:created"]
    asset = space.asset(aid)
    assert (asset.name, asset.type, asset.active_variant_id) == (
        "a red kite over hills",
        "scene",
        vid,
    )
    detail = space.variant_detail(vid)
    assert detail.row.status == "pending"
    assert detail.recipe["operation"] == "generate"
    assert detail.recipe["provider"] == "scripted" and detail.recipe["model"] == "scripted-image"
    assert detail.recipe["seed"] == 7 and detail.recipe["prompt_sent"] == "a red kite over hills"
    assert [j.status for j in space.jobs()] == ["queued"]

    run_all(space)
    done = space.variant_detail(vid)
    assert done.row.status == "completed"
    assert (done.row.mime, done.row.width, done.row.height) == ("image/png", 8, 8)
    assert done.row.media_path == f"{asset.slug}/{vid}/original.png"
    assert done.row.thumb_path == f"{asset.slug}/{vid}/thumb.webp"
    with Image.open(space.media_dir / done.row.media_path) as im:
        assert im.size == (8, 8)
    assert done.provider_metadata == {"model": "scripted-image", "seed": 7}
    assert space.jobs()[0].status == "succeeded" and space.jobs()[0].id == jid
    kinds = [e.type for e in events]
    assert kinds.index("variant:updated") > kinds.index("job:created")
    statuses = [e.data["status"] for e in events if e.type == "variant:updated"]
    assert statuses == ["processing", "completed"]
    assert any(e.type == "job:progress" for e in events)
    assert provider.requests[0].prompt == "a red kite over hills"


def test_derive_links_every_source(space: Space, provider: ScriptedProvider) -> None:
    a, b = add_variant(space, name="A"), add_variant(space, name="B")
    applied = space.apply(
        c.RequestGeneration(
            "merge them", IMAGE, references=(a.variant_id, b.variant_id), options=PLAIN
        ),
        OWNER,
    )
    vid = applied.created["variant_id"]
    links = space.lineage_of(vid)
    assert {(link.parent_variant_id, link.relation) for link in links} == {
        (a.variant_id, "derived"),
        (b.variant_id, "derived"),
    }
    assert [e.type for e in applied.events].count("lineage:created") == 2
    assert space.variant_detail(vid).recipe["operation"] == "derive"
    run_all(space)
    assert [r.variant_id for r in provider.requests[0].references] == [a.variant_id, b.variant_id]


def test_refine_defaults_to_the_active_variant(space: Space) -> None:
    made = add_variant(space)
    applied = space.apply(c.RequestRefine(made.asset_id, "sharper", options=PLAIN), OWNER)
    vid = applied.created["variant_id"]
    (link,) = space.lineage_of(vid)
    assert (link.parent_variant_id, link.relation) == (made.variant_id, "refined")
    assert space.asset(made.asset_id).active_variant_id == made.variant_id  # not switched
    run_all(space)
    assert space.variant_detail(vid).row.status == "completed"


def test_batch_explore_and_set(space: Space, provider: ScriptedProvider) -> None:
    explore = space.apply(c.RequestBatch("owls", IMAGE, 3, options=PLAIN), OWNER)
    set_ = space.apply(
        c.RequestBatch("owls", IMAGE, 2, c.BatchMode.SET, name="Owl", options=PLAIN), OWNER
    )
    ex_assets = explore.created["asset_ids"].split(",")
    assert len(ex_assets) == 1 and len(explore.created["variant_ids"].split(",")) == 3
    assert len(space.variants_of(ex_assets[0])) == 3
    set_assets = set_.created["asset_ids"].split(",")
    assert [space.asset(a).name for a in set_assets] == ["Owl 1", "Owl 2"]
    seeds = [
        space.variant_detail(v).recipe["seed"] for v in explore.created["variant_ids"].split(",")
    ]
    assert seeds == [7, 8, 9]
    batch = space.variant_detail(explore.created["variant_ids"].split(",")[2]).recipe["batch"]
    assert batch == {"mode": "explore", "index": 2, "count": 3}
    run_all(space)
    assert all(v.status == "completed" for v in space.all_variants())


def test_random_seeds_are_recorded(space: Space) -> None:
    applied = space.apply(
        c.RequestBatch("owls", IMAGE, 2, options=c.GenerationOptions(no_style=True)), OWNER
    )
    seeds = {
        space.variant_detail(v).recipe["seed"] for v in applied.created["variant_ids"].split(",")
    }
    assert len(seeds) == 2 and all(isinstance(s, int) and s >= 0 for s in seeds)


VALIDATION = {
    "empty prompt": (lambda w: c.RequestGeneration("  ", IMAGE), "prompt can't be empty"),
    "unknown provider": (
        lambda w: c.RequestGeneration("x", IMAGE, options=c.GenerationOptions(provider="dalle")),
        "no provider 'dalle'",
    ),
    "unknown model": (
        lambda w: c.RequestGeneration("x", IMAGE, options=c.GenerationOptions(model="nope")),
        "no model 'nope'",
    ),
    "wrong kind": (
        lambda w: c.RequestGeneration(
            "x", c.MediaKindName.AUDIO, options=c.GenerationOptions(provider="scripted")
        ),
        "can't make audio",
    ),
    "too many refs": (
        lambda w: c.RequestGeneration("x", IMAGE, references=w),
        "at most 4 reference",
    ),
    "bad aspect": (
        lambda w: c.RequestGeneration("x", IMAGE, options=c.GenerationOptions(aspect_ratio="5:1")),
        "aspect ratio '5:1'",
    ),
    "bad size": (
        lambda w: c.RequestGeneration("x", IMAGE, options=c.GenerationOptions(size="huge")),
        "size 'huge'",
    ),
    "no duration": (
        lambda w: c.RequestGeneration("x", IMAGE, options=c.GenerationOptions(duration_s=3)),
        "no duration",
    ),
    "unknown param": (
        lambda w: c.RequestGeneration("x", IMAGE, options=c.GenerationOptions(params={"steps": 3})),
        "no parameter 'steps'",
    ),
    "duplicate ref": (
        lambda w: c.RequestGeneration("x", IMAGE, references=(w[0], w[0])),
        "given twice",
    ),
    "missing ref": (
        lambda w: c.RequestGeneration("x", IMAGE, references=("nope",)),
        "no variant nope",
    ),
    "batch too big": (lambda w: c.RequestBatch("x", IMAGE, 99), "1 to 16"),
    "set into asset": (
        lambda w: c.RequestBatch("x", IMAGE, 2, c.BatchMode.SET, asset_id="a"),
        "only an explore",
    ),
}


@pytest.mark.parametrize("label", sorted(VALIDATION))
def test_rejected_requests_write_nothing(space: Space, label: str) -> None:
    refs = tuple(add_variant(space, name=f"R{i}").variant_id for i in range(5))
    make, fragment = VALIDATION[label]
    before, seq = space.snapshot(), space.last_seq()
    with pytest.raises(StudioError) as err:
        space.apply(make(refs), OWNER)
    assert fragment in err.value.message
    assert space.snapshot() == before and space.last_seq() == seq
    assert space.jobs() == []


def test_refine_kind_must_match_the_asset(space: Space) -> None:
    audio = space.apply(c.CreateAsset("Boom", c.MediaKindName.AUDIO, type="sfx"), OWNER).created[
        "asset_id"
    ]
    with pytest.raises(StudioError) as err:
        space.apply(c.RequestRefine(audio, "louder"), OWNER)
    assert err.value.code is ErrorCode.INVALID_STATE and "no variant to refine" in err.value.message
    img = add_variant(space)
    with pytest.raises(StudioError, match="can't make audio"):
        space.apply(
            c.RequestRefine(
                audio,
                "louder",
                references=(img.variant_id,),
                options=c.GenerationOptions(provider="scripted"),
            ),
            OWNER,
        )


def test_pending_reference_is_refused(space: Space) -> None:
    pending = space.apply(c.RequestGeneration("x", IMAGE, options=PLAIN), OWNER).created[
        "variant_id"
    ]
    with pytest.raises(StudioError, match="not finished yet"):
        space.apply(c.RequestGeneration("y", IMAGE, references=(pending,)), OWNER)


def test_idempotent_request_ids(space: Space) -> None:
    space.apply(c.RequestGeneration("x", IMAGE, request_id="req-1", options=PLAIN), OWNER)
    with pytest.raises(StudioError) as err:
        space.apply(c.RequestGeneration("x", IMAGE, request_id="req-1", options=PLAIN), OWNER)
    assert err.value.code is ErrorCode.CONFLICT
    assert len(space.snapshot().assets) == 1


def test_style_preset_is_injected_and_recorded(space: Space, provider: ScriptedProvider) -> None:
    refs = [add_variant(space, name=f"S{i}") for i in range(3)]
    coll = space.apply(c.CreateCollection("Style refs"), OWNER).created["collection_id"]
    for r in refs:
        space.apply(c.AddCollectionItem(coll, asset_id=r.asset_id), OWNER)
    style = space.apply(
        c.CreateStylePreset("Ink", prompt="ink wash, muted", collection_id=coll, is_default=True),
        OWNER,
    ).created["style_id"]
    user_ref = add_variant(space, name="Mine")
    vid = space.apply(
        c.RequestGeneration(
            "a fox", IMAGE, references=(user_ref.variant_id,), options=c.GenerationOptions(seed=1)
        ),
        OWNER,
    ).created["variant_id"]
    recipe = space.variant_detail(vid).recipe
    assert recipe["prompt"] == "a fox"
    assert recipe["prompt_sent"] == "ink wash, muted. a fox"
    # budget 4: three style refs fit before the user's one
    assert recipe["references_sent"] == [r.variant_id for r in refs] + [user_ref.variant_id]
    assert recipe["style"]["id"] == style and recipe["style"]["references"] == [
        r.variant_id for r in refs
    ]
    assert recipe["source_variant_ids"] == [user_ref.variant_id]
    assert {link.parent_variant_id for link in space.lineage_of(vid)} == {user_ref.variant_id}

    two_user_refs = tuple(add_variant(space, name=f"U{i}").variant_id for i in range(3))
    vid2 = space.apply(
        c.RequestGeneration("a fox", IMAGE, references=two_user_refs), OWNER
    ).created["variant_id"]
    assert space.variant_detail(vid2).recipe["references_sent"] == [
        refs[0].variant_id,
        *two_user_refs,
    ]

    plain = space.apply(
        c.RequestGeneration("a fox", IMAGE, options=c.GenerationOptions(no_style=True)), OWNER
    )
    assert space.variant_detail(plain.created["variant_id"]).recipe["style"] is None

    space.apply(c.UpdateStylePreset(style, enabled=False), OWNER)
    off = space.apply(c.RequestGeneration("a fox", IMAGE), OWNER)
    assert space.variant_detail(off.created["variant_id"]).recipe["style"] is None
    chosen = space.apply(
        c.RequestGeneration("a fox", IMAGE, options=c.GenerationOptions(style_id=style)), OWNER
    )
    assert (
        space.variant_detail(chosen.created["variant_id"])
        .recipe["prompt_sent"]
        .startswith("ink wash")
    )
    run_all(space)
    sent = provider.requests[0]
    assert sent.prompt == "ink wash, muted. a fox" and len(sent.references) == 4


def test_retry_regenerate_and_cancel(space: Space, provider: ScriptedProvider) -> None:
    from workers.base import ErrorKind, ProviderError

    provider.script.append(ProviderError(ErrorKind.SAFETY_BLOCKED, "blocked: kites"))
    vid = space.apply(c.RequestGeneration("a kite", IMAGE, options=PLAIN), OWNER).created[
        "variant_id"
    ]
    run_all(space)
    row = space.variant_detail(vid).row
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        "SAFETY_BLOCKED",
        "blocked: kites",
    )
    with pytest.raises(StudioError, match="only a failed"):
        space.apply(c.RetryVariant(add_variant(space).variant_id), OWNER)
    retried = space.apply(c.RetryVariant(vid), OWNER)
    assert space.variant_detail(vid).row.status == "pending"
    run_all(space)
    assert space.variant_detail(vid).row.status == "completed"
    assert len(space.jobs()) == 2 and retried.created["job_id"] == space.jobs()[0].id

    regen = space.apply(c.RegenerateVariant(vid), OWNER)
    new = regen.created["variant_id"]
    old_recipe, new_recipe = space.variant_detail(vid).recipe, space.variant_detail(new).recipe
    assert new_recipe["prompt"] == old_recipe["prompt"] and new_recipe["seed"] != old_recipe["seed"]
    same = space.apply(c.RegenerateVariant(vid, keep_seed=True), OWNER).created["variant_id"]
    assert space.variant_detail(same).recipe["seed"] == old_recipe["seed"]
    job = space.apply(c.RequestGeneration("x", IMAGE, options=PLAIN), OWNER).created["job_id"]
    space.apply(c.CancelJob(job), OWNER)
    cancelled = next(j for j in space.jobs() if j.id == job)
    assert cancelled.status == "cancelled"
    assert space.variant_detail(cancelled.variant_id).row.error_code == "CANCELLED"
    with pytest.raises(StudioError, match="already cancelled"):
        space.apply(c.CancelJob(job), OWNER)
    run_all(space)
    assert space.variant_detail(cancelled.variant_id).row.status == "failed"  # never completes
    imported = add_variant(space)
    with pytest.raises(StudioError, match="no recipe"):
        space.apply(c.RegenerateVariant(imported.variant_id), OWNER)


def test_recipe_is_plain_json(space: Space) -> None:
    vid = space.apply(c.RequestGeneration("x", IMAGE, options=PLAIN), OWNER).created["variant_id"]
    raw = query(space, "SELECT recipe FROM variants WHERE id = ?", (vid,))[0][0]
    assert set(json.loads(raw)) >= {
        "operation",
        "prompt",
        "provider",
        "model",
        "seed",
        "params",
        "source_variant_ids",
        "references_sent",
        "style",
    }


def test_estimate_plans_without_writing(space: Space) -> None:
    seq = space.last_seq()
    one = space.estimate(c.RequestGeneration("x", IMAGE, options=PLAIN))
    many = space.estimate(c.RequestBatch("x", IMAGE, 4, options=PLAIN))
    assert (one.usd, one.unit) == (0.01, "image")
    assert many.usd == pytest.approx(0.04) and many.units == 4
    with pytest.raises(StudioError, match="aspect ratio"):
        space.estimate(
            c.RequestGeneration("x", IMAGE, options=c.GenerationOptions(aspect_ratio="9:1"))
        )
    assert space.last_seq() == seq and space.snapshot().assets == []
