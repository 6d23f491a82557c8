"""The jobs panel's problem note: one job's problem in full, wrapped under the table, so
it reads at any dock width instead of as "T…" in a cell behind a scroll bar."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy

from studio.ui.jobs.model import JobLine

STYLE = (
    "QLabel#jobsProblem { color: #f0c2bc; background: #2a2226; border-radius: 4px; padding: 6px; }"
)


class ProblemNote(QLabel):
    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("jobsProblem")
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        # never asks the dock for width: it wraps to what it is given
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Maximum)
        self.setStyleSheet(STYLE)
        self.hide()

    def show_for(self, selected: Sequence[JobLine], lines: Sequence[JobLine]) -> None:
        """The first selected job's problem, else the newest shown job's that has one. A
        cancelled job is no problem (the user asked for it): said only when selected."""
        pool = selected or [x for x in lines if x.job.status != "cancelled"]
        line = next((x for x in pool if x.advice is not None and x.advice.text), None)
        if line is None or line.advice is None:
            self.clear()
            self.hide()
            return
        self.setText(f"{line.what.name}: {line.advice.full}")
        self.show()
