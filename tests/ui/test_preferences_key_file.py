"""Preferences ▸ Keys without a keyring: an explicit choice between environment variables
and the opt-in key file (its risk stated), instead of only disabled fields."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator

import keyring
import pytest
from keyring.backends import fail

from studio.core.studio import Studio
from studio.keys import KEY_FILE_NAME, KEY_FILE_RISK, KeyStore
from studio.ui.preferences import PreferencesDialog

GEMINI_KEY = "AIzaSyTEST-not-a-real-key-0007777"


@pytest.fixture
def no_keyring() -> Iterator[None]:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


def _dialog(qtbot, studio: Studio) -> PreferencesDialog:  # type: ignore[no-untyped-def]
    keys = KeyStore(env={}, announce=False, key_file=studio.paths.home / KEY_FILE_NAME)
    dialog = PreferencesDialog(studio, page="keys", keys=keys)
    qtbot.addWidget(dialog)
    return dialog


def test_without_a_keyring_the_choice_is_offered_with_its_risk(
    qtbot, studio: Studio, no_keyring: None
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, studio)
    assert dialog.keyless.isVisibleTo(dialog) and dialog.keyless.use_env.isChecked()
    assert not dialog.key_edit["gemini"].isEnabled()  # environment variables: no fields
    assert KEY_FILE_RISK in dialog.keyless.risk.text()
    assert not (studio.paths.home / KEY_FILE_NAME).exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_choosing_the_key_file_enables_the_fields_and_stores_there(
    qtbot, studio: Studio, no_keyring: None
) -> None:  # type: ignore[no-untyped-def]
    dialog = _dialog(qtbot, studio)
    dialog.keyless.use_file.setChecked(True)
    path = studio.paths.home / KEY_FILE_NAME
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert dialog.key_edit["gemini"].isEnabled()
    dialog.key_edit["gemini"].setText(GEMINI_KEY)
    assert dialog.set_key("gemini")
    assert dialog.key_status["gemini"].text().startswith("Set in the key file")
    assert GEMINI_KEY not in dialog.key_status["gemini"].text()
    assert dialog.key_message["gemini"].text() == "Stored in the key file."
    dialog.keyless.use_env.setChecked(True)  # back to the environment: the file goes
    assert not path.exists() and not dialog.key_edit["gemini"].isEnabled()


def test_with_a_keyring_the_choice_is_hidden(qtbot, studio: Studio) -> None:  # type: ignore[no-untyped-def]
    from tests.workers.cloud_helpers import MemoryKeyring, using_keyring

    with using_keyring(MemoryKeyring()):
        dialog = _dialog(qtbot, studio)
        assert not dialog.keyless.isVisibleTo(dialog)
