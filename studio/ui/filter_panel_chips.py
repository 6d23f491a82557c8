"""The filter panel's chips: the active filter, one small button per picked value,
wrapped over as many lines as the panel's width needs (click one to drop it)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtWidgets import QLabel, QLayout, QLayoutItem, QSizePolicy, QToolButton, QWidget


class FlowLayout(QLayout):
    """Children left to right, wrapping to a new line at the right edge."""

    def __init__(self, parent: QWidget | None = None, spacing: int = 4) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._gap = spacing
        self.setContentsMargins(0, 0, 0, 0)

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), move=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._place(rect, move=True)

    def sizeHint(self) -> QSize:
        return self.minimumSize()

    def minimumSize(self) -> QSize:
        size = QSize()
        for item in self._items:
            size = size.expandedTo(item.minimumSize())
        return size

    def _place(self, rect: QRect, *, move: bool) -> int:
        x, y, line = rect.x(), rect.y(), 0
        for item in self._items:
            hint = item.sizeHint()
            if x + hint.width() > rect.right() and line > 0:
                x, y, line = rect.x(), y + line + self._gap, 0
            if move:
                item.setGeometry(QRect(QPoint(x, y), hint))
            x += hint.width() + self._gap
            line = max(line, hint.height())
        return y + line - rect.y()


class ChipRow(QWidget):
    """Shows chips for ``(text, on_click)`` pairs; "No filters" when there are none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._flow = FlowLayout(self)
        sp = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        sp.setHeightForWidth(True)
        self.setSizePolicy(sp)

    def show_chips(self, chips: Iterable[tuple[str, Callable[[], None]]]) -> None:
        while (item := self._flow.takeAt(0)) is not None:
            if (w := item.widget()) is not None:
                w.hide()  # gone from sight now, not at the next turn of the loop
                w.deleteLater()
        shown = 0
        for text, drop in chips:
            chip = QToolButton(self)
            chip.setObjectName("filterChip")
            chip.setText(f"{text}  ✕")
            chip.setToolTip("Remove this filter")
            chip.clicked.connect(lambda _=False, d=drop: d())
            self._flow.addWidget(chip)
            shown += 1
        if not shown:
            self._flow.addWidget(QLabel("No filters", self))
        self.updateGeometry()

    def texts(self) -> list[str]:
        out = []
        for i in range(self._flow.count()):
            item = self._flow.itemAt(i)
            w = item.widget() if item is not None else None
            if isinstance(w, QToolButton):
                out.append(w.text().removesuffix("  ✕"))
        return out
