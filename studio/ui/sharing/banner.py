"""The strip above the canvas of a joined space while it is not live: "Reconnecting…"
with the time offline and the changes waiting, or why the host ended the link."""

from __future__ import annotations

import time

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel

from studio.sync.link import LinkState

OFFLINE_STYLE = "QFrame#connectionBanner { background: #5a4a12; } QLabel { color: #fff3c4; }"
ENDED_STYLE = "QFrame#connectionBanner { background: #5c1f1f; } QLabel { color: #ffd6d6; }"


def _elapsed(seconds: float) -> str:
    s = int(seconds)
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"


class ConnectionBanner(QFrame):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("connectionBanner")
        self.label = QLabel()
        self.label.setObjectName("connectionBannerText")
        self.label.setWordWrap(True)
        row = QHBoxLayout(self)
        row.setContentsMargins(10, 4, 10, 4)
        row.addWidget(self.label, 1)
        self._state: LinkState | None = None
        self._tick = QTimer(self, interval=1000)
        self._tick.timeout.connect(self._render)
        self.hide()

    def show_state(self, state: LinkState | None) -> None:
        self._state = state
        if state is None or state.state in ("live", "connecting"):
            self._tick.stop()
            self.hide()
            return
        self.setStyleSheet(ENDED_STYLE if state.state == "ended" else OFFLINE_STYLE)
        if state.state == "offline":
            self._tick.start()
        else:
            self._tick.stop()
        self._render()
        self.show()

    def _render(self) -> None:
        state = self._state
        if state is None:
            return
        waiting = ""
        if state.pending:
            n = state.pending
            waiting = f" · {n} edit{'s' if n != 1 else ''} waiting to send"
        if state.state == "ended":
            self.label.setText(
                f"Disconnected from the host: {state.detail}. The space stays browsable here; "
                f"changes can no longer be sent.{waiting}"
            )
            return
        since = state.offline_since
        gone = f" — offline for {_elapsed(time.monotonic() - since)}" if since else ""
        self.label.setText(
            f"Reconnecting to the host…{gone}{waiting}. You can keep browsing; "
            "your changes are kept and sent when it is back."
        )
