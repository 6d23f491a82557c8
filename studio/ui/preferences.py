"""Preferences: the data folder and demo latency, providers (defaults per media mode and
limits), and API keys in the system keyring.

Settings go to ``library.db`` when the dialog is saved; keys go to the keyring at once
(Set / Remove) and are never shown — at most their last four characters.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from PySide6.QtCore import QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from studio.core import settings
from studio.core.providers import ProviderCatalog
from studio.core.studio import LOCAL_LATENCY_KEY, Studio
from studio.jobs.config import DEFAULT_CONCURRENCY
from studio.keys import ENV_VARS, KEY_FILE_NAME, KEY_NAMES, KeyStore, KeyStoreError, Source
from studio.ui.folders import show_folder
from studio.ui.keys_choice import KeylessChoice
from studio.ui.widgets import named
from workers.base import AudioType, Capabilities
from workers.registry import CLOUD_PROVIDERS, cloud_capabilities

PAGES = ("general", "providers", "keys")
DEFAULT_PROVIDER_KEY = "providers.default.{mode}"
# mode -> (label, media kind, audio type)
MEDIA_MODES: dict[str, tuple[str, str, AudioType | None]] = {
    "image": ("Images", "image", None),
    "video": ("Video", "video", None),
    "speech": ("Speech", "audio", AudioType.SPEECH),
    "dialogue": ("Dialogue", "audio", AudioType.DIALOGUE),
    "music": ("Music", "audio", AudioType.MUSIC),
    "sfx": ("Sound effects", "audio", AudioType.SFX),
}
KEY_TITLES = {
    "gemini": ("Google Gemini", "Images with Gemini; also used by Veo (video) and Lyria (music)."),
    "elevenlabs": ("ElevenLabs", "Sound effects, speech, dialogue and music."),
    "anthropic": ("Anthropic", "Claude, for the chat assistant."),
}
NO_KEYRING = (
    "No system keyring is available here, so keys can't be stored. Set "
    + " / ".join(ENV_VARS[n] for n in KEY_NAMES)
    + " in the environment instead, or choose below to keep them in a file only you can read."
)
APPLY_NOTE = (
    "Keys and provider settings apply to the open space when Preferences closes; "
    "jobs already running finish as they started."
)


@dataclass(frozen=True, slots=True)
class ProviderInfo:
    name: str
    caps: Capabilities
    configured: bool  # registered here (a cloud provider only is with its key)

    def can(self, mode: str) -> bool:
        _label, kind, audio = MEDIA_MODES[mode]
        return self.caps.default_model(kind, audio) is not None

    @property
    def title(self) -> str:
        return self.caps.label if self.configured else f"{self.caps.label} (needs key)"


def known_providers(registry: ProviderCatalog) -> list[ProviderInfo]:
    """``local``, every cloud provider (keyed or not), then anything else registered."""
    names = registry.names()
    out: list[ProviderInfo] = []
    for name in dict.fromkeys(["local", *CLOUD_PROVIDERS, *names]):
        if name in names:
            out.append(ProviderInfo(name, registry.get(name).capabilities(), True))
        elif name == "local":
            from workers.local import LocalProvider

            out.append(ProviderInfo(name, LocalProvider().capabilities(), True))
        else:
            out.append(ProviderInfo(name, cloud_capabilities(name), False))
    return out


def _hint(text: str) -> QLabel:
    label = QLabel(text, wordWrap=True)
    label.setStyleSheet("color: #9aa3b2;")
    return label


def _masked(value: str | None) -> str:
    return f" (••••{value[-4:]})" if value and len(value) >= 12 else ""


class PreferencesDialog(QDialog):
    providers_changed = Signal()  # keys or provider settings changed: rebuild providers

    def __init__(
        self,
        studio: Studio,
        parent: QWidget | None = None,
        page: str = "",
        *,
        keys: KeyStore | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.setObjectName("preferencesDialog")
        self.resize(680, 620)
        # the app theme sets no disabled colours; a disabled Set must look disabled
        self.setStyleSheet(
            "QPushButton:disabled, QLineEdit:disabled { color: #5d6470; }"
            " QLineEdit:disabled { background: #23262d; }"
        )
        self.studio = studio
        self.keys = keys or KeyStore(announce=False, key_file=studio.paths.home / KEY_FILE_NAME)
        self.open_url: Callable[[QUrl], object] = QDesktopServices.openUrl
        self._keys_changed = False
        self._settings_changed = False
        self._sources: dict[str, Source | None] = {}
        self.providers = known_providers(studio.providers)

        self.tabs = QTabWidget()
        self.tabs.addTab(self._general_page(), "General")
        self.tabs.addTab(self._providers_page(), "Providers")
        self.tabs.addTab(self._keys_page(), "Keys")
        note = _hint(APPLY_NOTE)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.save_button = buttons.button(QDialogButtonBox.StandardButton.Save)
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs, 1)
        layout.addWidget(note)
        layout.addWidget(buttons)
        self.show_page(page)
        self._refresh_keys()

    def show_page(self, page: str) -> None:
        """Land on ``general``, ``providers`` or ``keys`` (unknown: general)."""
        self.tabs.setCurrentIndex(PAGES.index(page) if page in PAGES else 0)

    # ------------------------------------------------------------------ general
    def _general_page(self) -> QWidget:
        page = QWidget()
        form = QFormLayout(page)
        self.folder = QLineEdit(str(self.studio.paths.home), readOnly=True)
        self.folder.setObjectName("dataFolder")
        self.folder.setToolTip("Spaces, media and the library live here")
        self.open_folder_button = QPushButton("Open")
        self.open_folder_button.setToolTip("Show the data folder in the file manager")
        self.open_folder_button.clicked.connect(self._open_folder)
        row = QHBoxLayout()
        row.addWidget(self.folder, 1)
        row.addWidget(self.open_folder_button)
        form.addRow("Data folder", row)
        form.addRow("", _hint("Every space (its file and media) and the library live here."))
        self.latency = QDoubleSpinBox(minimum=0.0, maximum=60.0, singleStep=0.5, suffix=" s")
        self.latency.setObjectName("localLatency")
        self.latency.setSpecialValueText("none")
        self.latency.setValue(settings.local_latency_s(self.studio.library))
        self.latency.setToolTip(
            "Make each offline generation take this long, to show jobs at work in a demo"
        )
        form.addRow("Local provider latency", self.latency)
        form.addRow("", _hint("For demos: the offline provider waits this long per job."))
        return page

    def _open_folder(self) -> None:
        show_folder(
            self, self.studio.paths.home, lambda p: bool(self.open_url(QUrl.fromLocalFile(str(p))))
        )

    # ------------------------------------------------------------------ providers
    def _providers_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        defaults = QGroupBox("Default provider for new generations")
        form = QFormLayout(defaults)
        self.defaults: dict[str, QComboBox] = {}
        lib = self.studio.library
        for mode, (label, _kind, _audio) in MEDIA_MODES.items():
            combo = QComboBox()
            combo.setObjectName(f"default-{mode}")
            combo.addItem("Automatic (the first that can)", "")
            for info in self.providers:
                if info.can(mode):
                    combo.addItem(info.title, info.name)
            current = settings.default_provider(lib, mode) or ""
            if current and combo.findData(current) < 0:
                combo.addItem(f"{current} (not available)", current)
            combo.setCurrentIndex(max(0, combo.findData(current)))
            self.defaults[mode] = combo
            form.addRow(label, combo)
        layout.addWidget(defaults)

        limits = QGroupBox("Limits per provider")
        grid = QGridLayout(limits)
        for col, text in enumerate(("Provider", "Jobs at once", "Starts per minute")):
            grid.addWidget(_hint(text), 0, col)
        self.concurrency: dict[str, QSpinBox] = {}
        self.per_minute: dict[str, QSpinBox] = {}
        for row, info in enumerate(self.providers, start=1):
            conc = QSpinBox(minimum=1, maximum=16)
            conc.setObjectName(f"concurrency-{info.name}")
            conc.setValue(self._concurrency(info.name))
            conc.setToolTip("How many of this provider's jobs may run at the same time")
            rate = QSpinBox(minimum=0, maximum=600)
            rate.setObjectName(f"perMinute-{info.name}")
            rate.setSpecialValueText("unlimited")
            rate.setValue(min(600, settings.per_minute(lib, info.name) or 0))
            rate.setToolTip("Start at most this many jobs a minute (0: no limit)")
            self.concurrency[info.name], self.per_minute[info.name] = conc, rate
            grid.addWidget(QLabel(info.title), row, 0)
            grid.addWidget(conc, row, 1)
            grid.addWidget(rate, row, 2)
        grid.setColumnStretch(0, 1)
        layout.addWidget(limits)
        layout.addStretch(1)
        return page

    def _concurrency(self, name: str) -> int:
        return min(16, settings.concurrency(self.studio.library, name))

    # ------------------------------------------------------------------ keys
    def _keys_page(self) -> QWidget:
        page = QWidget()
        layout = QVBoxLayout(page)
        self.banner = QLabel(NO_KEYRING, wordWrap=True)
        self.banner.setObjectName("keyringBanner")
        self.banner.setStyleSheet(
            "background: #4a3a1c; color: #f3d9a4; border: 1px solid #7a5d24;"
            " border-radius: 4px; padding: 8px;"
        )
        layout.addWidget(self.banner)
        self.keyless = KeylessChoice(self.keys)
        self.keyless.changed.connect(self._keyless_changed)
        layout.addWidget(self.keyless)
        self.key_status: dict[str, QLabel] = {}
        self.key_edit: dict[str, QLineEdit] = {}
        self.key_set: dict[str, QPushButton] = {}
        self.key_remove: dict[str, QPushButton] = {}
        self.key_message: dict[str, QLabel] = {}
        for name in KEY_NAMES:
            title, what = KEY_TITLES.get(name, (name, ""))
            box = QGroupBox(title)
            grid = QGridLayout(box)
            about = _hint(what)
            status = named(QLabel(), f"keyStatus-{name}")
            edit = named(QLineEdit(), f"keyEdit-{name}")
            edit.setEchoMode(QLineEdit.EchoMode.Password)
            edit.setPlaceholderText("Paste a new key")
            edit.setClearButtonEnabled(True)
            set_b = named(QPushButton("Set"), f"keySet-{name}")
            remove_b = named(QPushButton("Remove"), f"keyRemove-{name}")
            remove_b.setToolTip("Remove the key from the system keyring")
            message = named(QLabel(wordWrap=True), f"keyMessage-{name}")
            edit.textChanged.connect(lambda _t, n=name: self._update_key_buttons(n))
            edit.returnPressed.connect(lambda n=name: self.set_key(n))
            set_b.clicked.connect(lambda _=False, n=name: self.set_key(n))
            remove_b.clicked.connect(lambda _=False, n=name: self.remove_key(n))
            grid.addWidget(about, 0, 0, 1, 3)
            grid.addWidget(status, 1, 0, 1, 3)
            grid.addWidget(edit, 2, 0)
            grid.addWidget(set_b, 2, 1)
            grid.addWidget(remove_b, 2, 2)
            grid.addWidget(message, 3, 0, 1, 3)
            grid.setColumnStretch(0, 1)
            self.key_status[name], self.key_edit[name] = status, edit
            self.key_set[name], self.key_remove[name] = set_b, remove_b
            self.key_message[name] = message
            layout.addWidget(box)
        hint = _hint(
            "Keys go to the system keyring (service “forge-studio”) when you press Set, "
            "never into a space or the library."
        )
        layout.addWidget(hint)
        layout.addStretch(1)
        return page

    def _keyless_changed(self) -> None:
        self._keys_changed = True
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        keyring = self.keys.keyring_usable
        in_file = self.keys.key_file_in_use
        usable = keyring or in_file
        self.banner.setVisible(not keyring)
        self.banner.setToolTip(self.keys.warning or "")
        self.keyless.refresh(keyring)
        for name, source in self.keys.status():
            if source == "keyring":
                text = f"Set in the system keyring{_masked(self.keys.get(name))}"
            elif source == "file":
                text = f"Set in the key file{_masked(self.keys.get(name))}"
            elif source == "env":
                text = f"Set from the environment variable {ENV_VARS[name]}"
            else:
                text = "Not set"
            self.key_status[name].setText(text)
            self.key_edit[name].setEnabled(usable)
            self.key_set[name].setText("Replace" if source == "keyring" else "Set")
            self._sources[name] = source
            self._update_key_buttons(name)

    def _update_key_buttons(self, name: str) -> None:
        usable = self.key_edit[name].isEnabled()
        self.key_set[name].setEnabled(usable and bool(self.key_edit[name].text().strip()))
        self.key_remove[name].setEnabled(usable and self._sources.get(name) in ("keyring", "file"))

    def _say(self, name: str, text: str, error: bool = False) -> None:
        label = self.key_message[name]
        label.setText(text)
        label.setStyleSheet("color: #ff7a6e;" if error else "color: #6cc48a;")

    def set_key(self, name: str) -> bool:
        """Store the typed key for ``name`` in the keyring; the field is cleared."""
        edit = self.key_edit[name]
        if not edit.isEnabled() or not edit.text().strip():
            return False
        try:
            self.keys.set(name, edit.text())
        except KeyStoreError as exc:
            self._say(name, str(exc), error=True)
            self._refresh_keys()
            return False
        edit.clear()
        self._keys_changed = True
        where = "the key file" if self.keys.source(name) == "file" else "the system keyring"
        self._say(name, f"Stored in {where}.")
        self._refresh_keys()
        return True

    def remove_key(self, name: str) -> bool:
        was = self._sources.get(name)
        try:
            removed = self.keys.delete(name)
        except KeyStoreError as exc:
            self._say(name, str(exc), error=True)
            self._refresh_keys()
            return False
        self._keys_changed = self._keys_changed or removed
        still = self.keys.source(name) == "env"
        where = "key file" if was == "file" else "system keyring"
        env = f"Removed. {ENV_VARS[name]} from the environment still applies."
        self._say(name, env if still else f"Removed from the {where}.")
        self._refresh_keys()
        return removed

    # ------------------------------------------------------------------ saving
    def save(self) -> None:
        """Write the settings that changed (defaults are stored as no setting)."""
        self._put(LOCAL_LATENCY_KEY, f"{self.latency.value():g}" if self.latency.value() else None)
        for mode, combo in self.defaults.items():
            self._put(DEFAULT_PROVIDER_KEY.format(mode=mode), combo.currentData() or None)
        for name, spin in self.concurrency.items():
            value = spin.value()
            self._put(
                f"jobs.{name}.concurrency",
                None if value == DEFAULT_CONCURRENCY.get(name, 2) else str(value),
            )
        for name, spin in self.per_minute.items():
            self._put(f"jobs.{name}.per_minute", str(spin.value()) if spin.value() else None)
        self.accept()

    def _put(self, key: str, value: str | None) -> None:
        lib = self.studio.library
        if lib.setting(key) == value:
            return
        settings.put(lib, key, value)  # the same checks as `studio settings`
        self._settings_changed = True

    def done(self, result: int) -> None:
        changed = self._keys_changed or self._settings_changed
        self._keys_changed = self._settings_changed = False
        super().done(result)
        if changed:
            self.providers_changed.emit()
