"""The providers' live lists are refreshed off the UI thread; the window hears of a change."""

from __future__ import annotations

import threading
from pathlib import Path

from pytestqt.qtbot import QtBot

from studio.core.errors import StorageError
from studio.store.library import Library
from studio.ui.list_refresh import ListRefresher


def test_a_changed_list_is_announced_on_the_ui_thread(qtbot: QtBot, tmp_path: Path) -> None:
    library = Library(tmp_path / "library.db")
    ran_on: list[threading.Thread] = []
    heard_on: list[threading.Thread] = []

    def refresh(lib: Library) -> bool:
        ran_on.append(threading.current_thread())
        return True

    try:
        refresher = ListRefresher(library, refresh)
        refresher.changed.connect(lambda: heard_on.append(threading.current_thread()))
        with qtbot.waitSignal(refresher.changed, timeout=2000):
            refresher.start()
        assert ran_on and ran_on[0] is not threading.main_thread()
        assert heard_on == [threading.main_thread()]
    finally:
        library.close()


def test_no_change_and_a_library_fault_stay_quiet(qtbot: QtBot, tmp_path: Path) -> None:
    library = Library(tmp_path / "library.db")

    def broken(lib: Library) -> bool:
        raise StorageError("the disk is full")

    heard: list[int] = []
    try:
        for refresh in (lambda lib: False, broken):
            refresher = ListRefresher(library, refresh)
            refresher.changed.connect(lambda: heard.append(1))
            refresher.start()
            assert refresher.finished.wait(2)
            qtbot.wait(50)
            assert heard == []
    finally:
        library.close()


def test_a_window_closed_during_the_fetch_is_no_error(qtbot: QtBot, tmp_path: Path) -> None:
    import shiboken6
    from PySide6.QtCore import QObject

    library = Library(tmp_path / "library.db")
    release = threading.Event()
    escaped: list[BaseException | None] = []
    old_hook = threading.excepthook
    threading.excepthook = lambda args: escaped.append(args.exc_value)

    def slow(lib: Library) -> bool:
        assert release.wait(5)
        return True

    try:
        window = QObject()
        refresher = ListRefresher(library, slow, window)
        refresher.start()
        shiboken6.delete(window)  # the window closes while the lists are fetched
        release.set()
        assert refresher.finished.wait(5)
        qtbot.wait(50)
        assert escaped == []
    finally:
        threading.excepthook = old_hook
        library.close()
