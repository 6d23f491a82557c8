"""Filter and find on the canvas (Ctrl+F)."""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from studio.ui.canvas.filtering import parse_query
from studio.ui.canvas.scene import CanvasScene
from studio.ui.icons import icon
from studio.ui.widgets import tool_button


class FindBar(QWidget):
    """Emits ``changed`` with the criteria; the window applies them to the canvas."""

    changed = Signal(dict)
    step = Signal(int)  # +1 next, -1 previous
    closed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("findBar")
        self.text = QLineEdit(placeholderText="Find by name, type, tag or prompt…")
        self.text.setClearButtonEnabled(True)
        self.kind = QComboBox()
        self.kind.addItems(["All kinds", "image", "audio", "video"])
        self.starred = QCheckBox("Starred")
        self.count = QLabel("")
        prev_b = tool_button("↑", "Previous match (Shift+Enter)")
        next_b = tool_button("↓", "Next match (Enter)")
        close_b = tool_button("", "Close (Esc)")
        close_b.setIcon(icon("close"))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        for w in (self.text, self.kind, self.starred, self.count, prev_b, next_b, close_b):
            layout.addWidget(w)
        layout.setStretch(0, 1)
        self.text.textChanged.connect(self._emit)
        self.kind.currentIndexChanged.connect(self._emit)
        self.starred.toggled.connect(self._emit)
        self.text.returnPressed.connect(lambda: self.step.emit(1))
        prev_b.clicked.connect(lambda: self.step.emit(-1))
        next_b.clicked.connect(lambda: self.step.emit(1))
        close_b.clicked.connect(self.close_bar)

    def criteria(self) -> dict[str, object]:
        kind = self.kind.currentText()
        return {
            "text": self.text.text().strip(),
            "media_kind": None if kind == "All kinds" else kind,
            "starred": self.starred.isChecked(),
        }

    def _emit(self) -> None:
        self.changed.emit(self.criteria())

    def open_bar(self) -> None:
        self.show()
        self.text.setFocus()
        self.text.selectAll()

    def close_bar(self) -> None:
        self.hide()
        self.text.clear()
        self.kind.setCurrentIndex(0)
        self.starred.setChecked(False)
        self.closed.emit()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.close_bar()
            return
        super().keyPressEvent(event)

    def set_count(self, current: int, total: int) -> None:
        self.count.setText("no matches" if total == 0 else f"{current} of {total}")


class FindController(QObject):
    """Applies the find bar's criteria to the canvas and steps through the matches."""

    def __init__(self, bar: FindBar, scene: CanvasScene, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.bar = bar
        self.scene = scene
        self._match = 0
        bar.changed.connect(self._find_changed)
        bar.step.connect(self._find_step)
        bar.closed.connect(scene.finder.clear_filter)

    def _find_changed(self, criteria: dict[str, object]) -> None:
        query = parse_query(str(criteria.get("text") or ""))
        kind = criteria.get("media_kind")
        query = dataclasses.replace(
            query,
            media_kinds=query.media_kinds | {str(kind)} if kind else query.media_kinds,
            starred=True if criteria.get("starred") else query.starred,
        )
        total = self.scene.finder.set_filter(None if query.empty else query)
        self._match = 0
        self.bar.set_count(1 if total else 0, total)
        if total:
            self.scene.finder.focus_match(0)

    def _find_step(self, delta: int) -> None:
        total = len(self.scene.finder.matches())
        if not total:
            return
        self._match = (self._match + delta) % total
        self.scene.finder.focus_match(self._match)
        self.bar.set_count(self._match + 1, total)
