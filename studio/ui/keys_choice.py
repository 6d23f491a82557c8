"""Preferences ▸ Keys where no keyring exists: an explicit choice between environment
variables (as before) and the opt-in key file, its risk stated (``studio.keys``)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QGroupBox, QLabel, QRadioButton, QVBoxLayout, QWidget

from studio.keys import ENV_VARS, KEY_FILE_RISK, KEY_NAMES, KeyStore, KeyStoreError
from studio.ui.widgets import named


class KeylessChoice(QGroupBox):
    """``changed`` fires after the user switched (the key file was made or removed)."""

    changed = Signal()

    def __init__(self, keys: KeyStore, parent: QWidget | None = None) -> None:
        super().__init__("Without a keyring, keep keys in", parent)
        self.setObjectName("keylessChoice")
        self.keys = keys
        self._refreshing = False
        names = ", ".join(ENV_VARS[n] for n in KEY_NAMES)
        self.use_env = named(
            QRadioButton(f"Environment variables ({names}), set before Forge Studio starts"),
            "useEnv",
        )
        where = keys.key_file or "the data folder"
        self.use_file = named(QRadioButton(f"A key file only you can read ({where})"), "useFile")
        self.risk = QLabel(
            KEY_FILE_RISK + " Choosing environment variables again deletes the file.",
            wordWrap=True,
        )
        self.risk.setStyleSheet("color: #9aa3b2;")
        self.problem = named(QLabel(wordWrap=True), "keyFileProblem")
        self.problem.setStyleSheet("color: #ff7a6e;")
        lay = QVBoxLayout(self)
        for w in (self.use_env, self.use_file, self.risk, self.problem):
            lay.addWidget(w)
        self.use_file.toggled.connect(self._choose)

    def refresh(self, keyring_usable: bool) -> None:
        self._refreshing = True
        try:
            self.setVisible(not keyring_usable and self.keys.key_file is not None)
            (self.use_file if self.keys.key_file_in_use else self.use_env).setChecked(True)
            self.problem.setText(self.keys.file_problem or "")
        finally:
            self._refreshing = False

    def _choose(self, on: bool) -> None:
        if self._refreshing or on == self.keys.key_file_in_use:
            return
        try:
            self.keys.use_key_file(on)
        except KeyStoreError as exc:
            self.problem.setText(str(exc))
        self.changed.emit()
