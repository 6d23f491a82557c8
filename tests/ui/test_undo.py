"""The undo stack over core inverse commands: redo → assert → undo → assert."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QUndoStack

from studio.core import commands as c
from studio.core.space import Space
from studio.ui.undo import push
from tests.conftest import OWNER, add_asset


def test_push_undo_redo(space: Space, qapp) -> None:  # type: ignore[no-untyped-def]
    stack = QUndoStack()
    errors: list[str] = []
    a = add_asset(space, "Hero")
    step = push(
        stack, space, OWNER, [c.MoveAssets((c.Position(a, 50, 60),))], "Move", errors.append
    )
    assert step is not None and stack.count() == 1
    assert (space.asset(a).x, space.asset(a).y) == (50, 60)
    stack.undo()
    assert (space.asset(a).x, space.asset(a).y) == (0, 0)
    stack.redo()
    assert (space.asset(a).x, space.asset(a).y) == (50, 60)
    assert errors == []


def test_a_failing_step_changes_nothing_and_reports(space: Space, qapp) -> None:  # type: ignore[no-untyped-def]
    stack = QUndoStack()
    errors: list[str] = []
    a = add_asset(space, "Hero")
    cmds = [c.UpdateAsset(a, name="Renamed"), c.DeleteAsset("missing")]
    assert push(stack, space, OWNER, cmds, "Both", errors.append) is None
    assert space.asset(a).name == "Hero"
    assert errors == ["there is no asset missing"]
    assert stack.count() == 0 or not stack.canUndo()


def test_multi_command_step_is_one_undo(space: Space, qapp) -> None:  # type: ignore[no-untyped-def]
    stack = QUndoStack()
    a = add_asset(space, "Hero")
    frame = [c.CreateFrame("F", 0, 0, 10, 10), c.UpdateAsset(a, name="In frame")]
    push(stack, space, OWNER, frame, "Frame", pytest.fail)
    assert len(space.snapshot().frames) == 1
    stack.undo()
    assert space.snapshot().frames == [] and space.asset(a).name == "Hero"
    stack.redo()
    assert len(space.snapshot().frames) == 1 and space.asset(a).name == "In frame"
