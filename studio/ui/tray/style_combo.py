"""The tray's style choice: "Default style" (named when the space has a default
preset: "Default style (X)"), "No style", each preset, and "Edit presets…" (opens the
style preset editor; the choice stays as it was)."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox

from studio.store.records import StylePresetRow
from studio.ui.tray.state import STYLE_DEFAULT, STYLE_NONE

EDIT = "edit-presets"
EDIT_TEXT = "Edit presets…"


class StyleCombo(QComboBox):
    edit_requested = Signal()
    chosen = Signal()  # the user picked another style

    def __init__(self) -> None:
        super().__init__()
        self.setObjectName("trayStyle")
        self.setToolTip("Style preset: its prompt and reference images go with every request")
        self._choice = STYLE_DEFAULT
        self._index = 0
        self._quiet = 0
        self.default_name: str | None = None
        self.currentIndexChanged.connect(self._picked)
        self.set_styles([])

    def set_styles(self, styles: Sequence[StylePresetRow], current: str | None = None) -> None:
        """Refill (keeping the choice while it still exists; ``current``: choose it)."""
        keep = current if current is not None else self._choice
        default = next((s for s in styles if s.is_default and s.enabled), None)
        self.default_name = default.name if default is not None else None
        self._quiet += 1
        try:
            self.clear()
            label = f"Default style ({default.name})" if default else "Default style"
            self.addItem(label, STYLE_DEFAULT)
            self.addItem("No style", STYLE_NONE)
            for s in sorted(styles, key=lambda s: s.name.lower()):
                self.addItem(s.name if s.enabled else f"{s.name} (off)", s.id)
            self.insertSeparator(self.count())
            self.addItem(EDIT_TEXT, EDIT)
            found = self.findData(keep)  # a preset deleted since: the default
            self.setCurrentIndex(max(0, found))
            self._index = self.currentIndex()
            self._choice = str(self.currentData())
        finally:
            self._quiet -= 1

    def choice(self) -> str:
        """``STYLE_DEFAULT``, ``STYLE_NONE`` or a preset id."""
        return self._choice

    def label(self) -> str:
        """What the collapsed tray says about the style ("" for none)."""
        if self._choice == STYLE_DEFAULT:
            return f"style {self.default_name}" if self.default_name else ""
        if self._choice == STYLE_NONE:
            return "no style"
        return f"style {self.currentText()}"

    def _picked(self, index: int) -> None:
        if self._quiet:
            return
        data = self.itemData(index)
        if data == EDIT:
            self._quiet += 1
            try:
                self.setCurrentIndex(self._index)  # the choice stays
            finally:
                self._quiet -= 1
            self.edit_requested.emit()
            return
        self._index = index
        self._choice = str(data) if data else STYLE_DEFAULT
        self.chosen.emit()
