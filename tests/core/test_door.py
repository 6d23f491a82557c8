"""The command door: roles, the change log, events, atomicity."""

from __future__ import annotations

import json

import pytest

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import ErrorCode, PermissionDeniedError, StudioError
from studio.core.events import Event
from studio.core.space import Space
from tests.conftest import EDITOR, OWNER, VIEWER, add_asset, add_variant
from tests.core.test_inverse import SCENARIOS, build
from tests.sql import query


@pytest.mark.parametrize("label", sorted(SCENARIOS))
def test_viewers_can_change_nothing(space: Space, label: str) -> None:
    world = build(space)
    seq = space.last_seq()
    before = space.snapshot()
    with pytest.raises(PermissionDeniedError) as err:
        space.apply(SCENARIOS[label](world), VIEWER)
    assert err.value.code is ErrorCode.PERMISSION_DENIED
    assert "Vera can only view" in err.value.message
    assert space.last_seq() == seq
    assert space.snapshot() == before


@pytest.mark.parametrize("label", sorted(SCENARIOS))
def test_editors_can_apply_every_user_command(space: Space, label: str) -> None:
    world = build(space)
    applied = space.apply(SCENARIOS[label](world), EDITOR)
    change = next(iter(space.changes(applied.seq - 1)))
    assert (change.actor_id, change.actor_role) == ("u-editor", "editor")


@pytest.mark.parametrize("kind", ["variant:complete", "variant:fail"])
def test_internal_commands_are_for_the_studio_only(space: Space, kind: str) -> None:
    made = add_variant(space)
    cmd = (
        c.CompleteVariant(made.variant_id, "x", "image/png", 1, "0" * 64)
        if kind == "variant:complete"
        else c.FailVariant(made.variant_id, "X", "no")
    )
    with pytest.raises(PermissionDeniedError):
        space.apply(cmd, OWNER)


def test_each_command_appends_one_change_with_payload_actor_and_events(space: Space) -> None:
    a = add_asset(space, "Hero")
    applied = space.apply(c.UpdateAsset(a, name="Heroine"), EDITOR)
    changes = list(space.changes())
    assert [ch.seq for ch in changes] == [1, 2]
    last = changes[-1]
    assert last.seq == applied.seq == space.last_seq()
    assert last.command == "asset:update"
    assert last.payload == c.command_to_json(c.UpdateAsset(a, name="Heroine"))
    assert last.actor_name == "Eddie"
    assert [e["type"] for e in last.events] == ["asset:updated"]
    assert last.events[0]["data"]["name"] == "Heroine"
    assert list(space.changes(since=1)) == [last]


def test_events_are_published_after_commit_with_their_seq(space: Space) -> None:
    seen: list[Event] = []
    unsubscribe = space.subscribe(seen.append)
    a = add_asset(space, "Hero")
    space.apply(c.MoveAssets((c.Position(a, 5, 6),)), OWNER)
    assert [(e.type, e.seq) for e in seen] == [("asset:created", 1), ("asset:moved", 2)]
    assert seen[1].data == {"positions": [{"asset_id": a, "x": 5.0, "y": 6.0}]}
    unsubscribe()
    space.apply(c.UpdateAsset(a, name="B"), OWNER)
    assert len(seen) == 2


def test_a_failing_subscriber_does_not_break_the_door(space: Space) -> None:
    def boom(_: Event) -> None:
        raise RuntimeError("subscriber bug")

    space.subscribe(boom)
    add_asset(space, "Still works")
    assert space.snapshot().assets[0].name == "Still works"


def test_a_rejected_command_writes_nothing(space: Space) -> None:
    a = add_asset(space, "Hero")
    b = add_asset(space, "Sidekick")
    before, seq = space.snapshot(), space.last_seq()
    events: list[Event] = []
    space.subscribe(events.append)
    # the second position is invalid: the first must not be written either
    with pytest.raises(StudioError):
        space.apply(c.MoveAssets((c.Position(a, 1, 1), c.Position("nope", 2, 2))), OWNER)
    with pytest.raises(StudioError):
        space.apply(c.MoveAssets((c.Position(b, float("nan"), 2),)), OWNER)
    assert space.snapshot() == before
    assert space.last_seq() == seq
    assert events == []


def test_fork_failure_rolls_back_files_too(space: Space) -> None:
    made = add_variant(space)
    taken = add_asset(space, "Taken")
    before = sorted(p.relative_to(space.media_dir) for p in space.media_dir.rglob("*"))
    with pytest.raises(StudioError):
        space.apply(c.ForkVariant(made.variant_id, asset_id=taken), OWNER)  # id conflict
    after = sorted(p.relative_to(space.media_dir) for p in space.media_dir.rglob("*"))
    assert after == before


def test_errors_carry_codes_and_serialise(space: Space) -> None:
    with pytest.raises(StudioError) as err:
        space.apply(c.DeleteAsset("missing"), OWNER)
    assert err.value.to_json() == {"code": "NOT_FOUND", "message": "there is no asset missing"}


def test_changes_are_logged_as_json_a_peer_can_replay(space: Space) -> None:
    a = add_asset(space, "Hero", tags=("one",))
    raw = query(space, "SELECT payload FROM changes WHERE seq = 1")[0][0]
    cmd = c.command_from_json(json.loads(raw))
    assert cmd == c.CreateAsset("Hero", c.MediaKindName.IMAGE, tags=("one",))
    assert a


def test_system_actor_is_an_owner() -> None:
    assert Actor.system().is_system and Actor.system().role.can_edit
