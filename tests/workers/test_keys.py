"""API keys: the keyring first, the environment when the keyring can't be used (said
once), and the registry built from whichever keys exist."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

import studio.keys as keys_module
from studio.core.studio import Studio
from studio.keys import SERVICE, KeyStore, KeyStoreError
from studio.providers_setup import build_providers
from tests.workers.cloud_helpers import (
    ELEVEN_KEY,
    GOOGLE_KEY,
    LockedKeyring,
    MemoryKeyring,
    using_keyring,
)
from workers.registry import default_registry


@pytest.fixture
def memory() -> Iterator[MemoryKeyring]:
    with using_keyring(MemoryKeyring()) as backend:
        assert isinstance(backend, MemoryKeyring)
        yield backend


@pytest.fixture
def locked() -> Iterator[LockedKeyring]:
    with using_keyring(LockedKeyring()) as backend:
        assert isinstance(backend, LockedKeyring)
        yield backend


@pytest.fixture(autouse=True)
def fresh_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(keys_module, "_warned", keys_module.threading.Event())


def test_keys_live_in_the_keyring(memory: MemoryKeyring) -> None:
    store = KeyStore(env={})
    assert store.status() == [("gemini", None), ("elevenlabs", None), ("anthropic", None)]
    store.set("gemini", f"  {GOOGLE_KEY}\n")
    store.set("elevenlabs", ELEVEN_KEY)
    assert memory.values == {(SERVICE, "gemini"): GOOGLE_KEY, (SERVICE, "elevenlabs"): ELEVEN_KEY}
    assert store.get("veo") == store.get("lyria") == store.get("gemini") == GOOGLE_KEY
    assert store.status() == [("gemini", "keyring"), ("elevenlabs", "keyring"), ("anthropic", None)]
    assert store.warning is None and store.keyring_usable
    assert store.delete("gemini") is True
    assert store.delete("gemini") is False
    assert store.get("veo") is None


def test_the_keyring_wins_over_the_environment(memory: MemoryKeyring) -> None:
    store = KeyStore(env={"GEMINI_API_KEY": "AIzaQ7vX2kLr9TzW4mNc8bYp3HdJ6fGs1uE0"})
    assert store.source("gemini") == "env"  # nothing in the keyring yet
    store.set("gemini", GOOGLE_KEY)
    assert (store.get("gemini"), store.source("gemini")) == (GOOGLE_KEY, "keyring")


def test_without_a_keyring_keys_come_from_the_environment_said_once(
    locked: LockedKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    env = {"GEMINI_API_KEY": GOOGLE_KEY, "ELEVENLABS_API_KEY": ELEVEN_KEY}
    caplog.set_level(logging.DEBUG)
    first, second = KeyStore(env=env), KeyStore(env=env)
    assert first.get("veo") == GOOGLE_KEY and second.get("elevenlabs") == ELEVEN_KEY
    assert first.status() == [("gemini", "env"), ("elevenlabs", "env"), ("anthropic", None)]
    assert not first.keyring_usable
    warning = first.warning or ""
    assert "KeyringLocked" in warning and "GEMINI_API_KEY" in warning
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "environment" in warnings[0].getMessage()
    assert GOOGLE_KEY not in caplog.text and ELEVEN_KEY not in caplog.text


def test_no_keyring_and_no_environment_is_quiet(
    locked: LockedKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    store = KeyStore(env={})
    assert store.get("gemini") is None and store.status()[0] == ("gemini", None)
    assert store.warning is not None  # shown by `studio keys list`, not logged
    assert caplog.records == []


def test_storing_without_a_keyring_says_what_to_do(locked: LockedKeyring) -> None:
    with pytest.raises(KeyStoreError) as info:
        KeyStore(env={}).set("gemini", GOOGLE_KEY)
    assert "GEMINI_API_KEY" in str(info.value) and GOOGLE_KEY not in str(info.value)


@pytest.mark.parametrize(
    ("provider", "key", "words"),
    [
        ("gemini", "   ", "empty"),
        ("gemini", "two words", "does not look like"),
        ("gemini", "abc1234", "too short"),
        ("dalle", GOOGLE_KEY, "no key for 'dalle'"),
    ],
)
def test_bad_input(memory: MemoryKeyring, provider: str, key: str, words: str) -> None:
    with pytest.raises(KeyStoreError, match=words):
        KeyStore(env={}).set(provider, key)
    assert memory.values == {}


def test_the_registry_adds_each_keyed_provider(memory: MemoryKeyring) -> None:
    store = KeyStore(env={})
    assert default_registry(keys=store).names() == ["local"]
    store.set("elevenlabs", ELEVEN_KEY)
    assert default_registry(keys=store).names() == ["local", "elevenlabs"]
    store.set("gemini", GOOGLE_KEY)
    registry = default_registry(
        keys=store, base_urls={"veo": "http://gateway.local:8080/", "elevenlabs": "http://el.local"}
    )
    assert registry.names() == ["local", "gemini", "veo", "elevenlabs", "lyria"]
    assert registry.get("veo").base_url == "http://gateway.local:8080"
    assert registry.get("gemini").base_url is None
    assert GOOGLE_KEY not in repr(registry.get("gemini"))


def test_the_studio_reads_keys_and_base_urls(
    tmp_path: Path, memory: MemoryKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ELEVENLABS_API_KEY", raising=False)
    KeyStore(env={}).set("gemini", GOOGLE_KEY)
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        studio.library.set_setting("providers.lyria.base_url", "http://127.0.0.1:9999")
        names = studio.providers.names()
        lyria = studio.providers.get("lyria")
    assert names == ["local", "gemini", "veo", "lyria"]
    assert lyria.base_url == "http://127.0.0.1:9999"
    assert GOOGLE_KEY.encode() not in (tmp_path / "home" / "library.db").read_bytes()


def test_http_library_log_records_lose_the_key(caplog: pytest.LogCaptureFixture) -> None:
    from workers.cloud import SECRETS, redact

    SECRETS.add(GOOGLE_KEY)
    caplog.set_level(logging.DEBUG)
    logging.getLogger("httpx").info("GET https://example.test/v1?key=%s", GOOGLE_KEY)
    try:
        raise RuntimeError(f"boom {ELEVEN_KEY}")
    except RuntimeError:
        logging.getLogger("httpcore.http11").debug("failed", exc_info=True)
    assert GOOGLE_KEY not in caplog.text and "[redacted]" in caplog.text
    assert ELEVEN_KEY not in caplog.text  # anything shaped like a key goes too
    assert redact(f"key={GOOGLE_KEY}&x=1") == "key=[redacted]&x=1"
