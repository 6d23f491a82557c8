"""Undo and redo on top of the core's inverse commands.

A ``CoreCommand`` is one step on the ``QUndoStack``: it holds the commands to apply
(usually one) and, once applied, the inverse commands the core returned. Undo applies
the inverses (collecting *their* inverses for redo); redo applies those. Each step's
first ``redo()`` (which QUndoStack calls on push) applies the original commands.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.actor import Actor
from studio.core.commands import Command
from studio.core.errors import StudioError
from studio.core.space import Applied, Space

ErrorSink = Callable[[str], None]


class CoreCommand(QUndoCommand):
    def __init__(
        self, space: Space, actor: Actor, cmds: Sequence[Command], text: str, on_error: ErrorSink
    ) -> None:
        super().__init__(text)
        self._space = space
        self._actor = actor
        self._forward: list[Command] = list(cmds)
        self._backward: list[Command] = []
        self._on_error = on_error
        self.failed = False
        self.applied: list[Applied] = []

    def _run(self, cmds: list[Command]) -> list[Command] | None:
        """Apply in order; return the commands that undo them, newest first."""
        undo: list[Command] = []
        done: list[Applied] = []
        for cmd in cmds:
            try:
                applied = self._space.apply(cmd, self._actor)
            except StudioError as exc:
                self._on_error(exc.message)
                # roll back what this step already did, so the step stays all-or-nothing
                for back in undo:
                    try:
                        self._space.apply(back, self._actor)
                    except StudioError:
                        pass
                return None
            done.append(applied)
            undo[:0] = applied.inverse
        self.applied = done
        return undo

    def redo(self) -> None:
        result = self._run(self._forward)
        if result is None:
            self.failed = True
            self.setObsolete(True)
            return
        self._backward = result

    def undo(self) -> None:
        result = self._run(self._backward)
        if result is None:
            self.setObsolete(True)
            return
        self._forward = result


def push(
    stack: QUndoStack,
    space: Space,
    actor: Actor,
    cmds: Sequence[Command],
    text: str,
    on_error: ErrorSink,
) -> CoreCommand | None:
    """Apply ``cmds`` as one undoable step. Returns the step, or None if it failed (the
    error went to ``on_error`` and nothing changed)."""
    step = CoreCommand(space, actor, cmds, text, on_error)
    stack.push(step)
    if step.failed:
        return None
    if not step._backward:  # nothing to undo (e.g. internal): keep it off the stack
        step.setObsolete(True)
    return step


class AppliedStep(QUndoCommand):
    """A step whose work is already done (an import that ran in the background): the
    first redo does nothing; undo applies ``inverse``."""

    def __init__(
        self, space: Space, actor: Actor, inverse: Sequence[Command], text: str, on_error: ErrorSink
    ) -> None:
        super().__init__(text)
        self._inner = CoreCommand(space, actor, [], text, on_error)
        self._inner._backward = list(inverse)
        self._first = True

    def redo(self) -> None:
        if self._first:
            self._first = False
            return
        self._inner.redo()

    def undo(self) -> None:
        self._inner.undo()
