"""Every size and range limit on data that enters the studio, in one place.

The command codec, the JSON reader and the command line check values against these
before anything is written, so handlers only see values of bounded size and work under
the write lock stays small. Each check raises :class:`ValidationError` with one sentence.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any

from studio.core.errors import ValidationError

# text
MAX_NAME = 200
MAX_TYPE = 64
MAX_TAG_LEN = 64
MAX_TAGS = 64
MAX_NOTE = 4000
MAX_PROMPT = 20_000
MAX_FILE_NAME = 1000
MAX_ERROR_CODE = 64
MAX_ERROR_MESSAGE = 2000
MAX_PATH = 1024
MAX_ID = 64
MAX_TEXT = 4000
"""Any other text field of a command."""

# lists
MAX_REFERENCES = 14
MAX_POSITIONS = 10_000
MAX_ITEMS = 10_000
MAX_LIST = 1000
"""Any other list field of a command."""

# numbers
MIN_INT = -(2**63)
MAX_INT = 2**63 - 1
"""SQLite's integer range: a bigger whole number can't be stored."""
MAX_INT_DIGITS = 20
MAX_ABS_FLOAT = 1e15
MAX_COORDINATE = 1e9

# JSON
MAX_JSON_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 32
MAX_JSON_NODES = 100_000
MAX_JSON_STRING = 256 * 1024

_ID = re.compile(r"[A-Za-z0-9_.:-]*")
NOT_TEXT = "holds bytes that are not valid UTF-8 text (or a lone surrogate)"


def check_text(
    value: str, what: str, max_len: int = MAX_TEXT, *, nul_ok: bool = False, slack: int = 1
) -> str:
    """``value`` if it is real text (no lone surrogates, no NUL) of at most ``max_len``
    characters (``slack`` times that as it arrives, before whitespace folds away); else a
    ValidationError naming ``what``."""
    if len(value) > max_len * slack:
        raise ValidationError(f"{what} is {len(value)} characters long; the limit is {max_len}")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            raise ValidationError(f"{what} {NOT_TEXT}") from None
    if not nul_ok and "\x00" in value:
        raise ValidationError(f"{what} holds a NUL character")
    return value


def check_id(value: str, what: str) -> str:
    """An id: up to 64 letters, digits, dashes, underscores, dots or colons."""
    if len(value) > MAX_ID or not _ID.fullmatch(value):
        raise ValidationError(
            f"{what} is not an id (ids are up to {MAX_ID} letters, digits, '-', '_', '.' or ':')"
        )
    return value


def check_int(value: int, what: str, lo: int = MIN_INT, hi: int = MAX_INT) -> int:
    if not lo <= value <= hi:
        raise ValidationError(f"{what} must be a whole number from {lo} to {hi}")
    return value


def check_float(value: float, what: str, limit: float = MAX_ABS_FLOAT) -> float:
    if not math.isfinite(value):
        raise ValidationError(f"{what} must be a finite number")
    if abs(value) > limit:
        raise ValidationError(f"{what} must be between {-limit:g} and {limit:g}")
    return float(value)


def check_json_value(value: Any, what: str) -> Any:
    """A deep copy of a JSON-like value (objects with string keys, lists, strings,
    finite numbers, booleans, null), within the depth, node and string limits.

    Walks the value without recursion, so any depth is refused cleanly."""
    root: list[Any] = [None]
    stack: list[tuple[Any, list[Any] | dict[str, Any], Any, int]] = [(value, root, 0, 1)]
    nodes = 0
    while stack:
        item, parent, slot, depth = stack.pop()
        nodes += 1
        if nodes > MAX_JSON_NODES:
            raise ValidationError(f"{what} holds more than {MAX_JSON_NODES} values")
        if depth > MAX_JSON_DEPTH:
            raise ValidationError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels")
        out: Any
        if item is None or isinstance(item, bool):
            out = item
        elif isinstance(item, int):
            out = check_int(item, what)
        elif isinstance(item, float):
            out = check_float(item, what, math.inf)
        elif isinstance(item, str):
            out = check_text(item, what, MAX_JSON_STRING)
        elif isinstance(item, Mapping | list | tuple) and nodes + len(stack) + len(item) > (
            MAX_JSON_NODES
        ):
            raise ValidationError(f"{what} holds more than {MAX_JSON_NODES} values")
        elif isinstance(item, Mapping):
            out = {}
            for k, v in item.items():
                if not isinstance(k, str):
                    raise ValidationError(f"{what} has a key that is not a string")
                check_text(k, f"a key in {what}", MAX_NAME)
                out[k] = None
                stack.append((v, out, k, depth + 1))
        elif isinstance(item, list | tuple):
            out = [None] * len(item)
            for i, v in enumerate(item):
                stack.append((v, out, i, depth + 1))
        else:
            raise ValidationError(f"{what} holds a value that is not JSON ({type(item).__name__})")
        parent[slot] = out
    return root[0]


RAW_SLACK = 4
"""Text as it arrives may be this many times its limit: whitespace folds away, and the
handler checks the folded text against the exact limit (with a message that names the
field). Beyond that the codec refuses the raw text."""

TEXT_LIMITS: dict[str, int] = {
    "name": MAX_NAME,
    "title": MAX_NAME,
    "type": MAX_TYPE,
    "tags": MAX_TAG_LEN,
    "prompt": MAX_PROMPT,
    "note": MAX_NOTE,
    "original_name": MAX_FILE_NAME,
    "error_code": MAX_ERROR_CODE,
    "error_message": MAX_ERROR_MESSAGE,
    "reason": MAX_ERROR_MESSAGE,
    "media_path": MAX_PATH,
    "thumb_path": MAX_PATH,
    "poster_path": MAX_PATH,
    "mime": 255,
    "sha256": 128,
    "color": 64,
    "provider": 64,
    "model": 128,
    "size": 64,
    "aspect_ratio": 64,
}
"""Longest text of a command field, by field name (others: :data:`MAX_TEXT`)."""

LIST_LIMITS: dict[str, int] = {
    "tags": MAX_TAGS,
    "references": MAX_REFERENCES,
    "positions": MAX_POSITIONS,
    "item_ids": MAX_ITEMS,
}
"""Most items of a command's list field, by field name (others: :data:`MAX_LIST`)."""

FLOAT_LIMITS: dict[str, float] = {
    "x": MAX_COORDINATE,
    "y": MAX_COORDINATE,
    "width": MAX_COORDINATE,
    "height": MAX_COORDINATE,
    "duration_s": 86_400.0,
}
"""Largest magnitude of a command's number field, by field name."""

INT_RANGES: dict[str, tuple[int, int]] = {
    "size_bytes": (0, MAX_INT),
    "width": (0, 1_000_000),
    "height": (0, 1_000_000),
    "duration_ms": (0, MAX_INT),
    "lease_ms": (1, 7 * 86_400_000),
    "count": (1, 1000),
    "priority": (-1_000_000, 1_000_000),
    "position": (0, MAX_INT),
}
"""Range of a command's whole-number field, by field name."""


def shown(text: str, most: int = 40) -> str:
    """User text made safe to quote in a message: cut to ``most`` characters, with lone
    surrogates and control characters escaped."""
    cut = text[:most] + ("…" if len(text) > most else "")
    safe = cut.encode("utf-8", "backslashreplace").decode("utf-8")
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in safe)


def is_id_field(name: str) -> bool:
    return name.endswith(("_id", "_ids"))
