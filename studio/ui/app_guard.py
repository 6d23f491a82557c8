"""The desktop app's guards: the side of :mod:`studio.crash` (the log file, and a
message box that says where a crash report went — at most one open at a time, an error
raised on every paint must not bury the screen in boxes; later reports are still
written), and a clean stop on SIGTERM / SIGINT."""

from __future__ import annotations

import logging
import signal
from pathlib import Path
from types import FrameType

from PySide6.QtCore import QCoreApplication, Qt, QThread, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

from studio import crash

_open: list[QMessageBox] = []


def crash_message(path: Path | None, exc: BaseException) -> str:
    return (
        "Forge Studio hit an unexpected error and may not work as it should.\n\n"
        f"{crash.told(path, exc).capitalize()}.\n"
        "Please include that file when you report the problem (it holds no API keys)."
    )


def _show(path: Path | None, exc: BaseException) -> None:
    app = QCoreApplication.instance()
    if not isinstance(app, QApplication) or QThread.currentThread() is not app.thread():
        return  # off the UI thread: the report and the log line are all there is
    try:
        if _open and _open[0].isVisible():
            return
    except RuntimeError:  # its C++ side is gone
        pass
    _open.clear()
    box = QMessageBox(QMessageBox.Icon.Critical, "Forge Studio", crash_message(path, exc))
    box.setObjectName("crashBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    box.setModal(False)
    box.destroyed.connect(_open.clear)
    _open.append(box)
    box.show()


def install_crash_reports(home: Path | None) -> Path | None:
    """Log to ``logs/studio.log`` (rotated) and report every unhandled exception; the
    log file's path."""
    log_file = crash.log_to_file(home, logging.INFO)
    crash.install(home, _show, "desktop app")
    return log_file


def stop_on_signals(app: QCoreApplication, window: QWidget) -> QTimer:
    """SIGTERM and SIGINT close the window (which saves and closes the space, as a
    click on its close button does) and end the event loop. Python runs a signal
    handler only between bytecodes, so a timer wakes it while Qt waits.

    The handler itself only posts the stop to the event loop: it runs at whatever
    bytecode the main thread is on — inside an import (closing the space then waits
    on a thread that waits for that import's lock: a hang) or inside a scene's event
    dispatch (the cards it is sending to are removed under it: a crash)."""

    def close() -> None:
        window.close()
        app.quit()

    def stop(signum: int, frame: FrameType | None) -> None:
        logging.getLogger("studio").info("stopping on signal %d", signum)
        QTimer.singleShot(0, app, close)

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, stop)
    timer = QTimer(app)
    timer.setObjectName("signalWakeTimer")
    timer.timeout.connect(lambda: None)
    timer.start(200)
    return timer


__all__ = ["crash_message", "install_crash_reports", "stop_on_signals"]
