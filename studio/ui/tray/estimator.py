"""The tray's cost estimate: asked of the space ~250 ms after each change, shown under
the operation; an estimate the space refuses disables Generate and says why."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QTimer

from studio.core.errors import StudioError
from studio.core.forge import ForgeOp
from studio.ui.tray.bar import retone
from studio.ui.tray.command import build_command, format_estimate

if TYPE_CHECKING:
    from studio.ui.tray.widget import ForgeTray

ESTIMATE_DELAY_MS = 250


class TrayEstimator(QObject):
    def __init__(self, tray: ForgeTray) -> None:
        super().__init__(tray)
        self.error: str | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(ESTIMATE_DELAY_MS)
        self.timer.timeout.connect(self.refresh)

    @property
    def tray(self) -> ForgeTray:
        """The parent (not kept in an attribute: no reference cycle, so a dropped
        ForgeTray is freed at once and its timers die with it)."""
        return cast("ForgeTray", self.parent())

    def refresh(self) -> None:
        """Estimate the request now (the tray does it ~250 ms after each change)."""
        t = self.tray
        self.timer.stop()
        v = t.show_verdict()
        if t.space is None or not v.ok:
            t.estimate.clear()
            return
        if v.op is ForgeOp.FORK:
            t.estimate.setText("free (copy)")
            t.estimate.setToolTip("Forking copies the variant: no provider call")
            return
        try:
            cmd = build_command(t.state(), t.options.model_spec(), (0.0, 0.0))
            est = t.space.estimate(cmd)
        except (StudioError, ValueError) as exc:
            self.error = exc.message if isinstance(exc, StudioError) else str(exc)
            message = self.error
            t.estimate.setText(message[:1].upper() + message[1:])
            t.estimate.setToolTip(self.error)
            retone(t.estimate, "warn")
            t.estimate.setWordWrap(True)
            t.generate_button.setEnabled(False)
            return
        t.estimate.setText(format_estimate(est, t.options.settings().provider))
        t.estimate.setToolTip(est.note)
        retone(t.estimate, "")
