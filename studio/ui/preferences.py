"""Preferences: data folder, local provider latency, per-provider concurrency."""

from __future__ import annotations

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QWidget,
)

from studio.core.studio import LOCAL_LATENCY_KEY, Studio
from studio.jobs.config import DEFAULT_CONCURRENCY


class PreferencesDialog(QDialog):
    def __init__(self, studio: Studio, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.studio = studio
        lib = studio.library
        form = QFormLayout(self)
        folder = QHBoxLayout()
        path = QLabel(str(studio.paths.home))
        path.setObjectName("dataFolder")
        open_b = QPushButton("Open")
        open_b.clicked.connect(
            lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(studio.paths.home)))
        )
        folder.addWidget(path, 1)
        folder.addWidget(open_b)
        form.addRow("Data folder", folder)
        self.latency = QDoubleSpinBox(minimum=0.0, maximum=60.0, singleStep=0.5, suffix=" s")
        self.latency.setValue(float(lib.setting(LOCAL_LATENCY_KEY) or 0))
        self.latency.setToolTip("Simulated time per local generation, to watch jobs at work")
        form.addRow("Local provider latency", self.latency)
        self.concurrency: dict[str, QSpinBox] = {}
        for name in studio.providers.names():
            spin = QSpinBox(minimum=1, maximum=16)
            value = lib.setting(f"jobs.{name}.concurrency")
            spin.setValue(int(value) if value else DEFAULT_CONCURRENCY.get(name, 2))
            self.concurrency[name] = spin
            form.addRow(f"{name}: jobs at once", spin)
        form.addRow(QLabel("Changes to providers apply to spaces opened afterwards."))
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def save(self) -> None:
        lib = self.studio.library
        lib.set_setting(LOCAL_LATENCY_KEY, f"{self.latency.value():g}")
        for name, spin in self.concurrency.items():
            lib.set_setting(f"jobs.{name}.concurrency", str(spin.value()))
        self.accept()
