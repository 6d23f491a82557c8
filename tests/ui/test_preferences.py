"""Preferences driven through its widgets: keys in an in-memory keyring, the no-keyring
banner, and provider / general settings saved to the library."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import PasswordDeleteError, PasswordSetError
from PySide6.QtCore import Qt, QUrl
from PySide6.QtWidgets import QApplication, QLabel

from studio.core.studio import LOCAL_LATENCY_KEY, Studio
from studio.keys import KeyStore
from studio.ui.preferences import NO_KEYRING, PreferencesDialog

SHOTS = Path("/tmp/forge-shots")
GEMINI_KEY = "AIzaSyTEST-not-a-real-key-0001234"


class MemoryKeyring(KeyringBackend):
    """A keyring that lives in a dict (tests only)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError("not there")


class LockedKeyring(MemoryKeyring):
    """Reads work; storing is refused (a locked collection)."""

    def set_password(self, service: str, username: str, password: str) -> None:
        raise PasswordSetError(f"the collection is locked; refused {password}")


@pytest.fixture
def use_keyring() -> Iterator[object]:
    """Install a backend for one test and put the previous one back afterwards."""
    previous = keyring.get_keyring()

    def install(backend: KeyringBackend) -> KeyringBackend:
        keyring.set_keyring(backend)
        return backend

    yield install
    keyring.set_keyring(previous)


def open_dialog(qtbot, studio: Studio, page: str = "", **env: str) -> PreferencesDialog:  # type: ignore[no-untyped-def]
    dialog = PreferencesDialog(studio, page=page, keys=KeyStore(env=env, announce=False))
    qtbot.addWidget(dialog)
    return dialog


def shown_text(dialog: PreferencesDialog) -> str:
    parts = [label.text() for label in dialog.findChildren(QLabel)]
    parts += [b.toolTip() for b in dialog.findChildren(QLabel)]
    return "\n".join(parts)


# --------------------------------------------------------------------------- keys


def test_set_replace_and_remove_a_key_through_the_dialog(
    qtbot, studio: Studio, use_keyring
) -> None:  # type: ignore[no-untyped-def]
    backend = use_keyring(MemoryKeyring())
    dialog = open_dialog(qtbot, studio, "keys")
    assert dialog.tabs.currentIndex() == 2
    assert not dialog.banner.isVisibleTo(dialog)
    status, edit = dialog.key_status["gemini"], dialog.key_edit["gemini"]
    set_b, remove_b = dialog.key_set["gemini"], dialog.key_remove["gemini"]
    assert status.text() == "Not set"
    assert not set_b.isEnabled() and not remove_b.isEnabled()
    assert edit.echoMode() == edit.EchoMode.Password

    qtbot.keyClicks(edit, GEMINI_KEY)
    assert set_b.isEnabled()
    qtbot.mouseClick(set_b, Qt.MouseButton.LeftButton)
    assert KeyStore().get("gemini") == GEMINI_KEY
    assert KeyStore().get("veo") == GEMINI_KEY  # veo and lyria share it
    assert backend.store == {("forge-studio", "gemini"): GEMINI_KEY}
    assert status.text() == "Set in the system keyring (••••1234)"
    assert edit.text() == "" and set_b.text() == "Replace" and remove_b.isEnabled()
    assert GEMINI_KEY not in shown_text(dialog)
    assert GEMINI_KEY[:-4] not in shown_text(dialog)

    qtbot.keyClicks(edit, "AIzaSyREPLACED-key-000009876")
    edit.returnPressed.emit()  # Enter works like Set
    assert KeyStore().get("gemini") == "AIzaSyREPLACED-key-000009876"
    assert status.text().endswith("(••••9876)")

    qtbot.mouseClick(remove_b, Qt.MouseButton.LeftButton)
    assert KeyStore().get("gemini") is None
    assert status.text() == "Not set" and not remove_b.isEnabled()
    assert dialog.key_message["gemini"].text() == "Removed from the system keyring."
    with qtbot.waitSignal(dialog.providers_changed, timeout=1000):
        dialog.reject()  # keys changed even though nothing was saved


def test_key_from_the_environment(qtbot, studio: Studio, use_keyring) -> None:  # type: ignore[no-untyped-def]
    use_keyring(MemoryKeyring())
    dialog = open_dialog(qtbot, studio, "keys", ELEVENLABS_API_KEY="el-env-key-123456789")
    assert dialog.key_status["elevenlabs"].text() == (
        "Set from the environment variable ELEVENLABS_API_KEY"
    )
    assert not dialog.key_remove["elevenlabs"].isEnabled()  # nothing in the keyring to remove
    assert dialog.key_set["elevenlabs"].text() == "Set"
    assert "el-env-key" not in shown_text(dialog)
    assert dialog.key_status["anthropic"].text() == "Not set"


def test_without_a_keyring_the_banner_shows_and_set_is_disabled(
    qtbot, studio: Studio, use_keyring
) -> None:  # type: ignore[no-untyped-def]
    use_keyring(fail.Keyring())
    dialog = open_dialog(qtbot, studio, "keys", GEMINI_API_KEY="AIza-from-env-00005555")
    assert dialog.banner.isVisibleTo(dialog)
    assert dialog.banner.text() == NO_KEYRING
    assert "No system keyring is available here, so keys can't be stored." in NO_KEYRING
    assert "GEMINI_API_KEY / ELEVENLABS_API_KEY / ANTHROPIC_API_KEY" in NO_KEYRING
    assert dialog.key_status["gemini"].text() == "Set from the environment variable GEMINI_API_KEY"
    for name in ("gemini", "elevenlabs", "anthropic"):
        dialog.key_edit[name].setText("something-typed-anyway")
        assert not dialog.key_edit[name].isEnabled()
        assert not dialog.key_set[name].isEnabled()
        assert not dialog.key_remove[name].isEnabled()
        assert not dialog.set_key(name)


def test_a_refused_store_is_explained_without_the_key(qtbot, studio: Studio, use_keyring) -> None:  # type: ignore[no-untyped-def]
    use_keyring(LockedKeyring())
    dialog = open_dialog(qtbot, studio, "keys")
    assert not dialog.banner.isVisibleTo(dialog)
    qtbot.keyClicks(dialog.key_edit["anthropic"], "sk-ant-secret-000042")
    qtbot.mouseClick(dialog.key_set["anthropic"], Qt.MouseButton.LeftButton)
    message = dialog.key_message["anthropic"].text()
    assert "could not store the anthropic key" in message and "ANTHROPIC_API_KEY" in message
    assert "sk-ant-secret" not in shown_text(dialog)
    assert dialog.banner.isVisibleTo(dialog)  # the keyring is now known to be unusable
    assert not dialog.key_set["anthropic"].isEnabled()


# --------------------------------------------------------------------------- settings


def test_provider_and_general_settings_are_saved(qtbot, studio: Studio, use_keyring) -> None:  # type: ignore[no-untyped-def]
    use_keyring(MemoryKeyring())
    lib = studio.library
    dialog = open_dialog(qtbot, studio, "providers")
    assert dialog.tabs.currentIndex() == 1
    image = dialog.defaults["image"]
    choices = [image.itemText(i) for i in range(image.count())]
    assert choices == [
        "Automatic (the first that can)",
        "Local (offline)",
        "Google Gemini (images) (needs key)",
        "Scripted (scripted)",
    ]
    music = dialog.defaults["music"]
    assert [music.itemData(i) for i in range(music.count())] == ["", "local", "elevenlabs", "lyria"]
    dialogue = dialog.defaults["dialogue"]
    assert [dialogue.itemData(i) for i in range(dialogue.count())] == ["", "local", "elevenlabs"]
    assert dialog.concurrency["veo"].value() == 1  # DEFAULT_CONCURRENCY
    assert dialog.per_minute["scripted"].text() == "unlimited"

    image.setCurrentIndex(image.findData("scripted"))
    music.setCurrentIndex(music.findData("lyria"))
    dialog.concurrency["scripted"].setValue(3)
    dialog.per_minute["gemini"].setValue(12)
    dialog.latency.setValue(1.5)
    with qtbot.waitSignal(dialog.providers_changed, timeout=1000):
        qtbot.mouseClick(dialog.save_button, Qt.MouseButton.LeftButton)
    assert dialog.result() == dialog.DialogCode.Accepted
    assert lib.setting("providers.default.image") == "scripted"
    assert lib.setting("providers.default.music") == "lyria"
    assert lib.setting("providers.default.video") is None
    assert lib.setting("jobs.scripted.concurrency") == "3"
    assert lib.setting("jobs.local.concurrency") is None  # defaults are not written
    assert lib.setting("jobs.gemini.per_minute") == "12"
    assert lib.setting(LOCAL_LATENCY_KEY) == "1.5"

    again = open_dialog(qtbot, studio, "general")
    assert again.tabs.currentIndex() == 0
    assert again.defaults["image"].currentData() == "scripted"
    assert again.concurrency["scripted"].value() == 3
    assert again.per_minute["gemini"].value() == 12
    assert again.latency.value() == 1.5
    again.defaults["image"].setCurrentIndex(0)
    again.concurrency["scripted"].setValue(2)
    again.per_minute["gemini"].setValue(0)
    again.latency.setValue(0)
    again.save()
    for key in ("providers.default.image", "jobs.scripted.concurrency", "jobs.gemini.per_minute"):
        assert lib.setting(key) is None, key
    assert lib.setting(LOCAL_LATENCY_KEY) is None

    unchanged = open_dialog(qtbot, studio)
    emitted: list[bool] = []
    unchanged.providers_changed.connect(lambda: emitted.append(True))
    unchanged.save()
    assert emitted == []  # nothing changed, nothing to reload


def test_a_stale_default_is_kept_and_shown(qtbot, studio: Studio, use_keyring) -> None:  # type: ignore[no-untyped-def]
    use_keyring(MemoryKeyring())
    studio.library.set_setting("providers.default.video", "gone")
    dialog = open_dialog(qtbot, studio, "providers")
    assert dialog.defaults["video"].currentText() == "gone (not available)"
    dialog.save()
    assert studio.library.setting("providers.default.video") == "gone"


def test_bad_stored_settings_open_with_defaults_and_save_valid_values(
    qtbot, studio: Studio, use_keyring
) -> None:  # type: ignore[no-untyped-def]
    use_keyring(MemoryKeyring())
    conn = studio.library.connection
    conn.executemany(  # straight into library.db, past the checks (a hand edit)
        "INSERT INTO settings(key, value) VALUES (?, ?)",
        [
            (LOCAL_LATENCY_KEY, "abc"),
            ("jobs.scripted.concurrency", "-3"),
            ("jobs.gemini.per_minute", "lots"),
            ("providers.default.image", "Not A Provider!"),
        ],
    )
    conn.commit()
    dialog = open_dialog(qtbot, studio, "providers")
    assert dialog.latency.value() == 0
    assert dialog.concurrency["scripted"].value() == 2
    assert dialog.per_minute["gemini"].text() == "unlimited"
    assert dialog.defaults["image"].currentData() == ""
    dialog.latency.setValue(2.5)
    dialog.save()
    assert studio.library.setting(LOCAL_LATENCY_KEY) == "2.5"
    for key in ("jobs.scripted.concurrency", "jobs.gemini.per_minute", "providers.default.image"):
        assert studio.library.setting(key) is None, key  # the bad values are cleared


def test_data_folder_is_shown_and_opens(qtbot, studio: Studio, use_keyring) -> None:  # type: ignore[no-untyped-def]
    use_keyring(MemoryKeyring())
    dialog = open_dialog(qtbot, studio)
    assert dialog.folder.text() == str(studio.paths.home) and dialog.folder.isReadOnly()
    opened: list[QUrl] = []
    dialog.open_url = opened.append
    qtbot.mouseClick(dialog.open_folder_button, Qt.MouseButton.LeftButton)
    assert opened == [QUrl.fromLocalFile(str(studio.paths.home))]


# --------------------------------------------------------------------------- pictures


@pytest.mark.parametrize("backend", ["memory", "none"])
def test_render_each_page(qtbot, studio: Studio, use_keyring, backend: str) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.theme import apply_theme

    memory = MemoryKeyring()
    memory.set_password("forge-studio", "gemini", GEMINI_KEY)
    use_keyring(memory if backend == "memory" else fail.Keyring())
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet = app.palette(), app.styleSheet()
    apply_theme()
    try:
        dialog = open_dialog(qtbot, studio, ELEVENLABS_API_KEY="el-env-key-123456789")
        dialog.show()
        qtbot.waitExposed(dialog)
        SHOTS.mkdir(parents=True, exist_ok=True)
        pages = ("general", "providers", "keys") if backend == "memory" else ("keys",)
        for page in pages:
            dialog.show_page(page)
            suffix = "" if backend == "memory" else "-nokeyring"
            assert dialog.grab().save(str(SHOTS / f"preferences-{page}{suffix}.png"))
    finally:
        app.setPalette(palette)
        app.setStyleSheet(sheet)
