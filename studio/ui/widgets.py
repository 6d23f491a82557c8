"""Small widget builders. PySide6 accepts any Qt property as a constructor keyword
(``QToolButton(text=…, toolTip=…)``), but its stubs list only a class's own properties,
so these set the inherited ones explicitly and keep the UI type-checked."""

from __future__ import annotations

from typing import TypeVar

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QToolButton

ObjT = TypeVar("ObjT", bound=QObject)


def tool_button(text: str, tip: str) -> QToolButton:
    b = QToolButton()
    b.setText(text)
    b.setToolTip(tip)
    return b


def named(obj: ObjT, name: str) -> ObjT:
    """``obj`` with its ``objectName`` set (tests find widgets by it)."""
    obj.setObjectName(name)
    return obj
