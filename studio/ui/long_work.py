"""A long core call, run off the UI thread while the window waits visibly.

A step of tens of thousands of commands (a select-all's delete, tag or undo on a
50,000-card space) takes the door 5-25 s. On the UI thread that froze the window with
no sign of life. :func:`wait_for` runs such a call on a thread of its own, shows a busy
dialog after a moment, and waits in a local event loop, so the window keeps painting
and the feed keeps delivering other writers' changes. The dialog is modal, so no other
edit starts meanwhile. Callers use it only for big work: a small step stays on the UI
thread, where it costs less than the hop.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import QEvent, QEventLoop, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QApplication, QProgressDialog

T = TypeVar("T")

BIG_STEP = 2_000
"""Commands in one step from which the door runs off the UI thread (~0.25 s and up)."""
SHOW_AFTER_MS = 300
"""The busy dialog appears only for work that lasts longer than this."""


class _Done(QObject):
    finished = Signal()


def wait_for(fn: Callable[[], T], text: str) -> T:
    """``fn()`` on a worker thread; its result, or its exception raised here. Meanwhile
    the event loop runs (paints, timers, the feed) and a modal busy dialog saying
    ``text`` keeps input away from the window."""
    out: dict[str, Any] = {}
    done = _Done()
    loop = QEventLoop()
    done.finished.connect(loop.quit, Qt.ConnectionType.QueuedConnection)

    def work() -> None:
        try:
            out["value"] = fn()
        except BaseException as exc:  # handed to the caller, on its thread
            out["error"] = exc
        finally:
            done.finished.emit()

    dialog = QProgressDialog(text, "", 0, 0, QApplication.activeWindow())
    dialog.setWindowTitle("Forge Studio")
    dialog.setCancelButton(None)  # a step is all or nothing: it runs to its end
    dialog.setWindowModality(Qt.WindowModality.ApplicationModal)
    dialog.setMinimumDuration(0)
    dialog.reset()  # QProgressDialog shows itself after a while otherwise
    dialog.hide()
    shown = QTimer(singleShot=True, interval=SHOW_AFTER_MS)
    shown.timeout.connect(dialog.show)
    thread = threading.Thread(target=work, name="long-work", daemon=True)
    thread.start()
    shown.start()
    # modal meanwhile even before the dialog shows: no click or key reaches the window
    blocker = _InputBlocker()
    app = QApplication.instance()
    if app is not None:
        app.installEventFilter(blocker)
    try:
        loop.exec()
    finally:
        if app is not None:
            app.removeEventFilter(blocker)
        shown.stop()
        dialog.hide()
        dialog.deleteLater()
        thread.join()
    if "error" in out:
        raise out["error"]
    return out["value"]


class _InputBlocker(QObject):
    """Drops mouse and key input while the work runs (before the modal dialog shows)."""

    _INPUT = frozenset(
        {
            QEvent.Type.MouseButtonPress,
            QEvent.Type.MouseButtonRelease,
            QEvent.Type.MouseButtonDblClick,
            QEvent.Type.KeyPress,
            QEvent.Type.KeyRelease,
            QEvent.Type.Wheel,
            QEvent.Type.ShortcutOverride,
            QEvent.Type.Shortcut,
        }
    )

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        return event.type() in self._INPUT
