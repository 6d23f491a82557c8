"""SIGTERM / SIGINT stop the app from the event loop, never inside the code the signal
interrupted: the handler ran ``window.close()`` at whatever bytecode the main thread
was on — inside an import it hung (closing the space waited on a thread waiting for
that import's lock), inside a scene's event dispatch it crashed (seen in CI)."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QObject
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QWidget

from studio.ui.app_guard import stop_on_signals


class _App(QObject):
    """Stands in for the application: its quit must not end pytest-qt's loops."""

    def __init__(self) -> None:
        super().__init__()
        self.quits = 0

    def quit(self) -> None:
        self.quits += 1


class _Window(QWidget):
    def __init__(self, seen: list[str]) -> None:
        super().__init__()
        self.seen = seen

    def closeEvent(self, event: QCloseEvent) -> None:
        self.seen.append("closed")
        super().closeEvent(event)


@pytest.fixture
def handlers() -> Iterator[None]:
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for s, h in saved.items():
        signal.signal(s, h)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_closes_the_window_from_the_event_loop_not_where_it_landed(  # type: ignore[no-untyped-def]
    qtbot, handlers: None, signum: int
) -> None:
    seen: list[str] = []
    app, window = _App(), _Window(seen)
    qtbot.addWidget(window)
    window.show()
    wake = stop_on_signals(app, window)  # type: ignore[arg-type]
    try:
        os.kill(os.getpid(), signum)
        total = sum(range(1000))  # the handler has run by now (between these bytecodes)
        seen.append("interrupted code went on")
        assert total == 499500
        assert seen == ["interrupted code went on"]  # nothing closed under it
        qtbot.waitUntil(lambda: app.quits == 1, timeout=2000)
        assert seen == ["interrupted code went on", "closed"]
        assert not window.isVisible()
    finally:
        wake.stop()
