"""Reopening a space whose close is still running on its closer thread (switched away
from a moment ago) never waits on the UI thread (issue 18): the open is queued and runs
once that close has ended; the latest request wins; a close that takes long is said so
in the status bar, and after ``CLOSE_WAIT_S`` the request is dropped with a message."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from studio.core.space import Space
from studio.ui import space_controller
from studio.ui.main_window import MainWindow
from tests.conftest import add_asset


class HeldClose:
    """Another thread in the middle of a long read of ``space``: its close (on the
    closer thread) cannot end before ``release()``."""

    def __init__(self, space: Space) -> None:
        self.reading, self._release = threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._read, args=(space,), daemon=True)
        self._thread.start()
        assert self.reading.wait(10)

    def _read(self, space: Space) -> None:
        with space.reading():
            self.reading.set()
            self._release.wait(30)

    def release(self) -> None:
        self._release.set()
        self._thread.join(10)


@pytest.fixture
def held(window: MainWindow) -> Iterator[list[HeldClose]]:
    holds: list[HeldClose] = []
    yield holds
    for h in holds:
        h.release()


def _open_with_a_card(window: MainWindow, qtbot: QtBot, name: str) -> Space:
    entry = window.studio.create_space(name)
    window.open_space(entry.id)
    space = window.space
    assert space is not None and space.id == entry.id
    add_asset(space, f"{name} card")
    qtbot.waitUntil(lambda: not window.scene.is_loading() and len(window.scene.cards()) == 1)
    return space


def test_reopening_a_space_still_closing_returns_at_once_and_opens_it_after_its_close(
    window: MainWindow, qtbot: QtBot, held: list[HeldClose]
) -> None:
    first = _open_with_a_card(window, qtbot, "First")
    second = window.studio.create_space("Second")
    held.append(HeldClose(first))
    window.open_space(second.id)  # First's close waits for the reader
    # a release on a timer: the old code joined the closer here, and would have
    # returned only then, its close ended
    threading.Timer(1.0, held[0].release).start()
    t0 = time.perf_counter()
    window.open_space(first.id)
    took = time.perf_counter() - t0
    assert held[0].reading.is_set() and not held[0]._release.is_set(), (
        f"the UI thread waited {took:.1f} s for the closer"
    )
    assert window.space is None  # nothing shown until its close ends
    assert window.space_control.waiting_for == first.id
    qtbot.waitUntil(lambda: window.space is not None, timeout=10_000)
    assert window.space is not None and window.space.id == first.id
    assert window.space is not first  # a fresh open of the file, not the closed one
    assert window.space_control.waiting_for is None
    qtbot.waitUntil(lambda: not window.scene.is_loading() and len(window.scene.cards()) == 1)
    assert [c.asset.name for c in window.scene.cards()] == ["First card"]
    assert window.windowTitle().startswith("First")


def test_the_latest_request_wins_over_one_waiting_for_a_close(
    window: MainWindow, qtbot: QtBot, held: list[HeldClose]
) -> None:
    first = _open_with_a_card(window, qtbot, "First")
    second = window.studio.create_space("Second")
    third = window.studio.create_space("Third")
    held.append(HeldClose(first))
    window.open_space(second.id)
    window.open_space(first.id)  # waits for First's close
    assert window.space_control.waiting_for == first.id
    window.open_space(third.id)  # the user changed their mind: opens at once
    assert window.space is not None and window.space.id == third.id
    assert window.space_control.waiting_for is None
    held[0].release()
    qtbot.waitUntil(lambda: first.id not in window.space_control._closing, timeout=10_000)
    qtbot.wait(50)  # the closer's queued word arrived: it opened nothing
    assert window.space is not None and window.space.id == third.id


def test_a_slow_close_is_said_and_a_stuck_one_gives_up(
    window: MainWindow, qtbot: QtBot, held: list[HeldClose], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _open_with_a_card(window, qtbot, "First")
    second = window.studio.create_space("Second")
    held.append(HeldClose(first))
    window.open_space(second.id)
    control = window.space_control
    control._slow.setInterval(20)  # SLOW_CLOSE_S in the test's time
    monkeypatch.setattr(space_controller, "CLOSE_WAIT_S", 3 * space_controller.SLOW_CLOSE_S)
    window.open_space(first.id)
    qtbot.waitUntil(lambda: "finished closing" in window.statusBar().currentMessage())
    assert "First" in window.statusBar().currentMessage()
    qtbot.waitUntil(lambda: control.waiting_for is None, timeout=5_000)
    assert "still closing" in window.statusBar().currentMessage()
    held[0].release()
    qtbot.waitUntil(lambda: first.id not in control._closing, timeout=10_000)
    qtbot.wait(50)
    assert window.space is None  # given up: the user opens it again
    window.open_space(first.id)
    assert window.space is not None and window.space.id == first.id


def test_the_panels_take_the_space_on_the_next_turn_or_before_its_first_event(
    window: MainWindow, qtbot: QtBot
) -> None:
    """The click's turn closes the last space and opens the next; the panels (the tray,
    jobs, assistant, people, details, collections) take it on the next turn (all in
    one turn made 50-100 ms at 50,000 assets), or at once when an event for them
    comes first."""
    first = _open_with_a_card(window, qtbot, "First")
    second = window.studio.create_space("Second")
    window.open_space(second.id)
    assert window.space is not None and window.space.id == second.id
    assert window.collections.space is None and window.jobs_panel.space is None
    qtbot.waitUntil(lambda: window.collections.space is window.space)
    assert window.jobs_panel.space is window.space
    window.space_control.finish_closing()
    window.open_space(first.id)
    space = window.space
    assert space is not None and window.collections.space is None
    add_asset(space, "New")  # its event reaches the panels after they have the space
    session = window.session
    assert session is not None
    session.follower.poll()
    assert window.collections.space is space and window.jobs_panel.space is space


def test_a_close_is_done_before_it_says_it_ended() -> None:
    """The UI thread that hears ``ended`` finds the close done, and never waits for it:
    said first, a closer thread starved before it set ``done`` left the reopen waiting
    (the handler gave it 1 s on the UI thread, then gave up for good)."""
    from types import SimpleNamespace

    from studio.ui.space_controller import _Close

    heard: list[tuple[str, bool]] = []

    class Session:
        space = SimpleNamespace(id="s1")

        def shut_down(self) -> None:
            pass

    class Ended:
        def emit(self, space_id: str) -> None:
            heard.append((space_id, close.done.is_set()))

    close = _Close(Session(), [], Ended())  # type: ignore[arg-type]
    close.run()
    assert heard == [("s1", True)]
