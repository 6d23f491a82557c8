"""A calm dark theme (Fusion + palette + a little style sheet)."""

from __future__ import annotations

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

STYLE = """
QMainWindow, QDockWidget { background: #1e2127; }
QDockWidget::title { padding: 6px; background: #252932; color: #c9ced8; }
QListWidget#spacesList { background: #1b1e24; border: none; }
QListWidget#spacesList::item { padding: 8px 6px; border-bottom: 1px solid #2a2e37; }
QListWidget#spacesList::item:selected { background: #2f4a6e; color: white; }
QLabel#inspectorTitle { font-size: 15px; font-weight: 600; padding: 4px 0; }
QWidget#findBar { background: #252932; border-bottom: 1px solid #333842; }
QStatusBar { background: #1b1e24; color: #9aa3b2; }
QStatusBar QLabel { padding: 0 8px; }
"""


DISABLED = {
    QPalette.ColorRole.WindowText: "#5d6470",
    QPalette.ColorRole.Text: "#5d6470",
    QPalette.ColorRole.ButtonText: "#5d6470",
    QPalette.ColorRole.Button: "#23262d",
    QPalette.ColorRole.Base: "#1e2127",
    QPalette.ColorRole.HighlightedText: "#9aa3b2",
    QPalette.ColorRole.Highlight: "#2f3a4a",
}
"""The colours of disabled widgets (the palette's disabled group)."""


def apply_theme() -> None:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    app.setStyle("Fusion")
    pal = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#1e2127",
        QPalette.ColorRole.WindowText: "#d7dce5",
        QPalette.ColorRole.Base: "#1b1e24",
        QPalette.ColorRole.AlternateBase: "#23272f",
        QPalette.ColorRole.Text: "#d7dce5",
        QPalette.ColorRole.Button: "#2a2e37",
        QPalette.ColorRole.ButtonText: "#d7dce5",
        QPalette.ColorRole.Highlight: "#3a7bd5",
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.ToolTipBase: "#2a2e37",
        QPalette.ColorRole.ToolTipText: "#e6e9ef",
        QPalette.ColorRole.PlaceholderText: "#7d8594",
    }
    for role, colour in colours.items():
        pal.setColor(role, QColor(colour))  # every colour group: active, inactive, disabled
    # ... then the disabled group dimmed: a disabled button, field or list must look it
    # (they looked like the enabled ones: the share dialog's invite box before sharing)
    for role, colour in DISABLED.items():
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(colour))
    app.setPalette(pal)
    app.setStyleSheet(STYLE)
