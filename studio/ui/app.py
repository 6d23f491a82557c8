"""Starting the desktop app."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from studio.core import settings
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.studio import Studio
from studio.core.welcome import create_welcome_space, needs_welcome

if TYPE_CHECKING:  # Qt is loaded only when the app starts, not when the CLI imports this
    from studio.ui.main_window import MainWindow


WINDOW_SHOWN = "main window shown"
"""Logged (to ``logs/studio.log`` too) when the event loop first runs with the window up."""


def build_window(home: Path | None = None, *, defer: bool = False) -> MainWindow:
    """Create the Studio and the main window (QApplication must exist). ``defer``: the
    parts the first frame does without are built after it (``studio.ui.window_later``)."""
    from studio.ui.main_window import LAST_SPACE_KEY, MainWindow
    from studio.ui.theme import apply_theme

    apply_theme()
    from studio.providers_setup import build_cached_providers, refresh_stale_lists
    from studio.ui.list_refresh import ListRefresher

    # from the cached lists: the UI thread never waits on the network; stale lists are
    # fetched on a thread of their own and the window rebuilds what lists providers.
    # ``defer``: the registry asks the keyring for every provider's key (a D-Bus round
    # trip, or a file read, and ~0.1 s of imports competing for the GIL): it is built on
    # a thread after the first frame, and the open space's jobs start when it is there
    studio = Studio(home, providers=build_cached_providers, catalog_later=defer)
    actor = Actor.local_owner()
    window = MainWindow(studio, actor, defer=defer)
    lists = ListRefresher(studio.library, refresh_stale_lists, window)
    lists.changed.connect(window._providers_changed)  # as a Preferences save
    first = None
    if needs_welcome(studio):
        first = create_welcome_space(studio, actor).id
        window.spaces.refresh()
    last = first or settings.get_or(studio.library, LAST_SPACE_KEY, None)
    spaces = studio.spaces()
    if last is None or not any(e.id == last for e in spaces):
        last = spaces[0].id if spaces else None
    if last is not None:
        window.open_space(last)
    if defer:  # only what the owner left shared; the lists once the catalog is in
        from studio.ui import window_later

        def later() -> None:
            window.sharing.resume()
            lists.start()

        window_later.after_first_frame(window, later)
    else:
        window.sharing.resume()
        lists.start()
    return window


def run(home: Path | None = None, target: str | None = None) -> int:
    """Start the app; ``target`` (``studio open``): a ``.forgespace`` file to import or
    a ``forge+wss:`` invite link to join."""
    from workers.redaction import install

    install(excepthook=True)  # no key in any log line, warning or traceback
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from PySide6.QtWidgets import QApplication, QMessageBox

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from studio.ui.gc_timer import MainThreadCollector

    # never free a Qt object off its thread; the first collection after the first frame
    collector = MainThreadCollector(app, start=False)
    from studio.ui.quiet import quiet_ffmpeg_log, quiet_qt_logs

    quiet_qt_logs()  # no probing chatter on the console (FFmpeg's "Input #0" dumps: below)
    app.setApplicationName("Forge Studio")
    app.setOrganizationName("Forge Studio")
    from studio.resources import app_icon_path

    icon = app_icon_path()
    if icon.is_file():
        from PySide6.QtGui import QIcon

        QApplication.setWindowIcon(QIcon(str(icon)))  # static: instance() is typed as the core app
    from studio.ui.app_guard import install_crash_reports, stop_on_signals

    install_crash_reports(home)  # a report in <data>/logs/, a box saying where; logs rotate
    from studio.ui import open_target

    joined = None
    if target and open_target.is_invite(target):
        joined = open_target.join_invite(home, target)
    try:
        window = build_window(home, defer=True)
    except StudioError as exc:
        QMessageBox.critical(None, "Forge Studio", exc.message)
        return 1
    except Exception as exc:  # a bug: reported like any other, then the app ends
        sys.excepthook(type(exc), exc, exc.__traceback__)
        return 1
    window.show()
    from studio.ui import first_paint, window_later

    def after_first_frame() -> None:
        collector.start()
        quiet_ffmpeg_log()  # before a player opens a file

    window_later.after_first_frame(window, after_first_frame)
    first_paint.watch(window)  # benchmarks: the first frame with cards, then quit
    wake = stop_on_signals(app, window)  # SIGTERM / SIGINT: close as the close button does
    from PySide6.QtCore import QTimer

    # once the loop runs (the window is mapped): the cold-start mark tests and README use
    QTimer.singleShot(0, lambda: logging.getLogger("studio").info(WINDOW_SHOWN))
    if joined is not None:
        window.open_space(joined)
    elif target and not open_target.is_invite(target):
        open_target.import_file(window, target)
    try:
        return int(app.exec())
    finally:
        wake.stop()
        collector.stop()
