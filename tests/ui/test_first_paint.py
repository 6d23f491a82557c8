"""The app's first frame: what it imports before it, and the window completed after it.

The first frame of the canvas needs Qt, the core and the canvas; sharing (websockets,
asyncio), the assistant (its SDKs, Pillow), the Forge tray, the jobs panel, archives and
the media libraries are imported or built after it (``studio.ui.window_later``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.studio import Studio
from studio.ui import first_paint, window_later
from tests.conftest import OWNER

ROOT = Path(__file__).resolve().parents[2]

OFF_THE_START_PATH = (
    "asyncio",
    "websockets",
    "zeroconf",
    "av",
    "PIL",
    "anthropic",
    "google.genai",
    "elevenlabs",
    "studio.sync",
    "studio.assistant",
    "studio.core.archive",
    "studio.ui.assistant",
    "studio.ui.sharing",
    "studio.ui.tray",
    "studio.ui.jobs_panel",
    "studio.ui.preferences",
    "studio.ui.style_presets",
    "studio.ui.details.full_view",
    # the provider catalog (the keyring, the providers) is built after the first frame,
    # and the session's job scheduler starts when it is there
    "keyring",
    "workers.local",
    "studio.jobs.scheduler",
    "studio.core.handlers",
    # exports, conversions, imports and the help dialog when asked for
    "studio.core.exports",
    "studio.core.convert",
    "studio.core.imports",
    "studio.media.provenance",
    "studio.ui.help_dialog",
    "studio.appinfo",
    "urllib.request",
    "http.client",
    "ctypes",  # FFmpeg's log level is lowered after the first frame
    "multiprocessing",  # only a frozen bundle needs it at start
)
"""Packages (and their submodules) the app must not have imported at its first frame.
(numpy is not among them: the filter worker's thread builds its facet index when the
Filters panel reports itself visible, which Qt does for a tab behind another until the
dock layout settles after the first show.)"""


def _home_with_cards(home: Path, n: int) -> str:
    with Studio(home) as studio:
        entry = studio.create_space("Start")
        space = studio.open_space(entry.id)
        try:
            for i in range(n):
                space.apply(c.CreateAsset(f"Card {i}", c.MediaKindName.IMAGE, x=i * 300), OWNER)
        finally:
            space.close()
    return entry.id


def _off_path(modules: set[str]) -> list[str]:
    return sorted(m for m in modules for p in OFF_THE_START_PATH if m == p or m.startswith(p + "."))


def test_the_first_frame_imports_nothing_it_does_not_show(tmp_path: Path) -> None:
    home = tmp_path / "home"
    _home_with_cards(home, 3)
    listing = tmp_path / "modules.txt"
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        QT_QPA_PLATFORM="offscreen",
        **{first_paint.ENV: "exit", first_paint.MODULES_ENV: str(listing)},
    )
    done = subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home)],
        env=env,
        capture_output=True,
        timeout=120,
        check=False,
    )
    lines = done.stdout.decode().split()
    assert lines[:2] == ["first-paint", "3"], done.stderr.decode()[-2000:]
    modules = set(listing.read_text().split())
    assert "studio.ui.canvas.scene" in modules  # the listing is the app's, at that frame
    assert _off_path(modules) == []


@pytest.mark.usefixtures("qapp")
def test_the_window_is_complete_soon_after_its_first_frame(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.app import build_window
    from studio.ui.assistant import ChatDockWidget
    from studio.ui.jobs_panel import JobsPanel
    from studio.ui.sharing.people_panel import PeoplePanel
    from studio.ui.tray import ForgeTray

    home = tmp_path / "home"
    sid = _home_with_cards(home, 2)
    window = build_window(home, defer=True)
    qtbot.addWidget(window)
    assert not window_later.ready(window)  # nothing of it before the first frame
    assert window.space is not None and window.space.id == sid
    assert window.tray_dock.widget() is not None  # the docks exist (saved layouts, menus)
    names = [a.objectName() for a in window.menuBar().actions()] + [
        a.text() for a in window.menuBar().actions()
    ]
    assert "&Generate" in names
    window.show()
    qtbot.waitUntil(lambda: window_later.ready(window), timeout=20_000)
    assert len(window.scene.cards()) == 2
    assert isinstance(window.tray_dock.widget(), ForgeTray)
    assert isinstance(window.assistant_dock.widget(), ChatDockWidget)
    assert isinstance(window.jobs_dock.widget(), JobsPanel)
    assert isinstance(window.people_dock.widget(), PeoplePanel)
    assert window.tray.space is window.space  # brought up to the open space
    assert window.provider_label.text().startswith("Providers: local")
    window.close()
    QApplication.processEvents()


@pytest.mark.usefixtures("qapp")
def test_a_deferred_part_asked_for_early_is_built_then(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.app import build_window

    home = tmp_path / "home"
    _home_with_cards(home, 1)
    window = build_window(home, defer=True)
    qtbot.addWidget(window)
    assert not window_later.ready(window)
    assert window.jobs_panel is window.jobs_dock.widget()  # built on the first ask
    assert window_later.ready(window)
    assert window.tray.space is window.space
    window.close()


@pytest.mark.usefixtures("qapp")
def test_no_empty_space_message_while_the_snapshot_is_read(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.app import build_window
    from studio.ui.empty_state import EMPTY_SPACE

    home = tmp_path / "home"
    full = _home_with_cards(home, 2)
    window = build_window(home, defer=True)  # opens the last space: `full`
    qtbot.addWidget(window)
    window.show()
    assert window.space is not None and window.space.id == full
    assert window.view.empty_state.message() is None  # was "This space is empty"
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 2, timeout=20_000)
    assert window.view.empty_state.message() is None
    empty = window.studio.create_space("Empty")
    window.open_space(empty.id)
    assert window.view.empty_state.message() is None  # not before its snapshot is in
    qtbot.waitUntil(lambda: window.view.empty_state.message() == EMPTY_SPACE, timeout=20_000)
    window.close()
