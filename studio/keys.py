"""API keys: kept in the OS keyring (service ``forge-studio``), never in a space file,
``library.db``, a log line, an error message or an export.

Without a usable keyring (no Secret Service, a locked or refusing backend) keys come
from the environment instead — ``GEMINI_API_KEY``, ``ELEVENLABS_API_KEY``,
``ANTHROPIC_API_KEY`` — and the store says so once, clearly. Values are never logged.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import Literal

from workers.redaction import MIN_SECRET, redact, register

log = logging.getLogger(__name__)

SERVICE = "forge-studio"
KEY_NAMES = ("gemini", "elevenlabs", "anthropic")
ENV_VARS: Mapping[str, str] = {
    "gemini": "GEMINI_API_KEY",
    "elevenlabs": "ELEVENLABS_API_KEY",
    "anthropic": "ANTHROPIC_API_KEY",
}
# Which key each provider uses: Veo and Lyria are Gemini API models.
KEY_FOR: Mapping[str, str] = {
    "gemini": "gemini",
    "veo": "gemini",
    "lyria": "gemini",
    "elevenlabs": "elevenlabs",
    "anthropic": "anthropic",
    "claude": "anthropic",
}
MAX_KEY_LENGTH = 1024
Source = Literal["keyring", "env"]

_warned = threading.Event()  # the fallback warning is logged once per process


class KeyStoreError(Exception):
    """A key could not be stored or removed (one line, no key in it)."""


def key_name(provider: str) -> str:
    """The key a provider uses (``veo`` → ``gemini``)."""
    name = KEY_FOR.get(provider.strip().lower())
    if name is None:
        raise KeyStoreError(
            f"there is no key for {provider!r} (keys: {', '.join(KEY_NAMES)}; "
            "veo and lyria use the gemini key)"
        )
    return name


class KeyStore:
    """Keys by provider, from the keyring first and the environment second."""

    def __init__(
        self,
        *,
        service: str = SERVICE,
        env: Mapping[str, str] | None = None,
        announce: bool = True,
    ) -> None:
        """``announce``: log the fallback warning (once per process) when a key comes
        from the environment because the keyring can't be used; callers that show
        :attr:`warning` themselves pass False."""
        self.service = service
        self._env = env if env is not None else os.environ
        self._announce = announce
        self._lock = threading.Lock()
        self._unusable: str | None = None  # why the keyring can't be used, once known

    # ------------------------------------------------------------------ reading
    def get(self, provider: str) -> str | None:
        value, _source = self._lookup(key_name(provider))
        return value

    def source(self, provider: str) -> Source | None:
        return self._lookup(key_name(provider))[1]

    def status(self) -> list[tuple[str, Source | None]]:
        """Each key name and where its value comes from (never the value)."""
        return [(name, self._lookup(name)[1]) for name in KEY_NAMES]

    @property
    def keyring_usable(self) -> bool:
        self._keyring_get(KEY_NAMES[0])
        return self._unusable is None

    @property
    def warning(self) -> str | None:
        """Why keys come from the environment, when the keyring can't be used."""
        if self._unusable is None:
            return None
        names = ", ".join(ENV_VARS[n] for n in KEY_NAMES)
        return (
            f"no usable OS keyring ({self._unusable}); API keys are read from the "
            f"environment instead ({names})"
        )

    def _lookup(self, name: str) -> tuple[str | None, Source | None]:
        value = self._keyring_get(name)
        if value:
            register(value)  # every key this process holds is redacted everywhere
            return value, "keyring"
        env_value = (self._env.get(ENV_VARS[name]) or "").strip()
        if env_value:
            register(env_value)
            if self._unusable is not None and self._announce and not _warned.is_set():
                _warned.set()
                log.warning("%s", self.warning)
            return env_value, "env"
        return None, None

    def _keyring_get(self, name: str) -> str | None:
        if self._unusable is not None:
            return None
        import keyring

        try:
            value = keyring.get_password(self.service, name)
        except Exception as exc:  # third-party backends raise all sorts; keep the reason
            self._mark_unusable(exc)
            return None
        return value.strip() if value else None

    def _mark_unusable(self, exc: BaseException, secret: str | None = None) -> None:
        reason = _reason(exc, (secret,) if secret else ())
        with self._lock:
            self._unusable = reason

    # ------------------------------------------------------------------ writing
    def set(self, provider: str, key: str) -> None:
        name = key_name(provider)
        key = key.strip()
        if not key:
            raise KeyStoreError("the key is empty")
        if len(key) > MAX_KEY_LENGTH or any(c.isspace() for c in key):
            raise KeyStoreError("that does not look like an API key (spaces or too long)")
        if len(key) < MIN_SECRET:  # a shorter one could not be told from ordinary words
            raise KeyStoreError(f"that is too short for an API key (under {MIN_SECRET} characters)")
        register(key)
        import keyring

        try:
            keyring.set_password(self.service, name, key)
        except Exception as exc:
            self._mark_unusable(exc, secret=key)
            raise KeyStoreError(
                f"could not store the {name} key: {self._unusable}. "
                f"Set {ENV_VARS[name]} in the environment instead"
            ) from None

    def delete(self, provider: str) -> bool:
        """Remove a key from the keyring. False when it was not there."""
        name = key_name(provider)
        import keyring
        from keyring.errors import PasswordDeleteError

        try:
            keyring.delete_password(self.service, name)
        except PasswordDeleteError:
            return False
        except Exception as exc:
            self._mark_unusable(exc)
            raise KeyStoreError(f"could not delete the {name} key: {self._unusable}") from None
        return True


def _reason(exc: BaseException, secrets: tuple[str, ...] = ()) -> str:
    """A short reason for a keyring failure: one line, one sentence, every key redacted
    *before* it is cut (backends' messages shouldn't carry the value; some might)."""
    from keyring.errors import NoKeyringError

    if isinstance(exc, NoKeyringError):
        return "no keyring backend here (no Secret Service, Keychain or Credential Locker)"
    text = redact(" ".join(str(exc).split()), secrets).split(". ")[0]
    text = text if len(text) <= 120 else text[:117] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
