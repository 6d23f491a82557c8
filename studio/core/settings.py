"""Typed settings kept in ``library.db``.

Every key the studio stores has a spec here: its pattern (``jobs.<provider>.concurrency``),
its type and range. :func:`put` refuses a bad value with one clear sentence; :func:`get`
reads a value back typed, and a stored value that is bad anyway (written by hand, by an
older version) is reported once and replaced by the default — never fatal.
"""

from __future__ import annotations

import base64
import binascii
import logging
import math
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from studio.core.errors import ValidationError
from studio.core.jsontext import parse_json
from studio.core.limits import check_text, shown

log = logging.getLogger(__name__)

MODES = ("image", "video", "speech", "dialogue", "music", "sfx")
"""The media modes that each have a default provider (``providers.default.<mode>``)."""
DEFAULT_CONCURRENCY = {"local": 2, "gemini": 2, "veo": 1, "elevenlabs": 2, "lyria": 1}
MAX_VALUE = 64 * 1024

LOCAL_LATENCY = "providers.local.latency_s"
WELCOME_DONE = "welcome.created"
LAST_SPACE = "ui.last_space"
WINDOW_GEOMETRY = "ui.window.geometry"
WINDOW_STATE = "ui.window.state"
IMPORT_FOLDER = "ui.folder.import"
EXPORT_FOLDER = "ui.folder.export"
SHARED_SPACES = "ui.sharing.spaces"
"""{space id: port} of the spaces the owner left shared: sharing resumes at the next start."""


_NAME = r"([a-z0-9][a-z0-9_-]{0,63})"
_SPACE = r"([A-Za-z0-9_.:-]{1,64})"


class SettingsStore(Protocol):
    """What of :class:`studio.store.library.Library` the settings use."""

    def setting(self, key: str, default: str | None = None) -> str | None: ...

    def settings(self) -> list[tuple[str, str]]: ...

    def set_setting(self, key: str, value: str) -> None: ...

    def delete_setting(self, key: str) -> None: ...


class SettingError(ValidationError):
    """A value (or key) that is not a valid setting."""


@dataclass(frozen=True, slots=True)
class Spec:
    pattern: str
    """The key, with ``<part>`` for its variable parts."""
    regex: re.Pattern[str]
    parse: Callable[[str], Any]
    """Stored text -> typed value; raises :class:`SettingError`."""
    allowed: str
    """The values allowed, in words."""
    default: Callable[[re.Match[str]], Any]

    def dump(self, value: Any) -> str:
        if isinstance(value, float):
            short = f"{value:g}"
            return short if float(short) == value else repr(value)
        return str(value)


# --------------------------------------------------------------------------- value types


def _whole(lo: int, hi: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        t = text.strip()
        if not re.fullmatch(r"[+-]?[0-9]{1,20}", t) or not lo <= int(t) <= hi:
            raise SettingError(f"must be a whole number from {lo} to {hi}")
        return int(t)

    return parse


def _number(lo: float, hi: float) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = float(text) if len(text) <= 40 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or not lo <= value <= hi:
            raise SettingError(f"must be a number from {lo:g} to {hi:g}")
        return value

    return parse


def _url(text: str) -> str:
    t = text.strip()
    try:
        parts = urlsplit(t)
        ok = (
            parts.scheme in ("http", "https")
            and bool(parts.hostname)
            and "@" not in parts.netloc
            and not re.search(r"[\s\x00-\x1f\x7f]", t)
            and len(t) <= 2048
        )
        _ = parts.port  # raises ValueError on a bad port
    except ValueError:
        ok = False
    if not ok:
        raise SettingError("must be an http:// or https:// URL with a host (and no password)")
    return t


def _provider(text: str) -> str:
    t = text.strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", t):
        raise SettingError("must be a provider name such as local or gemini")
    return t


def _json_object(text: str) -> str:
    try:
        value = parse_json(text, "the value")
    except ValidationError:
        value = None
    if not isinstance(value, dict):
        raise SettingError("must be a JSON object")
    return text


def _folder(text: str) -> str:
    if (not text.startswith("/") and not re.match(r"[A-Za-z]:[\\/]", text)) or len(text) > 4096:
        raise SettingError("must be an absolute folder path")
    return text


def _base64(text: str) -> str:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise SettingError("must be base64 text") from None
    return text


def _space_id(text: str) -> str:
    if not re.fullmatch(_SPACE, text):
        raise SettingError("must be a space id")
    return text


def _flag(text: str) -> str:
    if text not in ("0", "1"):
        raise SettingError("must be 0 or 1")
    return text


def _spec(
    pattern: str,
    parse: Callable[[str], Any],
    allowed: str,
    default: Callable[[re.Match[str]], Any] = lambda m: None,
) -> Spec:
    parts = {
        "<provider>": _NAME,
        "<name>": _NAME,
        "<space_id>": _SPACE,
        "<mode>": "(" + "|".join(MODES) + ")",
    }
    body = "".join(
        parts[p] if p in parts else re.escape(p) for p in re.split(r"(<[a-z_]+>)", pattern)
    )
    return Spec(pattern, re.compile(body), parse, allowed, default)


SPECS: tuple[Spec, ...] = (
    _spec(
        "jobs.<provider>.concurrency",
        _whole(1, 64),
        "a whole number from 1 to 64",
        lambda m: DEFAULT_CONCURRENCY.get(m.group(1), 2),
    ),
    _spec(
        "jobs.<provider>.per_minute",
        _whole(1, 10_000),
        "a whole number from 1 to 10000 (unset it for no limit)",
    ),
    _spec(LOCAL_LATENCY, _number(0.0, 60.0), "a number of seconds from 0 to 60", lambda m: 0.0),
    _spec(
        "providers.<name>.base_url", _url, "an http:// or https:// URL with a host (no password)"
    ),
    _spec("providers.default.<mode>", _provider, "a provider name such as local or gemini"),
    _spec(WELCOME_DONE, _flag, "0 or 1"),
    _spec(LAST_SPACE, _space_id, "a space id"),
    _spec(WINDOW_GEOMETRY, _base64, "base64 text (the app writes it)"),
    _spec(WINDOW_STATE, _base64, "base64 text (the app writes it)"),
    _spec(IMPORT_FOLDER, _folder, "an absolute folder path (the app writes it)"),
    _spec(EXPORT_FOLDER, _folder, "an absolute folder path (the app writes it)"),
    _spec(SHARED_SPACES, _json_object, "a JSON object (the app writes it)"),
    _spec("ui.view.<space_id>", _json_object, "a JSON object (the app writes it)"),
    _spec("ui.tray.<space_id>", _json_object, "a JSON object (the app writes it)"),
)


# --------------------------------------------------------------------------- the API


def spec_for(key: str) -> tuple[Spec, re.Match[str]]:
    check_text(key, "the setting name", 200)
    for spec in SPECS:
        if (m := spec.regex.fullmatch(key)) is not None:
            return spec, m
    known = ", ".join(s.pattern for s in SPECS)
    raise SettingError(f"{shown(key)!r} is not a setting; the settings are: {known}")


def check(key: str, value: str) -> str:
    """The text to store for ``key`` = ``value``; SettingError if either is bad."""
    spec, _m = spec_for(key)
    if len(value) > MAX_VALUE:
        raise SettingError(f"{key} is longer than {MAX_VALUE} characters")
    check_text(value, f"the value of {key}", MAX_VALUE)
    try:
        typed = spec.parse(value)
    except SettingError:
        raise SettingError(f"{key} must be {spec.allowed}; {shown(value)!r} is not") from None
    return spec.dump(typed)


def put(store: SettingsStore, key: str, value: str | None) -> None:
    """Store a checked value (``None`` unsets the key: its default applies)."""
    if value is None:
        spec_for(key)
        store.delete_setting(key)
        return
    store.set_setting(key, check(key, value))


def remember(store: SettingsStore, key: str, value: str) -> bool:
    """:func:`put` for state the app keeps for itself (window layout, view, tray): a value
    that fails its check is logged and not stored, never raised into the UI."""
    try:
        put(store, key, value)
    except SettingError as exc:
        log.warning("not remembering %s: %s", key, exc.message)
        return False
    return True


def get(store: SettingsStore, key: str) -> Any:
    """The typed value of ``key``, or its default when unset or stored bad (reported once)."""
    spec, m = spec_for(key)
    raw = store.setting(key)
    if raw is None:
        return spec.default(m)
    try:
        return spec.parse(raw)
    except SettingError:
        _report(key, raw, f"must be {spec.allowed}", spec.default(m))
        return spec.default(m)


def problem(key: str, raw: str) -> str | None:
    """Why a stored ``raw`` value of ``key`` is not used, or None if it is fine."""
    try:
        spec, _m = spec_for(key)
    except SettingError:
        return "is not a known setting"
    try:
        spec.parse(raw)
    except SettingError:
        return f"must be {spec.allowed}"
    return None


_REPORTED: set[tuple[str, str]] = set()
_REPORTED_LOCK = threading.Lock()


def _report(key: str, raw: str, why: str, default: Any) -> None:
    with _REPORTED_LOCK:
        if (key, raw) in _REPORTED:
            return
        _REPORTED.add((key, raw))
    used = "the default" if default is None else f"the default ({default!r})"
    log.warning(
        "the setting %s is ignored: it %s, but holds %r; using %s "
        "(fix it with `studio settings %s VALUE` or `--unset`)",
        key,
        why,
        shown(raw),
        used,
        key,
    )


# --------------------------------------------------------------------------- typed readers


def get_or(store: SettingsStore, key: str, fallback: Any) -> Any:
    """:func:`get`, or ``fallback`` for a key outside every pattern (a provider or mode
    name the settings don't know): reading never raises."""
    try:
        return get(store, key)
    except SettingError:
        return fallback


def concurrency(store: SettingsStore, provider: str) -> int:
    value: int = get_or(store, f"jobs.{provider}.concurrency", DEFAULT_CONCURRENCY.get(provider, 2))
    return value


def per_minute(store: SettingsStore, provider: str) -> int | None:
    value: int | None = get_or(store, f"jobs.{provider}.per_minute", None)
    return value


def local_latency_s(store: SettingsStore) -> float:
    value: float = get(store, LOCAL_LATENCY)
    return value


def base_url(store: SettingsStore, provider: str) -> str | None:
    value: str | None = get_or(store, f"providers.{provider}.base_url", None)
    return value


def default_provider(store: SettingsStore, mode: str) -> str | None:
    value: str | None = get_or(store, f"providers.default.{mode}", None)
    return value
