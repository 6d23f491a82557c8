"""The asset's name, type and tags, edited inline: each commits on Enter or when focus
leaves (type also when picked from the list) as one undoable ``UpdateAsset`` step.
Also a small collapsible section used by the details views."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QLineEdit,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import commands as c
from studio.core.errors import StudioError
from studio.store.records import AssetRow
from studio.ui.host import StudioHost
from studio.ui.widgets import type_choices


def parse_tags(text: str) -> tuple[str, ...]:
    """``"hero, , Knight,hero"`` → ``("hero", "knight")``: trimmed, lower case, no blanks,
    no repeats (as the core stores them)."""
    seen: dict[str, None] = {}
    for part in text.split(","):
        tag = " ".join(part.split()).lower()
        if tag:
            seen.setdefault(tag, None)
    return tuple(seen)


class _LineEdit(QLineEdit):
    """Escape puts back the stored value."""

    reverted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() == Qt.Key.Key_Escape:
            self.reverted.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class AssetForm(QWidget):
    def __init__(self, host: StudioHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.host = host
        self.asset: AssetRow | None = None
        self.name = _LineEdit()
        self.name.setPlaceholderText("Name")
        self.name.setToolTip("Rename (Enter to apply, Esc to cancel)")
        self.type = QComboBox()
        self.type.setEditable(True)
        self.type.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.type.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.type.setToolTip("What the asset is (free text)")
        self.tags = _LineEdit()
        self.tags.setPlaceholderText("tags, comma separated")
        self.tags.setToolTip("Comma-separated tags (Enter to apply)")
        self.read_only = ""
        """Why the fields cannot change anything (a viewer of a joined space), or ""."""
        self.kept: tuple[str, ...] = ()
        """The fields whose unsaved text the last :meth:`set_asset` kept over a new value."""
        self.changed: tuple[str, ...] = ()
        """The stored fields (name, tags, type) the last :meth:`set_asset` saw change."""
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setVerticalSpacing(4)
        form.addRow("Name", self.name)
        form.addRow("Type", self.type)
        form.addRow("Tags", self.tags)
        self.name.editingFinished.connect(self.commit_name)
        self.name.reverted.connect(self._revert)
        self.tags.editingFinished.connect(self.commit_tags)
        self.tags.reverted.connect(self._revert)
        line = self.type.lineEdit()
        assert line is not None
        line.editingFinished.connect(self.commit_type)
        self.type.activated.connect(lambda _i: self.commit_type())

    def set_asset(self, asset: AssetRow | None, *, keep_typed: bool = True) -> None:
        """Show ``asset``'s values. A field being typed in keeps its text: while the
        stored value is the same (nothing to show), and also when someone else changed it
        under unsaved text — the text is never lost silently: :attr:`kept` names those
        fields (the window says so), Enter applies the text, Esc shows the stored value
        (``keep_typed=False``)."""
        old = self.asset
        self.asset = asset
        self.kept = ()
        self.changed = ()
        self.setEnabled(asset is not None and not self.read_only)
        if asset is None:
            for w in (self.name, self.tags):
                w.clear()
            self.type.setEditText("")
            return
        if old is not None and old.id == asset.id:
            self.changed = tuple(
                f for f in ("name", "tags", "type") if getattr(old, f) != getattr(asset, f)
            )
        same = keep_typed and old is not None and old.id == asset.id
        kept: list[str] = []
        if not (same and old is not None and self._keeps(self.name, old.name, asset.name)):
            self.name.setText(asset.name)
            self.name.setCursorPosition(0)
        elif old is not None and old.name != asset.name != self.name.text():
            kept.append("name")
        old_tags = ", ".join(old.tags) if old is not None else ""
        if not (same and self._keeps(self.tags, old_tags, ", ".join(asset.tags))):
            self.tags.setText(", ".join(asset.tags))
        elif old is not None and old.tags != asset.tags != parse_tags(self.tags.text()):
            kept.append("tags")
        self.kept = tuple(kept)
        blocker = self.type.blockSignals(True)
        try:
            self.type.clear()
            self.type.addItems(type_choices(asset.type))
            self.type.setEditText(asset.type)
        finally:
            self.type.blockSignals(blocker)

    @staticmethod
    def _keeps(field: QLineEdit, was: str, now: str) -> bool:
        """Leave ``field`` as it is: it is being typed in, and either the stored value
        did not change or the text differs from what was stored (unsaved)."""
        return field.hasFocus() and (was == now or field.text() != was)

    def _revert(self) -> None:
        self.set_asset(self.asset, keep_typed=False)

    def commit_name(self) -> bool:
        a = self.asset
        text = " ".join(self.name.text().split())
        if a is None or text == a.name:
            return False
        if not text:
            self.name.setText(a.name)
            self.host.show_error("An asset needs a name.")
            return False
        ok = self.host.run([c.UpdateAsset(a.id, name=text)], f"Rename to {text!r}")
        if not ok:
            self.name.setText(a.name)
        self._reload()
        return ok

    def commit_type(self) -> bool:
        a = self.asset
        text = self.type.currentText().strip()
        if a is None or text == a.type:
            return False
        ok = self.host.run([c.UpdateAsset(a.id, type=text)], "Change type")
        if not ok:
            self.type.setEditText(a.type)
        self._reload()
        return ok

    def commit_tags(self) -> bool:
        a = self.asset
        if a is None:
            return False
        tags = parse_tags(self.tags.text())
        if tags == a.tags:
            self.tags.setText(", ".join(a.tags))
            return False
        ok = self.host.run([c.UpdateAsset(a.id, tags=tags)], "Edit tags")
        if not ok:
            self.tags.setText(", ".join(a.tags))
        self._reload()
        return ok

    def _reload(self) -> None:
        """Re-read the asset after a commit (events may arrive later, or never here)."""
        space, a = self.host.space, self.asset
        if space is None or a is None:
            return
        try:
            self.set_asset(space.asset(a.id))
        except StudioError:
            pass


class Section(QWidget):
    """A titled section whose body folds away (the title is a toggle button)."""

    toggled = Signal(bool)

    def __init__(self, title: str, body: QWidget, *, open_: bool = True) -> None:
        super().__init__()
        self.body = body
        self.header = QToolButton()
        self.header.setText(title)
        self.header.setCheckable(True)
        self.header.setChecked(open_)
        self.header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.header.setStyleSheet(
            "QToolButton { border: none; border-bottom: 1px solid #333842; font-weight: 600;"
            " padding: 4px 2px; text-align: left; }"
        )
        self.header.toggled.connect(self._toggle)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addWidget(body)
        self._toggle(open_)

    def is_open(self) -> bool:
        return self.header.isChecked()

    def set_open(self, value: bool) -> None:
        self.header.setChecked(value)

    def _toggle(self, value: bool) -> None:
        self.header.setArrowType(Qt.ArrowType.DownArrow if value else Qt.ArrowType.RightArrow)
        self.body.setVisible(value)
        self.toggled.emit(value)
