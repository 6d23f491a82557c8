"""The opt-in key file for machines without a keyring (issue #15, item 4): created only
by an explicit choice, readable by this user only, refused when others can read it, and
the keys in it never printed."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from keyring.backends import fail

from studio.keys import KEY_FILE_NAME, KeyStore, KeyStoreError
from tests.workers.cloud_helpers import GOOGLE_KEY, MemoryKeyring, using_keyring


@pytest.fixture
def no_keyring() -> Iterator[None]:
    with using_keyring(fail.Keyring()):
        yield


def test_without_opting_in_no_file_is_written(tmp_path: Path, no_keyring: None) -> None:
    store = KeyStore(env={}, key_file=tmp_path / KEY_FILE_NAME)
    with pytest.raises(KeyStoreError, match="opt in to the key file in Preferences"):
        store.set("gemini", GOOGLE_KEY)
    assert not (tmp_path / KEY_FILE_NAME).exists()
    assert store.get("gemini") is None


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_opted_in_keys_go_to_a_file_only_the_user_can_read(
    tmp_path: Path, no_keyring: None
) -> None:
    path = tmp_path / "home" / KEY_FILE_NAME
    store = KeyStore(env={"GEMINI_API_KEY": "AIza-env-key-0000111122"}, key_file=path)
    store.use_key_file(True)
    store.set("veo", GOOGLE_KEY)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    fresh = KeyStore(env={"GEMINI_API_KEY": "AIza-env-key-0000111122"}, key_file=path)
    assert (fresh.get("lyria"), fresh.source("gemini")) == (GOOGLE_KEY, "file")  # before env
    assert fresh.delete("gemini") is True and fresh.source("gemini") == "env"
    assert fresh.delete("gemini") is False
    fresh.use_key_file(False)
    assert not path.exists()


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_a_key_file_others_can_read_is_not_used(tmp_path: Path, no_keyring: None) -> None:
    path = tmp_path / KEY_FILE_NAME
    store = KeyStore(env={}, key_file=path)
    store.use_key_file(True)
    store.set("gemini", GOOGLE_KEY)
    path.chmod(0o644)
    fresh = KeyStore(env={}, key_file=path)
    assert fresh.get("gemini") is None
    assert "readable by other users" in str(fresh.file_problem)
    with pytest.raises(KeyStoreError, match="chmod 600"):
        fresh.set("gemini", GOOGLE_KEY)
    assert GOOGLE_KEY not in str(fresh.file_problem)


def test_a_working_keyring_wins_over_the_file(tmp_path: Path) -> None:
    path = tmp_path / KEY_FILE_NAME
    with using_keyring(fail.Keyring()):
        store = KeyStore(env={}, key_file=path)
        store.use_key_file(True)
        store.set("gemini", GOOGLE_KEY)
    with using_keyring(MemoryKeyring()):
        store = KeyStore(env={}, key_file=path)
        assert store.get("gemini") is None  # the keyring is used; the file only without one
        store.set("gemini", GOOGLE_KEY)
        assert store.source("gemini") == "keyring"


@pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")
def test_the_cli_opts_in_and_out(
    tmp_path: Path,
    no_keyring: None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import io
    import sys

    import studio.keys as keys_module
    from studio.cli.main import main

    for var in keys_module.ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    home = tmp_path / "home"
    assert main(["--home", str(home), "keys", "file", "on"]) == 0
    assert "unencrypted" in capsys.readouterr().out
    monkeypatch.setattr(sys, "stdin", io.StringIO(GOOGLE_KEY + "\n"))
    assert main(["--home", str(home), "keys", "set", "gemini"]) == 0
    out = capsys.readouterr().out
    assert "stored the gemini key in the key file" in out and GOOGLE_KEY not in out
    assert main(["--home", str(home), "keys", "list"]) == 0
    assert "yes (key file)" in capsys.readouterr().out
    assert main(["--home", str(home), "keys", "file", "off"]) == 0
    assert not (home / KEY_FILE_NAME).exists()
