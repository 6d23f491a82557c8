"""Every user command, then its inverse, leaves the space as it was; the inverse of the
inverse (redo) brings the change back."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from studio.core import commands as c
from studio.core.check import check_space
from studio.core.errors import InvalidStateError
from studio.core.space import Snapshot, Space
from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor, ThreadExecutor
from studio.jobs.scheduler import Scheduler
from tests.conftest import OWNER, add_variant
from tests.core.tables import differences, tables
from tests.sql import query, write
from workers.base import ErrorKind, ProviderError
from workers.testing import ScriptedProvider

NO_STYLE = c.GenerationOptions(no_style=True)


@dataclass
class World:
    a: str  # image asset with two variants (a1 active, a2)
    a1: str
    a2: str
    b: str  # image asset with one variant
    b1: str
    fork_asset: str
    fork_variant: str
    lineage: str
    coll: str
    item_a: str
    item_b1: str
    frame: str
    style: str
    style2: str
    ghost_item: str = ""  # an item whose asset is deleted
    child: str = ""  # an asset inside a, with a child of its own
    grandchild: str = ""
    gen_asset: str = ""
    gen_done: str = ""
    gen_failed: str = ""
    queued_job: str = ""
    queued_variant: str = ""  # a queued refine of gen_asset


def build(space: Space) -> World:
    a = add_variant(space, name="Hero")
    a2 = add_variant(space, a.asset_id, name="Hero")
    b = add_variant(space, name="Sword")
    fork = space.apply(c.ForkVariant(b.variant_id), OWNER)
    coll = space.apply(c.CreateCollection("Cast"), OWNER).created["collection_id"]
    item_a = space.apply(c.AddCollectionItem(coll, asset_id=a.asset_id), OWNER).created["item_id"]
    item_b1 = space.apply(
        c.AddCollectionItem(coll, variant_id=b.variant_id, note="the good one"), OWNER
    ).created["item_id"]
    frame = space.apply(c.CreateFrame("Act 1", 0, 0, 800, 600), OWNER).created["frame_id"]
    style = space.apply(
        c.CreateStylePreset("Ink", prompt="ink wash", collection_id=coll, is_default=True), OWNER
    ).created["style_id"]
    style2 = space.apply(c.CreateStylePreset("Neon", prompt="neon glow"), OWNER).created["style_id"]
    ghost = add_variant(space, name="Ghost")
    lost = space.apply(c.CreateCollection("Lost"), OWNER).created["collection_id"]
    ghost_item = space.apply(
        c.AddCollectionItem(lost, asset_id=ghost.asset_id, note="gone"), OWNER
    ).created["item_id"]
    space.apply(c.DeleteAsset(ghost.asset_id), OWNER)
    child = space.apply(
        c.CreateAsset("Cape", c.MediaKindName.IMAGE, parent_asset_id=a.asset_id), OWNER
    ).created["asset_id"]
    grandchild = add_variant(space, name="Clasp")
    space.apply(c.ReparentAsset(grandchild.asset_id, child), OWNER)
    no_style = c.GenerationOptions(no_style=True)
    done = space.apply(
        c.RequestGeneration("a red kite", c.MediaKindName.IMAGE, options=no_style), OWNER
    )
    scheduler = Scheduler(space, InlineExecutor())
    scheduler.pump()
    failed = space.apply(
        c.RequestRefine(done.created["asset_id"], "make it blue", options=no_style), OWNER
    )
    scripted = space.providers.get("scripted")  # type: ignore[union-attr]
    scripted.script.append(ProviderError(ErrorKind.SAFETY_BLOCKED, "blocked: kites"))  # type: ignore[attr-defined]
    scheduler.pump()
    scheduler.close()
    queued = space.apply(
        c.RequestGeneration("a green kite", c.MediaKindName.IMAGE, options=no_style), OWNER
    )
    refine = space.apply(c.RequestRefine(done.created["asset_id"], "gold", options=no_style), OWNER)
    return World(
        a.asset_id,
        a.variant_id,
        a2.variant_id,
        b.asset_id,
        b.variant_id,
        fork.created["asset_id"],
        fork.created["variant_id"],
        fork.created["lineage_id"],
        coll,
        item_a,
        item_b1,
        frame,
        style,
        style2,
        ghost_item,
        child,
        grandchild.asset_id,
        done.created["asset_id"],
        done.created["variant_id"],
        failed.created["variant_id"],
        queued.created["job_id"],
        refine.created["variant_id"],
    )


SCENARIOS: dict[str, Callable[[World], c.Command]] = {
    "asset:create": lambda w: c.CreateAsset("Villain", c.MediaKindName.AUDIO, tags=("x",)),
    "asset:create child": lambda w: c.CreateAsset(
        "Cape", c.MediaKindName.IMAGE, parent_asset_id=w.a
    ),
    "asset:update": lambda w: c.UpdateAsset(w.a, name="Heroine", type="character", tags=("lead",)),
    "asset:update name only": lambda w: c.UpdateAsset(w.b, name="Blade"),
    "asset:delete": lambda w: c.DeleteAsset(w.a),
    "asset:delete subtree": lambda w: c.DeleteAsset(w.child),
    "asset:delete generating": lambda w: c.DeleteAsset(w.gen_asset),
    "asset:reparent out": lambda w: c.ReparentAsset(w.grandchild, None),
    "asset:set-active": lambda w: c.SetActiveVariant(w.a, w.a2),
    "asset:reparent": lambda w: c.ReparentAsset(w.b, w.a),
    "asset:move": lambda w: c.MoveAssets((c.Position(w.a, 10, 20), c.Position(w.b, -5, 7.5))),
    "variant:star": lambda w: c.StarVariant(w.a2),
    "variant:rate": lambda w: c.RateVariant(w.a2, c.Rating.APPROVED),
    "variant:delete": lambda w: c.DeleteVariant(w.a2),
    "variant:fork": lambda w: c.ForkVariant(w.a1, name="Hero copy"),
    "variant:upload": lambda w: c.BeginUpload(c.MediaKindName.IMAGE, "new.png"),
    "variant:upload into": lambda w: c.BeginUpload(c.MediaKindName.IMAGE, "v3.png", asset_id=w.a),
    "variant:upload into empty": lambda w: c.BeginUpload(
        c.MediaKindName.IMAGE, "v1.png", asset_id=w.child
    ),
    "lineage:sever": lambda w: c.SeverLineage(w.lineage),
    "collection:create": lambda w: c.CreateCollection("Props"),
    "collection:update": lambda w: c.UpdateCollection(w.coll, "Main cast"),
    "collection:delete": lambda w: c.DeleteCollection(w.coll),
    "collection:item-add": lambda w: c.AddCollectionItem(w.coll, asset_id=w.b, position=0),
    "collection:item-update": lambda w: c.UpdateCollectionItem(w.item_b1, "meh"),
    "collection:item-remove": lambda w: c.RemoveCollectionItem(w.item_a),
    "collection:item-remove of a deleted asset": lambda w: c.RemoveCollectionItem(w.ghost_item),
    "collection:reorder": lambda w: c.ReorderCollection(w.coll, (w.item_b1, w.item_a)),
    "frame:create": lambda w: c.CreateFrame("Act 2", 900, 0, 400, 300, color="#3a7bd5"),
    "frame:update": lambda w: c.UpdateFrame(w.frame, title="Act I", width=1000),
    "frame:delete": lambda w: c.DeleteFrame(w.frame),
    "style:create": lambda w: c.CreateStylePreset("Pastel", prompt="soft pastel"),
    "style:create default": lambda w: c.CreateStylePreset("Noir", is_default=True),
    "style:update": lambda w: c.UpdateStylePreset(w.style, prompt="dry brush", collection_id=""),
    "style:update default": lambda w: c.UpdateStylePreset(w.style2, is_default=True, enabled=False),
    "style:delete": lambda w: c.DeleteStylePreset(w.style),
    "generate:request": lambda w: c.RequestGeneration("a blue whale", c.MediaKindName.IMAGE),
    "generate:request derive": lambda w: c.RequestGeneration(
        "combine", c.MediaKindName.IMAGE, references=(w.a1, w.b1)
    ),
    "refine:request": lambda w: c.RequestRefine(w.a, "brighter"),
    "batch:request explore": lambda w: c.RequestBatch("owls", c.MediaKindName.IMAGE, 3),
    "batch:request set": lambda w: c.RequestBatch(
        "owls", c.MediaKindName.IMAGE, 2, c.BatchMode.SET
    ),
    "batch:request into": lambda w: c.RequestBatch(
        "owls", c.MediaKindName.IMAGE, 2, asset_id=w.gen_asset
    ),
    "variant:retry": lambda w: c.RetryVariant(w.gen_failed),
    "variant:regenerate": lambda w: c.RegenerateVariant(w.gen_done),
    "job:cancel": lambda w: c.CancelJob(w.queued_job),
    "variant:delete generating": lambda w: c.DeleteVariant(w.queued_variant),
    "queue:pause": lambda w: c.PauseQueue(),
}


def _state(space: Space) -> Snapshot:
    """The snapshot without the log position and with severing as a flag (its time moves),
    holding every live variant (the canvas's snapshot has one row per asset)."""
    snap = space.snapshot()
    lineage = [link._replace(severed_at=link.severed_at is not None) for link in snap.lineage]
    return dataclasses.replace(snap, seq=0, lineage=lineage, variants=space.all_variants())


def _apply_all(space: Space, cmds: tuple[c.Command, ...]) -> tuple[c.Command, ...]:
    """Apply an inverse list; return the list that undoes it (for redo)."""
    undo: list[c.Command] = []
    for cmd in cmds:
        undo[:0] = space.apply(cmd, OWNER).inverse
    return tuple(undo)


@pytest.mark.parametrize("label", sorted(SCENARIOS))
def test_command_then_inverse_restores_the_space(space: Space, label: str) -> None:
    world = build(space)
    before, whole_before = _state(space), tables(space)
    applied = space.apply(SCENARIOS[label](world), OWNER)
    after, whole_after = _state(space), tables(space)
    assert after != before, "the command changed nothing"
    assert applied.inverse, "a user command must give an inverse"

    assert check_space(space, verify_hashes=False).problems == []

    redo = _apply_all(space, applied.inverse)
    assert _state(space) == before
    assert differences(whole_before, tables(space)) == []
    assert check_space(space, verify_hashes=False).problems == []

    _apply_all(space, redo)
    assert _state(space) == after
    assert differences(whole_after, tables(space)) == []
    assert check_space(space, verify_hashes=False).problems == []


def test_every_user_command_and_its_restore_pair_is_covered() -> None:
    covered = {label.split(" ")[0] for label in SCENARIOS}
    restores = {
        "asset:restore",
        "variant:restore",
        "lineage:restore",
        "collection:restore",
        "collection:item-restore",
        "frame:restore",
        "style:restore",
        "queue:resume",
    }  # reached as inverses of the deletes (and of queue:pause and collection:item-remove) above
    internal = {name for name in c.command_names() if c.command_class(name).internal}
    # the assistant's commands: tests/assistant/test_door.py (chat turns and proposals are
    # a record, not a step to undo; a run proposal is undone as its commands)
    assistant = {
        n for n in c.command_names() if n.split(":")[0] in ("chat", "proposal", "assistant")
    }
    assert set(c.command_names()) - internal - restores - assistant == covered


def test_check_reports_live_children_of_deleted_parents_and_live_jobs_of_deleted_variants(
    space: Space,
) -> None:
    """What deletes before the fix left behind (made here by hand, as they can't be now)."""
    parent = space.apply(c.CreateAsset("Castle", c.MediaKindName.IMAGE), OWNER).created
    child = space.apply(
        c.CreateAsset("Tower", c.MediaKindName.IMAGE, parent_asset_id=parent["asset_id"]), OWNER
    ).created
    gen = space.apply(
        c.RequestGeneration("a moat", c.MediaKindName.IMAGE, options=NO_STYLE), OWNER
    ).created
    assert check_space(space, verify_hashes=False).problems == []
    write(
        space,
        "UPDATE assets SET deleted_at = 1 WHERE id IN (?, ?)",
        (parent["asset_id"], gen["asset_id"]),
    )
    assert check_space(space, verify_hashes=False).problems == [
        f"asset {child['asset_id']} ('Tower') is live inside the deleted asset "
        f"{parent['asset_id']}",
        f"job {gen['job_id']} is still queued for the deleted variant {gen['variant_id']}",
    ]


def test_deleting_an_asset_takes_its_subtree_and_undo_restores_all_of_it(space: Space) -> None:
    world = build(space)
    applied = space.apply(c.DeleteAsset(world.a), OWNER)
    assert applied.inverse == (
        c.RestoreAsset(world.a, job_ids=()),
        c.RestoreAsset(world.child, job_ids=()),
        c.RestoreAsset(world.grandchild, job_ids=()),
    )
    live = {a.id for a in space.snapshot().assets}
    assert not live & {world.a, world.child, world.grandchild}
    _apply_all(space, applied.inverse)
    live = {a.id for a in space.snapshot().assets}
    assert {world.a, world.child, world.grandchild} <= live
    # a child can't come back alone inside a deleted parent
    space.apply(c.DeleteAsset(world.a), OWNER)
    with pytest.raises(InvalidStateError, match="inside a deleted asset"):
        space.apply(c.RestoreAsset(world.child), OWNER)


def _job(space: Space, job_id: str) -> tuple[str, int]:
    status, attempts = query(space, "SELECT status, attempts FROM jobs WHERE id = ?", (job_id,))[0]
    return str(status), int(attempts)


@pytest.mark.parametrize("kind", ["generate", "refine", "batch", "regenerate"])
def test_undo_of_a_generation_parks_its_job_and_redo_queues_it(space: Space, kind: str) -> None:
    made = add_variant(space, name="Kite")
    scheduler = Scheduler(space, InlineExecutor())
    if kind == "regenerate":
        done = space.apply(
            c.RequestGeneration("a kite", c.MediaKindName.IMAGE, options=NO_STYLE), OWNER
        )
        scheduler.pump()
        request: c.Command = c.RegenerateVariant(done.created["variant_id"])
    elif kind == "refine":
        request = c.RequestRefine(made.asset_id, "bluer", options=NO_STYLE)
    elif kind == "batch":
        request = c.RequestBatch("kites", c.MediaKindName.IMAGE, 2, options=NO_STYLE)
    else:
        request = c.RequestGeneration("a kite", c.MediaKindName.IMAGE, options=NO_STYLE)
    applied = space.apply(request, OWNER)
    jobs = applied.created.get("job_ids") or applied.created["job_id"]
    provider = space.providers.get("scripted")  # type: ignore[union-attr]
    calls = len(provider.requests)  # type: ignore[attr-defined]
    redo = _apply_all(space, applied.inverse)
    assert {_job(space, j) for j in jobs.split(",")} == {("parked", 0)}
    assert scheduler.run_until_idle(timeout_s=5)
    assert len(provider.requests) == calls  # type: ignore[attr-defined]  # never billed
    _apply_all(space, redo)
    assert {_job(space, j) for j in jobs.split(",")} == {("queued", 0)}
    assert scheduler.run_until_idle(timeout_s=5)
    scheduler.close()
    assert {_job(space, j) for j in jobs.split(",")} == {("succeeded", 1)}
    assert len(provider.requests) == calls + len(jobs.split(","))  # type: ignore[attr-defined]
    for vid in (applied.created.get("variant_ids") or applied.created["variant_id"]).split(","):
        assert space.variant_detail(vid).row.status == "completed"


def test_undo_stops_a_running_generation_and_redo_runs_it_again(studio: Studio) -> None:
    slow = ScriptedProvider("scripted", latency_s=5)
    studio._providers.add(slow)  # type: ignore[union-attr]
    studio.create_space("Undo")
    with studio.open_space("undo") as space:
        applied = space.apply(
            c.RequestGeneration("a kite", c.MediaKindName.IMAGE, options=NO_STYLE), OWNER
        )
        jid = applied.created["job_id"]
        executor = ThreadExecutor(2)
        sched = Scheduler(space, executor)
        try:
            sched.pump()
            deadline = time.monotonic() + 5
            while not slow.requests and time.monotonic() < deadline:
                time.sleep(0.01)
            assert _job(space, jid) == ("running", 1)
            t0 = time.monotonic()
            redo = _apply_all(space, applied.inverse)
            assert sched.run_until_idle(timeout_s=5)
            assert time.monotonic() - t0 < 2  # the provider was told to stop
            assert _job(space, jid) == ("parked", 0)  # the stopped run is not counted
            assert len(slow.requests) == 1
            row = space.variant_detail(applied.created["variant_id"]).row
            assert (row.status, row.error_code, row.media_path) == ("pending", None, None)
            slow.latency_s = 0
            _apply_all(space, redo)
            assert sched.run_until_idle(timeout_s=5)
        finally:
            sched.close()
            executor.shutdown()
        assert _job(space, jid) == ("succeeded", 1)
        assert space.variant_detail(applied.created["variant_id"]).row.status == "completed"
        assert len(slow.requests) == 2


def test_undo_of_a_retry_leaves_the_variant_failed_as_before(space: Space) -> None:
    world = build(space)
    before = space.variant_detail(world.gen_failed).row
    applied = space.apply(c.RetryVariant(world.gen_failed), OWNER)
    redo = _apply_all(space, applied.inverse)
    row = space.variant_detail(world.gen_failed).row
    assert (row.status, row.error_code, row.error_message) == (
        "failed",
        before.error_code,
        before.error_message,
    )
    assert _job(space, applied.created["job_id"]) == ("parked", 0)
    _apply_all(space, redo)
    assert _job(space, applied.created["job_id"]) == ("queued", 0)


def test_undo_and_redo_of_generate_cancel_retry_bring_back_exactly_their_own_jobs(
    space: Space,
) -> None:
    """Found by the stateful test: undoing the generation parks its cancelled-then-
    retried variant's jobs; its redo must queue only the job it parked, not the one the
    undone retry parked."""
    steps = []
    for make in (
        lambda: c.RequestGeneration("a kite", c.MediaKindName.IMAGE, options=NO_STYLE),
        lambda: c.CancelJob(steps[0][1].created["job_id"]),
        lambda: c.RetryVariant(steps[0][1].created["variant_id"]),
    ):
        cmd = make()
        steps.append((cmd, space.apply(cmd, OWNER)))
    end = tables(space)
    redo = [_apply_all(space, applied.inverse) for _, applied in reversed(steps)]
    for undone in reversed(redo):
        _apply_all(space, undone)
    assert differences(end, tables(space)) == []
