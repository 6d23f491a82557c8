"""The app's undo stack follows the core's history live: when the same person changes it
from another process (``studio undo`` / ``studio apply`` share the app's actor) the stack
is filled again, so Ctrl+Z, Ctrl+Y and the Edit menu are right at once — no "history
changed elsewhere" message first."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtGui import QAction, QUndoStack
from PySide6.QtWidgets import QMessageBox

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.space import Space
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from studio.ui.undo import load_history, shows_history
from tests.conftest import OWNER

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, Actor.local_owner())  # the CLI's actor too
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    yield w
    w.close()
    studio.close()


def _cli(home: Path, *args: str) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr


def _open(window: MainWindow, qtbot) -> str:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space("Board")
    window.open_space(entry.id)
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)
    return entry.slug


def _menu_action(window: MainWindow, prefix: str) -> QAction:
    (action,) = [
        a
        for a in window.findChildren(QAction)
        if a.text().startswith(prefix) and a in window.menuBar().actions()[1].menu().actions()
    ]
    return action


def _error_boxes(window: MainWindow) -> list[str]:
    return [b.text() for b in window.findChildren(QMessageBox, "errorMessage") if b.isVisible()]


def test_an_undo_by_the_cli_shows_in_the_stack_at_once(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    slug = _open(window, qtbot)
    space = window.space
    assert space is not None
    assert window.run([c.CreateAsset("Hero", c.MediaKindName.IMAGE)], "Create Hero")
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=2_000)
    aid = window.scene.cards()[0].asset.id
    assert window.run([c.UpdateAsset(aid, name="Renamed")], "Rename Hero")
    stack = window.undo_stack
    assert stack.undoText() == "Rename Hero"

    _cli(window.studio.paths.home, "undo", slug)  # undoes the rename, as the same person

    qtbot.waitUntil(lambda: stack.redoText() == "Rename Hero", timeout=1_000)
    assert stack.undoText() == "Create Hero" and stack.canRedo()
    assert _menu_action(window, "&Undo").text() == "&Undo Create Hero"
    assert _menu_action(window, "&Redo").text() == "&Redo Rename Hero"
    assert space.asset(aid).name == "Hero"

    _menu_action(window, "&Redo").trigger()  # Ctrl+Y: redoes the CLI's undo, no detour
    assert space.asset(aid).name == "Renamed"
    _menu_action(window, "&Undo").trigger()
    _menu_action(window, "&Undo").trigger()  # and the creation
    qtbot.wait(50)
    assert _error_boxes(window) == []
    assert window.space_control.history is not None
    assert [e.state for e in space.undo_history(window.actor)] == ["undone", "undone"]
    qtbot.waitUntil(lambda: window.scene.cards() == [], timeout=2_000)


def test_a_step_applied_by_the_cli_is_the_next_undo(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    slug = _open(window, qtbot)
    space = window.space
    assert space is not None
    assert window.run([c.CreateAsset("Hero", c.MediaKindName.IMAGE)], "Create Hero")
    window.undo_stack.undo()
    assert window.undo_stack.canRedo()
    step = [
        {"command": "asset:create", "name": "From the CLI", "media_kind": "audio"},
        {"command": "frame:create", "title": "Box", "x": 0, "y": 0, "width": 50, "height": 50},
    ]
    _cli(window.studio.paths.home, "apply", slug, json.dumps(step))

    stack = window.undo_stack
    qtbot.waitUntil(lambda: not stack.canRedo(), timeout=1_000)  # a new step cleared redo
    assert stack.count() == 1 and stack.index() == 1
    label = space.undo_history(window.actor)[-1].label
    assert stack.undoText() == label
    _menu_action(window, "&Undo").trigger()  # Ctrl+Z undoes the CLI's step, at once
    assert _error_boxes(window) == []
    assert space.snapshot().assets == [] and space.snapshot().frames == []
    assert stack.redoText() == label


def test_own_steps_do_not_refill_the_stack(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """The app's own steps reach the follower too; the stack already shows them."""
    _open(window, qtbot)
    follower = window.space_control.history
    assert follower is not None
    for i in range(3):
        assert window.run([c.CreateAsset(f"A{i}", c.MediaKindName.IMAGE)], f"Create {i}")
    window.undo_stack.undo()
    qtbot.wait(450)  # two polls of the feed
    assert follower.reloads == 0
    assert window.undo_stack.count() == 3 and window.undo_stack.index() == 2


def test_an_import_by_the_cli_is_the_next_undo(window: MainWindow, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    """An import records its undo entry after its changes, in a write of its own that
    adds nothing to the change log: the stack still shows it."""
    slug = _open(window, qtbot)
    picture = tmp_path / "pic.png"
    Image.new("RGB", (20, 20), "red").save(picture)
    _cli(window.studio.paths.home, "import", slug, str(picture))
    stack = window.undo_stack
    qtbot.waitUntil(lambda: stack.undoText() == "Import 1 file", timeout=1_000)
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=1_000)
    _menu_action(window, "&Undo").trigger()
    assert _error_boxes(window) == []
    qtbot.waitUntil(lambda: window.scene.cards() == [], timeout=1_000)


def test_shows_history_compares_ids_and_the_undone_tail(qapp, space: Space) -> None:  # type: ignore[no-untyped-def]
    """The comparison the follower makes (ids and states only; stuck entries are not
    shown; with a full window only the common tail counts)."""
    stack = QUndoStack()
    for i in range(3):
        space.apply(c.CreateAsset(f"A{i}", c.MediaKindName.IMAGE), OWNER)
    space.undo(OWNER)
    load_history(stack, space, OWNER, pytest.fail)
    marks = space.history_marks(OWNER, 200)
    assert [state for _, state in marks] == ["done", "done", "undone"]
    assert shows_history(stack, marks, 200)
    assert not shows_history(stack, [*marks[:2], (marks[2][0], "done")], 200)  # redone
    assert not shows_history(stack, [*marks, (marks[-1][0] + 1, "done")], 200)  # new step
    stuck = [marks[0], (marks[1][0], "stuck"), marks[2]]
    assert not shows_history(stack, stuck, 200)
    assert shows_history(stack, marks[1:], 2)  # window full: the tail matches
    assert not shows_history(stack, marks[1:], 200)  # not full: an entry went away
