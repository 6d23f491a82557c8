"""Small building blocks of the tray's options row."""

from __future__ import annotations

from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget


def param_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def fit_combo(name: str = "") -> QComboBox:
    """A combo that follows its items' width (they change with the model)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    if name:
        combo.setObjectName(name)
    return combo


class Field(QWidget):
    """A small caption and its input, shown or hidden together."""

    def __init__(self, caption: str, editor: QWidget, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(4)
        if caption:
            label = QLabel(caption)
            label.setObjectName("trayCaption")
            lay.addWidget(label)
        lay.addWidget(editor)
        self.editor = editor
