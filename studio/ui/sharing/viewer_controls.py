"""A viewer of a joined space sees everything and can change nothing: the controls that
change the space are disabled — not hidden — with a tooltip that says why."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtGui import QAction
from PySide6.QtWidgets import QWidget

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

EDIT_ACTIONS = ("delete", "generate", "focusTray", "import", "frameSelection", "newCollection")
"""Menu actions (object names) that change the space."""


def _widgets(w: MainWindow) -> list[QWidget]:
    return [w.tray, w.inspector.form, w.inspector.core.action_bar, w.collections]


def apply(w: MainWindow, reason: str | None) -> None:
    """Disable (``reason``: why) or enable again the space-changing controls."""
    tip = f"Not available: {reason}" if reason else ""
    w.inspector.form.read_only = reason or ""  # it enables itself per asset otherwise
    for widget in _widgets(w):
        widget.setEnabled(reason is None and widget is not w.inspector.form)
        widget.setToolTip(tip)
    w.inspector.form.setEnabled(reason is None and w.inspector.form.asset is not None)
    for action in w.findChildren(QAction):
        if action.objectName() in EDIT_ACTIONS:
            action.setEnabled(reason is None)
            action.setToolTip(tip or action.text().replace("&", ""))
