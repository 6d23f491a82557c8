"""The ``QUndoStack`` as a view of the core's undo history.

The core keeps each actor's history in the space file (:mod:`studio.core.history`), so
undo survives space switches, preference saves and restarts, and the CLI sees the same
history. A ``CoreCommand`` is one entry of it on the stack: its first ``redo()`` (which
``QUndoStack.push`` calls) applies the gesture's commands as ONE core step
(:meth:`Space.apply_step`: one transaction, all or nothing); later ``undo()`` and
``redo()`` ask the core (:meth:`Space.undo` / :meth:`Space.redo`). Moves the core merges
into one entry (nudges) merge on the stack too. :func:`load_history` fills the stack
from the core when a space is opened.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Sequence
from typing import TypeVar

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QUndoCommand, QUndoStack

from studio.core.actor import Actor
from studio.core.commands import Command
from studio.core.errors import HistoryMovedError, StudioError
from studio.core.history import DONE, STUCK, UNDONE
from studio.core.space import Applied, Space
from studio.ui import long_work

T = TypeVar("T")

ErrorSink = Callable[[str], None]

MOVE_ID = 0x4D4F5645  # "MOVE": the core merges runs of moves into one entry
HISTORY_LIMIT = 200
"""How many of the core's entries the stack shows."""


class CoreCommand(QUndoCommand):
    def __init__(
        self,
        space: Space,
        actor: Actor,
        cmds: Sequence[Command],
        text: str,
        on_error: ErrorSink,
        *,
        already_applied: bool = False,
        entry_id: int | None = None,
        stack: QUndoStack | None = None,
    ) -> None:
        super().__init__(text)
        self._space = space
        self._actor = actor
        self._cmds: list[Command] = list(cmds)
        self._on_error = on_error
        self._first = not already_applied
        self._skip_first = already_applied
        self.quiet = False
        """While True, undo/redo only move the stack (it is being filled from the core)."""
        self.failed = False
        self.applied: list[Applied] = []
        self.entry_id = entry_id
        """The core history entry this command shows."""
        self.size = len(self._cmds)
        """How many commands the step holds (as known: its inverse for an entry from
        the history); from :data:`long_work.BIG_STEP` on, the door runs off the UI
        thread while the window waits visibly."""
        self._stack = weakref.ref(stack) if stack is not None else None
        """Refilled from the core when the history moved on elsewhere. Weak: the stack
        owns its commands, and a command holding its stack made a cycle that the
        garbage collector could break stack-first (QUndoStack::clear then crashed on
        commands already gone)."""

    def id(self) -> int:
        # every step may be merged into the one before: the core decides (mergeWith)
        return MOVE_ID

    def mergeWith(self, other: QUndoCommand) -> bool:
        # the core decides: it merged when both show the same history entry
        return (
            isinstance(other, CoreCommand)
            and other.entry_id is not None
            and other.entry_id == self.entry_id
        )

    def redo(self) -> None:
        if self.quiet:
            return
        if self._skip_first:
            self._skip_first = False
            return
        try:
            if self._first:
                self._first = False
                cmds, actor, label = self._cmds, self._actor, self.text()
                step = self._big(lambda: self._space.apply_step(cmds, actor, label=label))
                self.applied = list(step.applied)
                if not step.inverse:  # nothing to undo (e.g. internal): keep it off the stack
                    self.setObsolete(True)
                    return
                latest = self._space.undo_history(self._actor, 1)
                self.entry_id = latest[-1].id if latest else None
            else:
                entry, actor = self.entry_id, self._actor
                self._big(lambda: self._space.redo(actor, expect=entry), "Redoing")
        except HistoryMovedError as exc:
            self._moved(exc)
        except StudioError as exc:
            self._on_error(exc.message)
            self.failed = True
            self.setObsolete(True)

    def undo(self) -> None:
        if self.quiet:
            return
        try:
            entry, actor = self.entry_id, self._actor
            self._big(lambda: self._space.undo(actor, expect=entry), "Undoing")
        except HistoryMovedError as exc:
            self._moved(exc)
        except StudioError as exc:
            # e.g. someone changed the same thing later: the core keeps the entry and
            # says why; the stack drops it
            self._on_error(exc.message)
            self.setObsolete(True)

    def _big(self, fn: Callable[[], T], verb: str = "") -> T:
        """``fn()``, a call of the door: here, or for a big step on a thread of its own
        while the window waits visibly (:func:`long_work.wait_for`), saying what it
        does: the step's name, after ``verb`` ("Undoing") if any."""
        if self.size < long_work.BIG_STEP:
            return fn()
        return long_work.wait_for(fn, f"{verb} “{self.text()}”…" if verb else f"{self.text()}…")

    def _moved(self, exc: HistoryMovedError) -> None:
        """The same actor changed the history elsewhere (the CLI, another window): show
        the core's history again, once the stack has finished this undo/redo."""
        stack = self._stack() if self._stack is not None else None
        space, actor, on_error = self._space, self._actor, self._on_error
        if stack is None:
            on_error(exc.message)
            return
        on_error(f"{exc.message}; the undo list now shows it")
        QTimer.singleShot(0, lambda: load_history(stack, space, actor, on_error))


def created_assets(applied: Sequence[Applied]) -> list[str]:
    """The ids of the assets these commands created (generation, fork, batch…)."""
    out: list[str] = []
    for a in applied:
        made = a.created
        if "asset_ids" in made:
            out += [x for x in made["asset_ids"].split(",") if x]
        elif "asset_id" in made and any(e.type == "asset:created" for e in a.events):
            out.append(made["asset_id"])
    return list(dict.fromkeys(out))


def push(
    stack: QUndoStack,
    space: Space,
    actor: Actor,
    cmds: Sequence[Command],
    text: str,
    on_error: ErrorSink,
) -> CoreCommand | None:
    """Apply ``cmds`` as one core step, undoable as one. Returns the step, or None if it
    failed (the error went to ``on_error`` and nothing changed)."""
    step = CoreCommand(space, actor, cmds, text, on_error, stack=stack)
    stack.push(step)
    if step.failed:
        return None
    return step


class AppliedStep(CoreCommand):
    """An entry whose work is already done and recorded in the core's history (an import
    that ran in the background): the first redo does nothing."""

    def __init__(
        self, space: Space, actor: Actor, inverse: Sequence[Command], text: str, on_error: ErrorSink
    ) -> None:
        latest = space.undo_history(actor, 1)
        super().__init__(
            space,
            actor,
            [],
            text,
            on_error,
            already_applied=True,
            entry_id=latest[-1].id if latest else None,
        )
        self.size = len(inverse)  # the core recorded it (Space.remember); undo asks it


def load_history(stack: QUndoStack, space: Space, actor: Actor, on_error: ErrorSink) -> None:
    """Fill ``stack`` from ``actor``'s history in ``space``: its steps that still stand,
    then the undone ones (redo-able). Entries that can no longer be undone are left out."""
    stack.clear()
    entries = [e for e in space.undo_history(actor, HISTORY_LIMIT) if e.state != STUCK]
    commands: list[CoreCommand] = []
    for entry in entries:
        cmd = CoreCommand(
            space,
            actor,
            [],
            entry.label or "Change",
            on_error,
            already_applied=True,
            entry_id=entry.id,
            stack=stack,
        )
        cmd.size = max(len(entry.undo), len(entry.redo))
        commands.append(cmd)
        stack.push(cmd)
    undone = sum(1 for e in entries if e.state != DONE)
    for cmd in commands:
        cmd.quiet = True
    for _ in range(undone):
        stack.undo()
    for cmd in commands:
        cmd.quiet = False
    # (no setClean: QUndoStack never merges a push made at its clean index)


def _stack_marks(stack: QUndoStack) -> tuple[list[int | None], int]:
    """The history entries ``stack`` shows, oldest first, and how many are undone."""
    ids: list[int | None] = []
    for i in range(stack.count()):
        cmd = stack.command(i)
        ids.append(cmd.entry_id if isinstance(cmd, CoreCommand) else None)
    return ids, stack.count() - stack.index()


def shows_history(stack: QUndoStack, marks: Sequence[tuple[int, str]], limit: int) -> bool:
    """Does ``stack`` show the history whose last ``limit`` entries are ``marks`` (as
    :meth:`Space.history_marks` gives them) — the same steps, the same ones undone?
    When the core's window is full, only the common tail is compared."""
    core = [eid for eid, state in marks if state != STUCK]
    core_undone = sum(1 for _, state in marks if state == UNDONE)
    ids, undone = _stack_marks(stack)
    if undone != core_undone:
        return False
    if len(marks) >= limit:  # older entries are beyond the window on one side
        n = min(len(ids), len(core))
        return ids[len(ids) - n :] == core[len(core) - n :]
    return ids == core


class HistoryFollower(QObject):
    """Keeps ``stack`` a view of ``actor``'s core history while a space is open.

    :meth:`look` is called whenever the space file changed (the feed follower's
    ``file_changed``); a moment later (never inside a push, undo or redo of the stack)
    the history's ids and states are compared with the stack, and when they differ the
    stack is filled again from the core: the user's place is the core's."""

    def __init__(
        self,
        stack: QUndoStack,
        space: Space,
        actor: Actor,
        on_error: ErrorSink,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._stack = stack
        self._space = space
        self._actor = actor
        self._on_error = on_error
        self._soon = QTimer(self)
        self._soon.setSingleShot(True)
        self._soon.setInterval(0)
        self._soon.timeout.connect(self.sync)
        self.reloads = 0
        """How often the stack was filled again (for tests and the bench)."""
        load_history(stack, space, actor, on_error)

    def look(self) -> None:
        """Compare soon (coalesced: one look per turn of the event loop)."""
        self._soon.start()

    def sync(self) -> bool:
        """Fill the stack again if it no longer shows the core's history; True if so."""
        try:
            marks = self._space.history_marks(self._actor, HISTORY_LIMIT)
        except StudioError:  # the space went away; the next look (or close) decides
            return False
        if shows_history(self._stack, marks, HISTORY_LIMIT):
            return False
        load_history(self._stack, self._space, self._actor, self._on_error)
        self.reloads += 1
        return True

    def close(self) -> None:
        self._soon.stop()
