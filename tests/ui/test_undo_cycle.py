"""An undo stack and its commands form no reference cycle: dropping the stack frees it
at once. A cycle left it to the garbage collector, whose order could free a command
twice (a segfault seen in tests/ui/test_undo_follow.py once the space's command set
grew)."""

from __future__ import annotations

import gc
import weakref

from PySide6.QtGui import QUndoStack

from studio.core import commands as c
from studio.core.space import Space
from studio.ui.undo import push
from tests.conftest import OWNER


def test_a_dropped_stack_is_freed_without_the_garbage_collector(qapp, space: Space) -> None:  # type: ignore[no-untyped-def]
    errors: list[str] = []
    gc.collect()
    gc.disable()
    try:
        stack = QUndoStack()
        assert push(stack, space, OWNER, [c.CreateFrame("F", 0, 0, 5, 5)], "Frame", errors.append)
        gone = weakref.ref(stack)
        del stack
        assert gone() is None
    finally:
        gc.enable()
    assert errors == []
