"""CanvasScene: loading a snapshot, following events, find/filter, level of detail."""

from __future__ import annotations

from PySide6.QtCore import QRectF

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.events import Event
from studio.core.space import Space
from studio.ui.canvas import CanvasScene, ThumbnailCache
from studio.ui.canvas.geometry import TIER_FULL, Lod
from studio.ui.canvas.model import STAR_ACTIVE, STAR_NONE, STAR_OTHER
from tests.conftest import OWNER, add_asset, add_variant
from tests.ui.events import as_typed, typed_event
from tests.ui.test_canvas_kit import add_image, make_canvas

PLAIN = c.GenerationOptions(no_style=True, seed=3)
SYSTEM = Actor.system()


def test_load_builds_one_card_per_live_asset_showing_the_active_variant(
    space: Space, qtbot
) -> None:  # type: ignore[no-untyped-def]
    hero = add_image(space, "Hero", 0, 0, colour=(200, 60, 60))
    second = add_image(space, "Hero", asset_id=hero.asset_id, colour=(60, 60, 200))
    space.apply(c.StarVariant(second.variant_id), OWNER)
    sword = add_image(space, "Sword", 280, 0)
    gone = add_asset(space, "Gone")
    space.apply(c.DeleteAsset(gone), OWNER)
    frame = space.apply(c.CreateFrame("Act 1", -40, -80, 700, 400), OWNER).created["frame_id"]
    cv = make_canvas(space, qtbot)
    ids = {card.asset.id for card in cv.scene.cards()}
    assert ids == {hero.asset_id, sword.asset_id}
    card = cv.scene.card(hero.asset_id)
    assert card is not None
    assert card.facts.active is not None and card.facts.active.id == hero.variant_id
    assert card.facts.count == 2 and card.facts.star == STAR_OTHER
    assert card.thumb is not None and card.thumb.endswith("thumb.webp")
    assert (card.px, card.py) == (0, 0)
    assert [f.frame_id for f in cv.scene.frame_items()] == [frame]
    assert cv.scene.card(sword.asset_id).facts.star == STAR_NONE  # type: ignore[union-attr]


def test_events_create_rename_move_delete_restore(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv = make_canvas(space, qtbot)
    a = add_asset(space, "Hero", x=40, y=60)
    card = cv.scene.card(a)
    assert card is not None and card.asset.name == "Hero" and (card.px, card.py) == (40, 60)
    space.apply(c.UpdateAsset(a, name="Heroine", tags=("lead",)), OWNER)
    assert cv.scene.card(a).asset.name == "Heroine"  # type: ignore[union-attr]
    assert cv.scene.card(a).asset.tags == ("lead",)  # type: ignore[union-attr]
    space.apply(c.MoveAssets((c.Position(a, 500, 20),)), OWNER)
    assert (card.px, card.py) == (500, 20)
    assert card.pos().x() == 500
    space.apply(c.DeleteAsset(a), OWNER)
    assert cv.scene.card(a) is None and card.scene() is None
    space.apply(c.RestoreAsset(a), OWNER)
    again = cv.scene.card(a)
    assert again is not None and (again.px, again.py) == (500, 20)


def test_restore_brings_the_variants_back(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    made = add_image(space, "Hero")
    add_image(space, "Hero", asset_id=made.asset_id)
    cv = make_canvas(space, qtbot)
    space.apply(c.DeleteAsset(made.asset_id), OWNER)
    assert cv.scene.model.variants_of(made.asset_id) == []
    space.apply(c.RestoreAsset(made.asset_id), OWNER)
    card = cv.scene.card(made.asset_id)
    assert card is not None and card.facts.count == 2 and card.status == "completed"


def test_generation_status_progress_and_completion(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.jobs.executor import InlineExecutor
    from studio.jobs.scheduler import Scheduler

    cv = make_canvas(space, qtbot)
    applied = space.apply(
        c.RequestGeneration("a red kite", c.MediaKindName.IMAGE, options=PLAIN), OWNER
    )
    aid, vid, jid = (applied.created[k] for k in ("asset_id", "variant_id", "job_id"))
    card = cv.scene.card(aid)
    assert card is not None and card.status == "pending"
    assert card.shown_busy() is not None and card.progress is None and card.animated
    assert card._busy_label(card.facts.active) == "Queued"  # type: ignore[arg-type]

    space.apply(c.StartJob(jid, "w1", 60_000), SYSTEM)
    assert card.status == "processing" and card.animated  # indeterminate: no progress yet
    space.publish_transient(
        Event(
            "job:progress",
            {"job_id": jid, "variant_id": vid, "progress": 0.4, "message": "Drawing"},
        )
    )
    assert card.progress == (0.4, "Drawing") and not card.animated
    assert card._busy_label(card.facts.active) == "Drawing · 40%"  # type: ignore[arg-type]

    space.apply(c.RequeueJob(jid, "test"), SYSTEM)  # give it back to a scheduler
    scheduler = Scheduler(space, InlineExecutor())
    assert scheduler.run_until_idle(timeout_s=10)
    scheduler.close()
    assert card.status == "completed" and card.progress is None and not card.animated
    assert card.thumb is not None and card.thumb.endswith("thumb.webp")


def test_failed_variant_shows_red_mark_and_error_tooltip(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv = make_canvas(space, qtbot)
    applied = space.apply(
        c.RequestGeneration("a kite", c.MediaKindName.IMAGE, options=PLAIN), OWNER
    )
    aid, jid = applied.created["asset_id"], applied.created["job_id"]
    space.apply(c.StartJob(jid, "w1", 60_000), SYSTEM)
    space.apply(c.FailJob(jid, "SAFETY_BLOCKED", "the provider blocked this prompt"), SYSTEM)
    card = cv.scene.card(aid)
    assert card is not None and card.status == "failed"
    assert "the provider blocked this prompt" in card.toolTip()
    assert card.shown_busy() is None


def test_refining_another_variant_shows_on_the_card(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    made = add_image(space, "Hero")
    cv = make_canvas(space, qtbot)
    applied = space.apply(c.RequestRefine(made.asset_id, "bluer", options=PLAIN), OWNER)
    card = cv.scene.card(made.asset_id)
    assert card is not None and card.status == "completed"
    busy = card.shown_busy()
    assert busy is not None and busy.id == applied.created["variant_id"]
    space.publish_transient(
        Event(
            "job:progress",
            {"job_id": "j", "variant_id": busy.id, "progress": 0.5, "message": ""},
        )
    )
    assert card.progress == (0.5, "")


def test_star_marks_and_variant_delete(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    made = add_image(space, "Hero")
    other = add_image(space, "Hero", asset_id=made.asset_id)
    cv = make_canvas(space, qtbot)
    card = cv.scene.card(made.asset_id)
    assert card is not None and card.facts.star == STAR_NONE and card.facts.count == 2
    space.apply(c.StarVariant(made.variant_id), OWNER)
    assert card.facts.star == STAR_ACTIVE
    space.apply(c.DeleteVariant(other.variant_id), OWNER)
    assert card.facts.count == 1


def test_child_card_knows_its_parent(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    parent = add_asset(space, "Castle")
    child = add_asset(space, "Gate", x=300)
    cv = make_canvas(space, qtbot)
    space.apply(c.ReparentAsset(child, parent), OWNER)
    card = cv.scene.card(child)
    assert card is not None and card.asset.parent_asset_id == parent
    assert "inside Castle" in card.toolTip()
    space.apply(c.UpdateAsset(parent, name="Fortress"), OWNER)
    assert "inside Fortress" in card.toolTip()


def test_frames_follow_events(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv = make_canvas(space, qtbot)
    fid = space.apply(c.CreateFrame("Act 1", 0, 0, 600, 400), OWNER).created["frame_id"]
    item = cv.scene.frame(fid)
    assert item is not None and item.rect() == (0, 0, 600, 400)
    space.apply(c.UpdateFrame(fid, title="Act One", x=100, width=800), OWNER)
    assert item.row.title == "Act One" and item.rect() == (100, 0, 800, 400)
    space.apply(c.DeleteFrame(fid), OWNER)
    assert cv.scene.frame(fid) is None
    space.apply(c.RestoreFrame(fid), OWNER)
    assert cv.scene.frame(fid) is not None


def test_loading_is_batched_and_events_during_loading_are_kept(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = [add_asset(space, f"A{i}", x=(i % 30) * 280, y=(i // 30) * 280) for i in range(300)]
    scene = CanvasScene(ThumbnailCache(executor=lambda job: job()))
    progress: list[tuple[int, int]] = []
    scene.progress.connect(lambda done, total: progress.append((done, total)))
    scene.BATCH_S = 0.0005  # force many small batches
    snap = space.snapshot()
    old_seq_event = typed_event(
        "asset:deleted", {"id": ids[0]}, snap.seq
    )  # already in the snapshot
    scene.load(space, snap, focus=QRectF(2000, 2000, 600, 600))
    scene.apply_event(old_seq_event)  # ignored: seq <= snapshot seq
    renamed = space.apply(c.UpdateAsset(ids[1], name="Renamed"), OWNER)
    for ev in renamed.events:
        scene.apply_event(as_typed(ev))
    with qtbot.waitSignal(scene.loaded, timeout=10_000):
        pass
    assert len(scene.cards()) == 300
    assert scene.card(ids[0]) is not None
    assert scene.card(ids[1]).asset.name == "Renamed"  # type: ignore[union-attr]
    assert len(progress) > 2 and progress[-1] == (300, 300)
    assert progress[0][0] < 300


def test_find_and_filter_highlight_and_count(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    hero = add_asset(space, "Hero knight", type="character", tags=("blue",), x=300, y=0)
    add_asset(space, "Sword", type="item", tags=("blue", "steel"), x=0, y=0)
    add_asset(space, "Rain loop", kind="audio", type="sfx", x=0, y=300)
    kite = space.apply(
        c.RequestGeneration(
            "a red kite over hills", c.MediaKindName.IMAGE, name="Kite", options=PLAIN
        ),
        OWNER,
    ).created["asset_id"]
    cv = make_canvas(space, qtbot)
    scene = cv.scene
    with qtbot.waitSignal(scene.matches_changed) as sig:
        n = scene.finder.find("tag:blue")
    assert n == 2 and sig.args == [2]
    assert [scene.card(a).asset.name for a in scene.finder.matches()] == ["Sword", "Hero knight"]  # type: ignore[union-attr]
    assert scene.card(hero).match == 1  # type: ignore[union-attr]
    assert scene.card(kite).match == -1  # type: ignore[union-attr]
    assert scene.finder.find("kind:audio") == 1
    assert scene.finder.find("type:character knight") == 1
    assert scene.finder.find("kite hills") == 1  # from the prompt, fetched lazily
    assert scene.finder.matches() == [kite]
    assert scene.finder.set_filter(lambda row: row.name.startswith("S")) == 1
    scene.finder.clear_filter()
    assert all(card.match == 0 for card in scene.cards())
    assert scene.finder.find("nothing-like-this") == 0 and scene.finder.focus_match(0) is None


def test_focus_match_centres_the_view(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    add_asset(space, "Near", x=0, y=0)
    far = add_asset(space, "Far away", x=5000, y=3000)
    cv = make_canvas(space, qtbot)
    assert cv.scene.finder.find("far") == 1
    assert cv.scene.finder.focus_match(0) == far
    centre = cv.view.center()
    assert abs(centre.x() - 5128) < 2 and abs(centre.y() - 3128) < 2


def test_starred_filter_and_new_cards_are_matched(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    made = add_variant(space, name="Hero")
    cv = make_canvas(space, qtbot)
    assert cv.scene.finder.find("is:starred") == 0
    space.apply(c.StarVariant(made.variant_id), OWNER)
    assert cv.scene.finder.matches() == [made.asset_id]
    add_asset(space, "Unstarred")
    assert len(cv.scene.finder.matches()) == 1


def test_far_zoom_hands_cards_to_the_overview(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    for i in range(20):
        add_image(space, f"I{i}", (i % 5) * 280, (i // 5) * 280, seed=i)
    cv = make_canvas(space, qtbot)
    cv.view.set_scale(0.05)
    cv.scene.settle_lod()
    assert cv.scene.lod is Lod.FAR
    assert all(card.nocontents for card in cv.scene.cards())
    cv.view.grab()  # the overview paints them
    new = add_asset(space, "Late")
    assert cv.scene.card(new).nocontents  # type: ignore[union-attr]
    cv.view.set_scale(1.0)
    cv.scene.settle_lod()
    assert cv.scene.lod is Lod.FULL and not any(card.nocontents for card in cv.scene.cards())


def test_lod_switch_in_many_batches_after_a_reload(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    for i in range(60):
        add_asset(space, f"A{i}", x=(i % 10) * 280, y=(i // 10) * 280)
    cv = make_canvas(space, qtbot)
    cv.scene.load(space, space.snapshot())  # a reload replaces the overview item
    assert cv.scene.wait_loaded()
    cv.scene.BATCH_S = 0.00001  # one step per batch: many "sliced" signals
    cv.view.set_scale(0.05)
    assert cv.scene._lod.running  # one batch ran ("sliced" emitted), the rest follow
    qtbot.waitUntil(lambda: not cv.scene._lod.running, timeout=5000)
    assert all(card.nocontents for card in cv.scene.cards())
    cv.view.grab()


def test_cards_ask_for_thumbnails_only_when_painted(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    near = add_image(space, "Near", 0, 0)
    far = add_image(space, "Far", 20_000, 20_000)
    cv = make_canvas(space, qtbot)
    cv.view.center_on(128, 128)
    cv.view.grab()
    thumbs = cv.scene.thumbs
    thumbs.flush()
    near_card, far_card = cv.scene.card(near.asset_id), cv.scene.card(far.asset_id)
    assert near_card is not None and far_card is not None
    assert thumbs.peek(near_card.thumb, TIER_FULL) is not None  # type: ignore[arg-type]
    assert thumbs.peek(far_card.thumb, TIER_FULL) is None  # type: ignore[arg-type]


def test_events_for_another_space_state_are_ignored_before_load(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    scene = CanvasScene(ThumbnailCache(executor=lambda job: job()))
    scene.apply_event(typed_event("asset:deleted", {"id": "x"}, 5))  # no space: ignored
    a = add_asset(space, "A")
    scene.load(space, space.snapshot())
    scene.wait_loaded()
    scene.apply_event(typed_event("lineage:created", {"id": "l"}, 99))  # not ours: ignored
    assert [card.asset.id for card in scene.cards()] == [a]
    scene.clear_canvas()
    assert scene.cards() == [] and scene.space is None


def test_the_graveyard_empties_lists_and_dicts_a_slice_a_turn(qtbot) -> None:  # type: ignore[no-untyped-def]
    """A loaded snapshot's rows and star sets are freed a slice per turn (dropped at
    once at the end of a 50,000-asset load they cost one 6-17 ms step)."""
    from studio.ui.canvas.batches import Graveyard

    yard = Graveyard()
    rows = [object() for _ in range(Graveyard.SLICE * 2 + 10)]
    stars = {i: frozenset({str(i)}) for i in range(10)}
    yard.bury(rows, stars)
    yard._slice()
    # one slice a turn: the last buried first, then the rest of its budget
    assert not stars and len(rows) == Graveyard.SLICE + 20
    qtbot.waitUntil(lambda: not rows)
