"""``STUDIO_FIRST_PAINT=exit`` (benchmarks): print ``first-paint <cards> <cpu>`` to
stdout at the first canvas frame that shows cards (``cpu``: the process's CPU seconds so
far, all threads), then close the app as its close button does.
``bench/bench_canvas.py`` times that line from the moment it starts the process."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

ENV = "STUDIO_FIRST_PAINT"


def watch(window: MainWindow) -> None:
    """If asked for by the environment, report the first frame with cards and quit."""
    if os.environ.get(ENV) != "exit":
        return
    from PySide6.QtCore import QTimer

    def painted() -> None:
        n = len(window.scene.cards())
        if n == 0:
            return
        window.view.painted.disconnect(painted)
        sys.stdout.write(f"first-paint {n} {time.process_time():.3f}\n")
        sys.stdout.flush()
        QTimer.singleShot(0, window.close)

    window.view.painted.connect(painted)
