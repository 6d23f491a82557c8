"""The parts of the main window the first frame does without: the Forge tray (it builds
the provider registry, which asks the keyring for keys), the assistant, the jobs panel
and sharing (websockets, asyncio). Their docks exist from the start, empty, so the saved
layout and the View menu find them; :func:`build` fills them once the first frame is on
screen (the app), or at the end of the window's construction (``MainWindow(defer=False)``,
tests and tools), or the first time code asks the window for one of them."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

LATER = frozenset({"tray", "enhancer", "assistant", "jobs_panel", "sharing", "people"})
"""The window's attributes :func:`build` makes."""

_DONE = "_later_built"
FALLBACK_MS = 10_000
"""The app builds them this long after the window shows at the latest (should no frame
ever be painted)."""


TRAY_HEIGHT = 89
"""The Forge tray's minimum height (default style and font): its empty dock keeps this
room, so the canvas does not resize (and a fit-all stays fitting) when it arrives."""


def placeholder(min_height: int = 0) -> QWidget:
    """What an empty dock holds until :func:`build` fills it."""
    room = QWidget()
    room.setMinimumHeight(min_height)
    return room


def built(window: MainWindow) -> bool:
    """Built, being built, or never to be (closed first)."""
    return bool(window.__dict__.get(_DONE))


def ready(window: MainWindow) -> bool:
    """The parts exist (the tray is made last)."""
    return "tray" in window.__dict__


def build(window: MainWindow) -> None:
    """Make the deferred parts (once) and bring them up to the open space."""
    if built(window):
        return
    window.__dict__[_DONE] = True
    from studio.assistant.setup import client_for, has_key
    from studio.ui.assistant import ChatDockWidget
    from studio.ui.assistant.tray_fill import fill_window_tray
    from studio.ui.jobs_panel import JobsPanel
    from studio.ui.sharing import window as sharing_window

    w = window
    lib = w.studio.library
    w.jobs_panel = JobsPanel(w)
    w.jobs_dock.setWidget(w.jobs_panel)
    w.jobs_panel.counts_changed.connect(w.status_control.counts_changed)
    w.sharing, w.people = sharing_window.install(w, w.centre_layout, w.people_dock)
    w.assistant = ChatDockWidget(w, lambda: client_for(lib), lambda: has_key(lib))
    w.assistant_dock.setWidget(w.assistant)
    w.tray = w.make_tray()
    w.tray_dock.setWidget(w.tray)
    w.assistant.tray_fill.connect(lambda fill: fill_window_tray(w, fill))
    w.assistant.add_key.connect(lambda: w.open_preferences("keys"))
    space = w.space
    if space is not None:
        w.jobs_panel.set_space(space)
        w.tray.set_space(space)
        w.assistant.set_space(space)
        w.people.set_space(space.id)
        w.sharing.space_opened(space)
    w.status_control.update_status()


class _Arrived(QObject):
    """Brings the news that the provider catalog is built to the UI thread."""

    arrived = Signal()

    def tell(self, _catalog: object) -> None:
        try:
            self.arrived.emit()
        except RuntimeError:  # the window (this object's parent) was deleted meanwhile
            pass


def after_first_frame(window: MainWindow, then: Callable[[], None]) -> None:
    """Build the deferred parts, then call ``then``, once the canvas's first complete
    frame is on screen — with cards, or of a space with none (once its snapshot is in),
    or with no space open (else :data:`FALLBACK_MS` after this call; never once the
    window has closed) — and the studio's provider catalog, whose building on a thread
    starts then, is there (the Forge tray lists its providers)."""
    done: list[bool] = []

    def go() -> None:
        if done or (built(window) and not ready(window)):
            return  # once; not after a close
        done.append(True)
        catalog = window.studio.start_catalog()
        if catalog is None or catalog.ready():
            finish()
            return
        relay = _Arrived(window)
        relay.arrived.connect(finish)
        catalog.when_ready(relay.tell)

    def finish() -> None:
        if built(window) and not ready(window):
            return  # closed meanwhile
        build(window)
        then()

    def painted() -> None:
        scene, space = window.scene, window.space
        if scene.cards() or space is None or (scene.space is space and not scene.is_loading()):
            window.view.painted.disconnect(painted)
            QTimer.singleShot(0, window, go)

    window.view.painted.connect(painted)
    QTimer.singleShot(FALLBACK_MS, window, go)


def skip(window: MainWindow) -> None:
    """Never build them (the window closes first)."""
    window.__dict__[_DONE] = True
