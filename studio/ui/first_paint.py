"""``STUDIO_FIRST_PAINT=exit`` (benchmarks): print ``first-paint <cards> <cpu>`` to
stdout at the first canvas frame that shows cards (``cpu``: the process's CPU seconds so
far, all threads), then close the app as its close button does.
``bench/bench_canvas.py`` times that line from the moment it starts the process.
``STUDIO_FIRST_PAINT_MODULES=FILE`` also writes the names of the modules imported by then
to FILE, one a line (tests keep what the first frame does without off the start path)."""

from __future__ import annotations

import os
import sys
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

ENV = "STUDIO_FIRST_PAINT"
MODULES_ENV = "STUDIO_FIRST_PAINT_MODULES"


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
        if listing := os.environ.get(MODULES_ENV):
            with open(listing, "w", encoding="utf-8") as out:
                out.write("".join(f"{name}\n" for name in sorted(sys.modules)))
        QTimer.singleShot(0, window.close)

    window.view.painted.connect(painted)
