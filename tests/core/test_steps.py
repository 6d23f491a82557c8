"""Steps (several commands as one atomic unit) and the per-actor undo history the core
keeps in the space file."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.clock import CountingIds
from studio.core import commands as c
from studio.core.errors import ConflictError, NotFoundError, NothingToUndoError, StudioError
from studio.core.events import Event
from studio.core.history import MERGE_WINDOW_MS
from studio.core.space import Space
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from tests.conftest import EDITOR, OWNER, FakeClock, add_asset, add_variant


def _media_files(space: Space) -> set[str]:
    return {
        p.relative_to(space.media_dir).as_posix()
        for p in space.media_dir.rglob("*")
        if p.is_file() and ".staging" not in p.parts
    }


def _state(space: Space) -> tuple[object, ...]:
    snap = space.snapshot()
    every = space.all_variants()
    return (snap.seq, snap.assets, every, snap.lineage, snap.frames, _media_files(space))


def test_a_failing_command_leaves_the_whole_step_undone(space: Space) -> None:
    made = add_variant(space, name="Hero")
    before = _state(space)
    history_before = space.undo_history(OWNER)
    seen: list[Event] = []
    space.subscribe(seen.append)
    cmds = [
        c.ForkVariant(made.variant_id, name="Copy"),  # writes media (rolled back by a hook)
        c.DeleteAsset("missing"),  # fails
        c.CreateFrame("Never", 0, 0, 10, 10),
    ]
    with pytest.raises(NotFoundError, match="there is no asset missing"):
        space.apply_step(cmds, OWNER)
    assert _state(space) == before  # no row, no change-log entry, no media left behind
    assert space.last_seq() == before[0]
    assert space.undo_history(OWNER) == history_before
    assert seen == []


def test_a_step_is_one_unit_in_the_change_log(space: Space) -> None:
    a = add_asset(space, "Hero")
    start = space.last_seq()
    step = space.apply_step(
        [
            c.CreateFrame("Act", 0, 0, 100, 100, frame_id="f1"),
            c.MoveAssets((c.Position(a, 10, 10),)),
            c.UpdateAsset(a, name="Framed"),
        ],
        OWNER,
    )
    assert step.seqs == (start + 1, start + 2, start + 3)
    changes = list(space.changes(start))
    assert [ch.seq for ch in changes] == list(step.seqs)
    assert {ch.step_id for ch in changes} == {step.step_id}
    # a reader that asks for fewer rows still gets the whole step, never half of it
    assert [ch.seq for ch in space.changes(start, limit=1)] == list(step.seqs)
    # the earlier single command is its own step
    before = list(space.changes(start - 1, limit=1))
    assert len(before) == 1 and before[0].step_id != step.step_id
    # one combined inverse, newest first
    assert [x.kind for x in step.inverse] == ["asset:update", "asset:move", "frame:delete"]


def test_undo_and_redo_a_step_as_a_whole(space: Space) -> None:
    a = add_asset(space, "Hero")
    space.apply_step([c.CreateFrame("Act", 0, 0, 100, 100), c.UpdateAsset(a, name="Framed")], OWNER)
    undone = space.undo(OWNER)
    assert space.snapshot().frames == [] and space.asset(a).name == "Hero"
    assert len({ch.step_id for ch in space.changes(undone.seqs[0] - 1)}) == 1
    space.redo(OWNER)
    assert len(space.snapshot().frames) == 1 and space.asset(a).name == "Framed"
    space.undo(OWNER)
    space.undo(OWNER)  # the asset's creation
    assert space.snapshot().assets == []
    with pytest.raises(NothingToUndoError, match="nothing to undo for Olive"):
        space.undo(OWNER)
    space.redo(OWNER)
    space.redo(OWNER)
    assert space.asset(a).name == "Framed"
    with pytest.raises(NothingToUndoError, match="nothing to redo"):
        space.redo(OWNER)


def test_each_actor_has_its_own_history_and_a_new_step_clears_redo(space: Space) -> None:
    a = add_asset(space, "Mine")  # OWNER
    b = space.apply(c.CreateAsset(name="Theirs", media_kind=c.MediaKindName.IMAGE), EDITOR)
    space.undo(OWNER)
    assert [x.name for x in space.snapshot().assets] == ["Theirs"]
    assert space.asset(b.created["asset_id"]).name == "Theirs"
    add_asset(space, "Other")  # a new step by OWNER: the undone creation can't be redone
    with pytest.raises(NothingToUndoError):
        space.redo(OWNER)
    with pytest.raises(NotFoundError):
        space.asset(a)


def test_history_survives_close_and_open(studio: Studio) -> None:
    entry = studio.create_space("Keep")
    with studio.open_space(entry.slug) as space:
        a = add_asset(space, "Hero")
        space.apply(c.UpdateAsset(a, name="Renamed"), OWNER)
        space.undo(OWNER)
    with studio.open_space(entry.slug) as space:
        assert space.asset(a).name == "Hero"
        states = [e.state for e in space.undo_history(OWNER)]
        assert states == ["done", "undone"]
        space.redo(OWNER)
        assert space.asset(a).name == "Renamed"
    with studio.open_space(entry.slug) as space:
        space.undo(OWNER)
        space.undo(OWNER)
        assert space.snapshot().assets == []


def test_a_step_that_can_no_longer_be_undone_stays_and_says_why(space: Space) -> None:
    a = add_asset(space, "Hero")
    space.apply(c.UpdateAsset(a, name="Mine"), OWNER)
    space.apply(c.DeleteAsset(a), EDITOR)  # someone else changes the same thing later
    seq = space.last_seq()
    with pytest.raises(ConflictError, match="can no longer be undone: there is no asset"):
        space.undo(OWNER)
    assert space.last_seq() == seq  # nothing written by the failed undo
    entries = space.undo_history(OWNER)
    assert [e.state for e in entries] == ["done", "stuck"]
    assert entries[-1].reason is not None and "can no longer be undone" in entries[-1].reason
    assert entries[-1].label == "asset:update"
    # the next undo goes on with the step before it (deleting the asset fails too: it is
    # already deleted, and that entry stays as well)
    with pytest.raises(ConflictError, match="already deleted"):
        space.undo(OWNER)
    assert [e.state for e in space.undo_history(OWNER)] == ["stuck", "stuck"]
    with pytest.raises(NothingToUndoError):
        space.undo(OWNER)


def test_nudges_of_the_same_cards_merge_within_the_window(space: Space, clock: FakeClock) -> None:
    a = add_asset(space, "A")
    b = add_asset(space, "B")
    b_at = (space.asset(b).x, space.asset(b).y)  # beside A: new cards go to free space
    for i in range(1, 6):  # five arrow-key nudges, 200 ms apart
        clock.advance(200)
        space.apply(c.MoveAssets((c.Position(a, 10 * i, 0), c.Position(b, 10 * i, 50))), OWNER)
    assert len(space.undo_history(OWNER)) == 3  # two creations + one run of nudges
    clock.advance(MERGE_WINDOW_MS + 1)  # a pause: a new entry
    space.apply(c.MoveAssets((c.Position(a, 100, 0), c.Position(b, 100, 50))), OWNER)
    clock.advance(100)
    space.apply(c.MoveAssets((c.Position(a, 200, 0),)), OWNER)  # other cards: a new entry
    assert len(space.undo_history(OWNER)) == 5
    space.undo(OWNER)
    assert space.asset(a).x == 100
    space.undo(OWNER)
    assert (space.asset(a).x, space.asset(b).x) == (50, 50)
    space.undo(OWNER)  # the whole run of nudges at once
    assert (space.asset(a).x, (space.asset(b).x, space.asset(b).y)) == (0, b_at)
    space.redo(OWNER)
    assert (space.asset(a).x, space.asset(b).y) == (50, 50)


def test_frame_moves_merge_too(space: Space, clock: FakeClock) -> None:
    space.apply(c.CreateFrame("F", 0, 0, 10, 10, frame_id="f1"), OWNER)
    for i in range(1, 4):
        clock.advance(100)
        space.apply(c.UpdateFrame("f1", x=float(i)), OWNER)
    clock.advance(100)
    space.apply(c.UpdateFrame("f1", title="Renamed"), OWNER)  # not a move
    assert len(space.undo_history(OWNER)) == 3
    space.undo(OWNER)
    space.undo(OWNER)
    assert space.snapshot().frames[0].x == 0


def test_an_empty_step_is_refused(space: Space) -> None:
    from studio.core.errors import ValidationError

    with pytest.raises(ValidationError, match="at least one command"):
        space.apply_step([], OWNER)


def test_history_is_bounded_per_actor(tmp_path: Path, clock: FakeClock) -> None:
    from studio.core import history

    with Studio(
        tmp_path / "home", clock=clock, ids=CountingIds(), providers=build_providers
    ) as studio:
        entry = studio.create_space("Many")
        with studio.open_space(entry.slug) as space:
            a = add_asset(space, "A")
            old = history.MAX_ENTRIES_PER_ACTOR, history.TRIM_EVERY
            history.MAX_ENTRIES_PER_ACTOR, history.TRIM_EVERY = 5, 4
            try:
                for i in range(11):  # 12 entries with the creation: trimmed at 4, 8, 12
                    space.apply(c.UpdateAsset(a, name=f"n{i}"), OWNER)
            finally:
                history.MAX_ENTRIES_PER_ACTOR, history.TRIM_EVERY = old
            names = [e.undo[0] for e in space.undo_history(OWNER)]
            assert len(names) == 5  # the newest five
            assert names[-1] == c.UpdateAsset(a, name="n9")


def test_an_import_of_several_files_is_one_undo_entry(space: Space, tmp_path: Path) -> None:
    from PIL import Image

    from studio.core.imports import import_files

    paths = []
    for i, colour in enumerate(("red", "blue", "green")):
        path = tmp_path / f"{colour}.png"
        Image.new("RGB", (8 + i, 8), colour).save(path)
        paths.append(path)
    report = import_files(space, paths, OWNER)
    assert len(report.imported) == 3
    (entry,) = space.undo_history(OWNER)
    assert entry.label == "Import 3 files" and len(entry.undo) == 3
    space.undo(OWNER)
    assert space.snapshot().assets == []
    space.redo(OWNER)
    assert len(space.snapshot().assets) == 3


def test_a_follower_on_another_connection_never_sees_half_a_step(studio: Studio) -> None:
    import threading
    from collections import Counter

    entry = studio.create_space("Feed")
    with studio.open_space(entry.slug) as writer, studio.open_space(entry.slug) as reader:
        steps = 40

        def write() -> None:
            for i in range(steps):
                writer.apply_step([c.CreateFrame(f"F{i}-{k}", 0, 0, 5, 5) for k in range(3)], OWNER)

        thread = threading.Thread(target=write)
        thread.start()
        since, reads, counts = 0, 0, Counter[str | None]()
        while reads < 10_000:  # bounded; ends when the writer is done and all is read
            reads += 1
            finished = not thread.is_alive()  # before the read: then an empty read is the end
            batch = list(reader.changes(since, limit=2))  # a limit that cuts steps
            per_step = Counter(ch.step_id for ch in batch)
            assert set(per_step.values()) <= {3}, per_step  # whole steps only
            counts.update(per_step)
            if batch:
                since = batch[-1].seq
            elif finished:
                break
        thread.join(timeout=30)
        assert len(counts) == steps and set(counts.values()) == {3}


@pytest.mark.parametrize("bad_at", [0, 1, 2, 3])
def test_a_step_fails_whole_wherever_the_failing_command_is(space: Space, bad_at: int) -> None:
    made = add_variant(space, name="Hero")
    good: list[c.Command] = [
        c.ForkVariant(made.variant_id, name="Copy"),
        c.UpdateAsset(made.asset_id, name="Renamed"),
        c.CreateFrame("F", 0, 0, 10, 10),
    ]
    cmds = [*good[:bad_at], c.RestoreAsset(made.asset_id), *good[bad_at:]]  # not deleted: fails
    before = _state(space)
    with pytest.raises(StudioError, match="is not deleted"):
        space.apply_step(cmds, OWNER)
    assert _state(space) == before
    assert list(space.changes(before[0])) == []
