"""An undo never silently overwrites what another person changed after the step: the
same thing (row, kind of change, fields) changed since by someone else makes the undo a
ConflictError naming them, and the entry stays in the history as stuck. Other changes
to the same card (a rename after a move) do not block it; the studio's own (jobs)
never do."""

from __future__ import annotations

import pytest

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.errors import ConflictError
from studio.core.space import Space

PIA = Actor("peer:pia", "Pia", Role.EDITOR)
HANA = Actor("local:hana", "Hana", Role.OWNER)


def _asset(space: Space) -> str:
    made = space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), HANA)
    return str(made.created["asset_id"])


def test_undo_refuses_to_overwrite_a_later_change_by_someone_else(space: Space) -> None:
    aid = _asset(space)
    space.apply_step([c.UpdateAsset(aid, name="Pia's hero")], PIA, label="Rename")
    space.apply(c.UpdateAsset(aid, name="Hana's hero"), HANA)
    with pytest.raises(ConflictError, match="Rename can no longer be undone: Hana changed"):
        space.undo(PIA)
    assert space.asset(aid).name == "Hana's hero"
    assert [e.state for e in space.undo_history(PIA)] == ["stuck"]


def test_other_fields_and_other_kinds_of_change_do_not_block_an_undo(space: Space) -> None:
    aid = _asset(space)
    space.apply_step([c.MoveAssets((c.Position(aid, 40, 40),))], PIA, label="Move")
    space.apply(c.UpdateAsset(aid, name="Renamed by Hana"), HANA)  # not a move
    space.undo(PIA)
    assert (space.asset(aid).x, space.asset(aid).name) == (0.0, "Renamed by Hana")
    space.apply_step([c.UpdateAsset(aid, tags=("blue",))], PIA, label="Tag")
    space.apply(c.UpdateAsset(aid, name="Again"), HANA)  # another field
    space.undo(PIA)
    assert (space.asset(aid).tags, space.asset(aid).name) == ((), "Again")


def test_ones_own_later_change_is_no_conflict(space: Space) -> None:
    aid = _asset(space)
    space.apply_step([c.UpdateAsset(aid, name="First")], PIA, label="Rename")
    space.apply_step([c.UpdateAsset(aid, name="Second")], PIA, label="Rename again")
    space.undo(PIA)
    space.undo(PIA)
    assert space.asset(aid).name == "Hero"
