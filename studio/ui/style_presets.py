"""The style preset editor (Generate ▸ Style presets…, or "Edit presets…" in the forge
tray's style list): a non-modal dialog to create, edit and delete the space's style
presets — a name, a style prompt put before every prompt, and a reference collection
whose images are sent as style references; which preset is the space's default, and
whether it is on.

Every change is one undoable step through the host with the core's ``style:*``
commands (Save sends only what changed); the list is read with
``space.read.style_presets()`` and follows the change feed (``apply_event``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from studio.core import commands as c
from studio.core.errors import StudioError
from studio.core.protocol import TypedEvent
from studio.core.space import Space
from studio.store.records import CollectionRow, StylePresetRow
from studio.ui.widgets import named

if TYPE_CHECKING:
    from studio.ui.host import CanvasHost

ID_ROLE = Qt.ItemDataRole.UserRole
NO_COLLECTION = "No reference collection"
NEW_NAME = "New style"


class StylePresetsDialog(QDialog):
    def __init__(self, host: CanvasHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("stylePresetsDialog")
        self.setWindowTitle("Style presets")
        self.setModal(False)
        self.host = host
        self.space: Space | None = None
        self.presets: list[StylePresetRow] = []
        self.collections: list[CollectionRow] = []
        self.sizes: dict[str, int] = {}  # collection id -> live items
        self._loaded: StylePresetRow | None = None  # the row the form shows

        self.list = named(QListWidget(), "presetList")
        self.list.currentItemChanged.connect(lambda *_: self._load_form())
        self.new_button = named(QPushButton("New"), "presetNew")
        self.delete_button = named(QPushButton("Delete"), "presetDelete")
        self.new_button.clicked.connect(self.new_preset)
        self.delete_button.clicked.connect(self.delete_current)
        self.name = named(QLineEdit(), "presetName")
        self.prompt = named(QPlainTextEdit(), "presetPrompt")
        self.prompt.setPlaceholderText("e.g. soft watercolour, muted palette, paper texture")
        self.prompt.setTabChangesFocus(True)
        self.collection = named(QComboBox(), "presetCollection")
        self.collection.setToolTip("Its images are sent as style references")
        self.is_default = named(QCheckBox("Use by default for new requests"), "presetDefault")
        self.enabled = named(QCheckBox("On"), "presetEnabled")
        self.save_button = named(QPushButton("Save"), "presetSave")
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self.save)
        self.hint = named(QLabel(""), "presetHint")
        self.hint.setWordWrap(True)

        form = QFormLayout()
        form.addRow("Name", self.name)
        form.addRow("Style prompt", self.prompt)
        form.addRow("References", self.collection)
        form.addRow("", self.is_default)
        form.addRow("", self.enabled)
        self.editor = QWidget()
        right = QVBoxLayout(self.editor)
        right.setContentsMargins(0, 0, 0, 0)
        right.addLayout(form)
        right.addWidget(self.hint)
        right.addWidget(self.save_button, 0, Qt.AlignmentFlag.AlignRight)
        left = QVBoxLayout()
        left.addWidget(self.list, 1)
        buttons = QHBoxLayout()
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.delete_button)
        left.addLayout(buttons)
        layout = QHBoxLayout(self)
        layout.addLayout(left, 2)
        layout.addWidget(self.editor, 3)
        self.resize(720, 380)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self.refresh)

    # ------------------------------------------------------------------ following the space
    def set_space(self, space: Space | None) -> None:
        self.space = space
        self.refresh()

    def apply_event(self, event: TypedEvent) -> None:
        if event.kind.startswith(("style:", "collection:")):
            self._timer.start()

    def refresh(self, select: str | None = None) -> None:
        """Read the presets and collections again; the form keeps unsaved edits of the
        preset it shows (unless that preset is gone)."""
        space = self.space
        try:
            self.presets = space.read.style_presets() if space is not None else []
            self.collections = space.collections() if space is not None else []
            members = space.read.collection_members() if space is not None else {}
            self.sizes = {cid: len(items) for cid, items in members.items()}
        except StudioError as exc:
            self.presets, self.collections, self.sizes = [], [], {}
            self.host.show_error(exc.message)
        keep = select or self.current_id()
        self.list.blockSignals(True)
        try:
            self.list.clear()
            for p in sorted(self.presets, key=lambda p: p.name.lower()):
                marks = [m for m, on in (("default", p.is_default), ("off", not p.enabled)) if on]
                it = QListWidgetItem(p.name + (f"  ({', '.join(marks)})" if marks else ""))
                it.setData(ID_ROLE, p.id)
                self.list.addItem(it)
                if p.id == keep:
                    self.list.setCurrentItem(it)
            if self.list.currentItem() is None and self.list.count():
                self.list.setCurrentRow(0)
        finally:
            self.list.blockSignals(False)
        self.new_button.setEnabled(space is not None)
        self._load_form(keep_edits=self.current_id() == keep and select is None)

    def current_id(self) -> str | None:
        item = self.list.currentItem()
        return str(item.data(ID_ROLE)) if item is not None else None

    def current(self) -> StylePresetRow | None:
        pid = self.current_id()
        return next((p for p in self.presets if p.id == pid), None)

    def _load_form(self, keep_edits: bool = False) -> None:
        p = self.current()
        self.editor.setEnabled(p is not None)
        self.delete_button.setEnabled(p is not None)
        shown = self._loaded
        edited = shown is not None and self._update(shown) is not None
        if keep_edits and p is not None and shown is not None and shown.id == p.id and edited:
            self._fill_collections(self._chosen_collection())  # unsaved edits stay
            return
        self._loaded = p
        self.name.setText(p.name if p is not None else "")
        self.prompt.setPlainText(p.prompt if p is not None else "")
        self._fill_collections(p.collection_id if p is not None else None)
        self.is_default.setChecked(bool(p is not None and p.is_default))
        self.enabled.setChecked(bool(p is None or p.enabled))
        self.hint.setText(
            "No presets yet — New makes one."
            if p is None
            else "The style prompt goes before every prompt; the collection's images go "
            "along as style references (as many as the model takes)."
        )

    def _fill_collections(self, chosen: str | None) -> None:
        self.collection.blockSignals(True)
        try:
            self.collection.clear()
            self.collection.addItem(NO_COLLECTION, "")
            for col in self.collections:
                n = self.sizes.get(col.id, 0)
                self.collection.addItem(f"{col.name} ({n} item{'s' if n != 1 else ''})", col.id)
            if chosen and self.collection.findData(chosen) < 0:  # deleted since
                self.collection.addItem("(a deleted collection)", chosen)
            self.collection.setCurrentIndex(max(0, self.collection.findData(chosen or "")))
        finally:
            self.collection.blockSignals(False)

    def _chosen_collection(self) -> str:
        return str(self.collection.currentData() or "")

    def _update(self, p: StylePresetRow) -> c.UpdateStylePreset | None:
        """The form's differences from ``p`` as one command (None: no difference)."""
        name = self.name.text().strip()
        prompt = self.prompt.toPlainText().strip()
        col = self._chosen_collection()
        default, on = self.is_default.isChecked(), self.enabled.isChecked()
        cmd = c.UpdateStylePreset(
            p.id,
            name=name if name != p.name else None,
            prompt=prompt if prompt != p.prompt else None,
            collection_id=col if col != (p.collection_id or "") else None,
            is_default=default if default != bool(p.is_default) else None,
            enabled=on if on != bool(p.enabled) else None,
        )
        if cmd == c.UpdateStylePreset(p.id):
            return None
        return cmd

    # ------------------------------------------------------------------ actions
    def new_preset(self) -> bool:
        if self.space is None:
            return False
        names = {p.name for p in self.presets}
        name = NEW_NAME
        for n in range(2, 1000):
            if name not in names:
                break
            name = f"{NEW_NAME} {n}"
        sid = self.space.new_id()
        if not self.host.run([c.CreateStylePreset(name, style_id=sid)], f"New style “{name}”"):
            return False
        self.refresh(select=sid)
        self.name.setFocus()
        self.name.selectAll()
        return True

    def save(self) -> bool:
        """The form's changes to the shown preset, as one step."""
        p = self.current()
        if p is None:
            return False
        cmd = self._update(p)
        if cmd is None:
            return False
        if not self.host.run([cmd], f"Edit style “{p.name}”"):
            return False
        self.refresh(select=p.id)
        return True

    def delete_current(self) -> bool:
        p = self.current()
        if p is None:
            return False
        if not self.host.run([c.DeleteStylePreset(p.id)], f"Delete style “{p.name}”"):
            return False
        self.refresh()
        return True
