"""API keys: kept in the OS keyring (service ``forge-studio``), never in a space file,
``library.db``, a log line, an error message or an export.

Without a usable keyring (no Secret Service, a locked or refusing backend) keys come
from the environment instead — ``GEMINI_API_KEY``, ``ELEVENLABS_API_KEY``,
``ANTHROPIC_API_KEY`` — and the store says so once, clearly. Values are never logged.

Where no keyring exists the user may instead opt in to a **key file**
(``<data folder>/api-keys.json``): created for this user only (mode 0600), never used
when it is readable by anyone else, and never created without that explicit choice
(:meth:`KeyStore.use_key_file`). Its risk, in the words Preferences shows:
:data:`KEY_FILE_RISK`.
"""

from __future__ import annotations

import json
import logging
import os
import stat
import sys
import threading
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
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
Source = Literal["keyring", "file", "env"]
KEY_FILE_NAME = "api-keys.json"
KEY_FILE_RISK = (
    "The keys are stored unencrypted in a file only your user account can read. Anything "
    "running as you — and any backup or sync of the data folder — can read them too."
)

_warned = threading.Event()  # the fallback warning is logged once per process
_chosen = threading.Lock()
_backend_set = False


def _keyring() -> ModuleType:
    """The ``keyring`` module, its backend chosen once per process.

    keyring's own detection imports every backend it knows; its macOS one asks ctypes for
    the Security framework at import, which on Linux runs ``ldconfig`` and then ``gcc``
    (about half a second, in every process that touches a key). Off macOS this picks
    the best viable backend the same way (highest priority) without importing that one
    (nor the chainer, whose priority asks for every backend again). A backend named by
    ``PYTHON_KEYRING_BACKEND`` or keyring's config file, and the case of several usable
    backends (keyring chains them), are left to keyring."""
    global _backend_set
    import keyring

    with _chosen:
        if _backend_set:
            return keyring
        try:
            _choose(keyring)
        except Exception as exc:  # whatever a backend raised: keyring's own choice stands
            log.debug("choosing a keyring backend: %s", exc)
        finally:
            _backend_set = True  # chosen, or left to keyring (which reports its own errors)
        return keyring


def _choose(keyring: ModuleType) -> None:
    if sys.platform == "darwin" or os.environ.get("PYTHON_KEYRING_BACKEND"):
        return
    from importlib.metadata import entry_points

    from keyring import backend, core
    from keyring.backends import fail

    try:
        if core.load_config() is not None:
            return
    except Exception:  # a broken config file: let keyring report it as it does
        return
    for ep in entry_points(group="keyring.backends"):
        if ep.name in ("macOS", "chainer"):
            continue
        try:
            init = ep.load()
            if callable(init):
                init()
        except Exception as exc:  # a broken plugin is skipped, as keyring does
            log.debug("keyring plugin %s: %s", ep.name, exc)
    rings = []
    for cls in backend.KeyringBackend.get_viable_backends():
        if cls.__module__.startswith(("keyring.backends.macOS", "keyring.backends.chainer")):
            continue
        try:
            rings.append(cls())
        except Exception:  # needs arguments, or broken: not one to pick
            continue
    if sum(1 for r in rings if r.priority > 0) > 1:
        # several usable backends: keyring chains them (a key may live in any); its own
        # detection does that, at the price of the compiler run
        return
    core.set_keyring(max(rings, key=backend.by_priority, default=fail.Keyring()))


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
        key_file: Path | None = None,
    ) -> None:
        """``announce``: log the fallback warning (once per process) when a key comes
        from the environment because the keyring can't be used; callers that show
        :attr:`warning` themselves pass False."""
        self.service = service
        self._env = env if env is not None else os.environ
        self._announce = announce
        self._lock = threading.Lock()
        self._unusable: str | None = None  # why the keyring can't be used, once known
        self.key_file = key_file  # used only once the user opted in (the file exists)
        self._file_problem: str | None = None

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

    # ------------------------------------------------------------------ the key file
    @property
    def key_file_in_use(self) -> bool:
        """The user opted in to the key file (it exists)."""
        return self.key_file is not None and self.key_file.is_file()

    def use_key_file(self, on: bool) -> None:
        """Opt in (create the empty key file, readable only by this user) or out (remove
        it, and the keys in it)."""
        if self.key_file is None:
            raise KeyStoreError("no key file is configured here")
        if not on:
            try:
                self.key_file.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:
                raise KeyStoreError(f"could not remove the key file: {exc.strerror}") from None
            return
        if not self.key_file_in_use:
            self._write_file({})

    def _file_keys(self) -> dict[str, str]:
        if not self.key_file_in_use:
            return {}
        assert self.key_file is not None
        try:
            mode = self.key_file.stat().st_mode
            if os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                self._file_problem = (
                    f"the key file {self.key_file} is readable by other users, so it is not "
                    "used: make it yours only (chmod 600)"
                )
                return {}
            data = json.loads(self.key_file.read_text(encoding="utf-8") or "{}")
        except (OSError, ValueError):
            self._file_problem = f"the key file {self.key_file} could not be read"
            return {}
        self._file_problem = None
        if not isinstance(data, dict):
            return {}
        return {k: v.strip() for k, v in data.items() if k in KEY_NAMES and isinstance(v, str)}

    def _write_file(self, keys: Mapping[str, str]) -> None:
        """Write the key file whole: a new file created 0600, fsynced, renamed over."""
        assert self.key_file is not None
        tmp = self.key_file.with_name(f".{self.key_file.name}.{os.getpid()}.tmp")
        try:
            self.key_file.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(dict(keys), f)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, self.key_file)
        except OSError as exc:
            try:
                tmp.unlink()
            except OSError:
                pass
            raise KeyStoreError(f"could not write the key file: {exc.strerror}") from None

    @property
    def file_problem(self) -> str | None:
        """Why the key file is not used although it exists (too open, unreadable)."""
        self._file_keys()
        return self._file_problem

    def _lookup(self, name: str) -> tuple[str | None, Source | None]:
        value = self._keyring_get(name)
        if value:
            register(value)  # every key this process holds is redacted everywhere
            return value, "keyring"
        file_value = self._file_keys().get(name) if self._unusable is not None else None
        if file_value:
            register(file_value)
            return file_value, "file"
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
        keyring = _keyring()

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
        keyring = _keyring()

        if self._unusable is None:
            try:
                keyring.set_password(self.service, name, key)
                return
            except Exception as exc:
                self._mark_unusable(exc, secret=key)
        if self.key_file_in_use:
            keys = self._file_keys()
            if self.file_problem is not None:
                raise KeyStoreError(str(self.file_problem))
            self._write_file({**keys, name: key})
            return
        raise KeyStoreError(
            f"could not store the {name} key: {self._unusable}. "
            f"Set {ENV_VARS[name]} in the environment instead"
            + (", or opt in to the key file in Preferences ▸ Keys" if self.key_file else "")
        )

    def delete(self, provider: str) -> bool:
        """Remove a key from the keyring (or the key file). False when it was not there."""
        name = key_name(provider)
        keyring = _keyring()
        from keyring.errors import PasswordDeleteError

        if self.keyring_usable is False and self.key_file_in_use:
            keys = self._file_keys()
            if name not in keys:
                return False
            del keys[name]
            self._write_file(keys)
            return True

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
