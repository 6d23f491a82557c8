"""A quick "Generate…" dialog (Ctrl+G) until the forge tray arrives."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QWidget,
)

from studio.core import commands as c

AUDIO_TYPES = ("sfx", "music", "speech", "dialogue")


class GenerateDialog(QDialog):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Generate")
        self.prompt = QPlainTextEdit()
        self.prompt.setPlaceholderText("Describe what to make…")
        self.prompt.setFixedHeight(90)
        self.kind = QComboBox()
        self.kind.addItems(["image", "audio", "video"])
        self.type = QComboBox()
        self.type.setEditable(True)
        self.name = QLineEdit(placeholderText="(from the prompt)")
        self.count = QSpinBox(minimum=1, maximum=16, value=1)
        self.batch = QComboBox()
        self.batch.addItems(["explore", "set"])
        self.kind.currentTextChanged.connect(self._kind_changed)
        self._kind_changed("image")
        form = QFormLayout(self)
        form.addRow("Prompt", self.prompt)
        form.addRow("Kind", self.kind)
        form.addRow("Type", self.type)
        form.addRow("Name", self.name)
        form.addRow("Count", self.count)
        form.addRow("Batch mode", self.batch)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Generate")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _kind_changed(self, kind: str) -> None:
        self.type.clear()
        items = {
            "image": ("character", "item", "scene", "prop"),
            "audio": AUDIO_TYPES,
            "video": ("animation", "clip"),
        }[kind]
        self.type.addItems(list(items))

    def mode(self) -> str:
        """The preferences' media mode: image, video, or the audio type."""
        kind = self.kind.currentText()
        return self.type.currentText().strip() if kind == "audio" else kind

    def command(self, x: float, y: float, provider: str | None = None) -> c.Command | None:
        prompt = self.prompt.toPlainText().strip()
        if not prompt:
            return None
        kind = c.MediaKindName(self.kind.currentText())
        name = self.name.text().strip() or None
        type_ = self.type.currentText().strip()
        options = c.GenerationOptions(provider=provider)
        if self.count.value() > 1:
            mode = c.BatchMode(self.batch.currentText())
            return c.RequestBatch(
                prompt,
                kind,
                self.count.value(),
                mode,
                type=type_,
                name=name,
                x=x,
                y=y,
                options=options,
            )
        return c.RequestGeneration(prompt, kind, type=type_, name=name, x=x, y=y, options=options)
