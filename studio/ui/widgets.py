"""Small widget builders. PySide6 accepts any Qt property as a constructor keyword
(``QToolButton(text=…, toolTip=…)``), but its stubs list only a class's own properties,
so these set the inherited ones explicitly and keep the UI type-checked."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QDialog, QInputDialog, QToolButton, QWidget

ObjT = TypeVar("ObjT", bound=QObject)


TYPES = (
    "character",
    "item",
    "prop",
    "scene",
    "background",
    "ui",
    "sfx",
    "music",
    "speech",
    "dialogue",
    "animation",
    "clip",
)
"""The asset types offered wherever a type is chosen (it stays free text)."""


def type_choices(current: str) -> list[str]:
    """The type list, with an asset's own type first when it is not one of them."""
    kinds = list(TYPES)
    if current and current not in kinds:
        kinds.insert(0, current)
    return kinds


def _wide_enough(dialog: QInputDialog, title: str) -> None:
    """Wide enough for its title: a narrow dialog's title bar shows "Renam…frame"."""
    width = dialog.fontMetrics().horizontalAdvance(title) * 2 + 160
    dialog.setMinimumWidth(max(360, width))


def ask_text(parent: QWidget, title: str, label: str, default: str) -> str | None:
    """One line of text from the user (None: cancelled)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setTextValue(default)
    _wide_enough(dialog, title)
    ok = dialog.exec() == QDialog.DialogCode.Accepted
    text = dialog.textValue()
    dialog.deleteLater()
    return text if ok else None


def ask_choice(
    parent: QWidget, title: str, label: str, choices: list[str], current: str
) -> str | None:
    """A value picked from ``choices`` or typed (None: cancelled)."""
    dialog = QInputDialog(parent)
    dialog.setWindowTitle(title)
    dialog.setLabelText(label)
    dialog.setComboBoxItems(choices)
    dialog.setComboBoxEditable(True)
    dialog.setTextValue(current)
    _wide_enough(dialog, title)
    ok = dialog.exec() == QDialog.DialogCode.Accepted
    text = dialog.textValue()
    dialog.deleteLater()
    return text if ok else None


def tool_button(text: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    return b


def named(obj: ObjT, name: str) -> ObjT:
    """``obj`` with its ``objectName`` set (tests find widgets by it)."""
    obj.setObjectName(name)
    return obj
