"""Small building blocks of the tray's options row."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItemModel
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from studio.ui.tray.state import models_for

ADD_KEY = "addkey:"  # the data of a provider list entry that asks for a key


def param_label(name: str) -> str:
    return name.replace("_", " ").capitalize()


def fit_combo(name: str = "") -> QComboBox:
    """A combo that follows its items' width (they change with the model)."""
    combo = QComboBox()
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
    if name:
        combo.setObjectName(name)
    return combo


def add_keyless(combo: QComboBox, configured: Sequence[str], mode: str) -> None:
    """Every cloud provider without a key that can make ``mode``: greyed out with its
    models in the tooltip, and an "Add … key…" entry under it."""
    from workers.registry import CLOUD_PROVIDERS, KEY_LABELS, cloud_capabilities

    model = combo.model()
    for name in CLOUD_PROVIDERS:
        caps = cloud_capabilities(name)
        offered = models_for(caps, mode)
        if name in configured or not offered:
            continue
        combo.addItem(f"{caps.label} (no key)", None)
        row = combo.count() - 1
        if isinstance(model, QStandardItemModel):
            model.item(row).setEnabled(False)
        tip = "Models: " + ", ".join(m.label for m in offered)
        combo.setItemData(row, tip, Qt.ItemDataRole.ToolTipRole)
        combo.addItem(f"    Add a {KEY_LABELS.get(name, name)} key…", ADD_KEY + name)


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
