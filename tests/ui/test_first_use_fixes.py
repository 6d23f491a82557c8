"""Fixes of what a first-time user trips on (issue 11), each driven through the real
window (offscreen) the way a user does it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    yield w
    w.close()
    studio.close()


def _open(window: MainWindow, qtbot, name: str = "Board") -> str:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space(name)
    window.open_space(entry.id)
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)
    return entry.id


def test_ctrl_d_opens_the_asset_details(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """View ▸ Open asset details (Ctrl+D): the action's ``checked`` argument used to
    reach ``open_full_view`` as the list of variants to compare (TypeError)."""
    _open(window, qtbot)
    space = window.space
    assert space is not None
    aid = space.apply(c.CreateAsset("Hero", c.MediaKindName.IMAGE), OWNER).created["asset_id"]
    qtbot.waitUntil(lambda: window.scene.card(aid) is not None, timeout=2_000)
    window.scene.select([aid])
    qtbot.waitUntil(lambda: window.inspector.current_asset() == aid, timeout=2_000)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.inspector.dialogs) == 1, timeout=2_000)
    dialog = window.inspector.dialogs[0]
    assert dialog.asset_id() == aid and dialog.isVisible()
    assert dialog.ticked() == []
    dialog.close()
    QApplication.processEvents()


def _generated(window: MainWindow) -> int:
    space = window.space
    assert space is not None
    return len(space.snapshot().assets)


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_ctrl_return_generates_from_the_prompt_and_the_canvas(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    key: Qt.Key,
) -> None:
    """One owner per place, no ``Ambiguous shortcut overload``: the prompt box takes
    Ctrl+Return itself; elsewhere the Generate menu's action does."""
    _open(window, qtbot)
    qtbot.waitUntil(window.tray.isEnabled)
    prompt = window.tray.prompt
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus)
    prompt.setPlainText("a tiny robot")
    qtbot.keyClick(prompt, key, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _generated(window) == 1, timeout=2_000)
    assert prompt.toPlainText() == "a tiny robot"  # no newline typed
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    qtbot.keyClick(window.view.viewport(), key, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _generated(window) == 2, timeout=2_000)


def _queue(window: MainWindow, prompt: str) -> str:
    space = window.space
    assert space is not None
    cmd = c.RequestGeneration(
        prompt, c.MediaKindName.IMAGE, options=c.GenerationOptions(no_style=True)
    )
    return str(space.apply(cmd, OWNER).created["job_id"])


def _fail(window: MainWindow, job_id: str, code: str, message: str) -> None:
    space = window.space
    assert space is not None
    me = Actor.system()
    space.apply(c.StartJob(job_id, space.holder_id, 60_000), me)
    space.apply(c.FailJob(job_id, code, message), me)


def test_the_right_dock_keeps_its_width_and_problems_read_in_full(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    """Jobs starting, waiting, failing and the queue pausing never change the dock's
    width (buttons stay under the mouse); a job's problem reads in full, wrapped, at
    the default width."""
    _open(window, qtbot)
    window.jobs_dock.raise_()
    panel = window.jobs_panel
    qtbot.waitUntil(panel.isVisible)
    QApplication.processEvents()
    width = window.jobs_dock.width()
    widths = {width}
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Queue paused" in panel.summary.text(), timeout=2_000)
    widths.add(window.jobs_dock.width())
    jobs = [_queue(window, f"a lighthouse on a rock number {i}, stormy sea") for i in range(4)]
    qtbot.waitUntil(lambda: "4 queued" in panel.summary.text(), timeout=2_000)
    widths.add(window.jobs_dock.width())
    why = "The provider blocked this prompt: violence is not allowed in generated pictures"
    _fail(window, jobs[0], "SAFETY_BLOCKED", why)
    qtbot.waitUntil(lambda: "1 failed" in panel.summary.text(), timeout=2_000)
    QApplication.processEvents()
    widths.add(window.jobs_dock.width())
    assert widths == {width}
    # the problem, in full and wrapped, inside the panel's width
    assert panel.problem.isVisible() and why in panel.problem.text()
    assert panel.problem.wordWrap()
    assert panel.problem.width() <= panel.width()
    assert panel.problem.height() > panel.problem.fontMetrics().lineSpacing() * 1.5  # wrapped
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Queue paused" not in panel.summary.text(), timeout=2_000)
    assert window.jobs_dock.width() == width
