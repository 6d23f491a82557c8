"""Reading JSON text from outside (argv, stdin, a file, a peer) within the limits.

``json.loads`` alone accepts ``NaN``/``Infinity``, turns ``1e400`` into ``inf``, raises
``ValueError`` on 5000-digit integers and ``RecursionError`` on deep nesting. This reader
turns each of those into one clear :class:`ValidationError`.
"""

from __future__ import annotations

import json
from typing import Any

from studio.core.errors import ValidationError
from studio.core.limits import (
    MAX_INT_DIGITS,
    MAX_JSON_BYTES,
    MAX_JSON_DEPTH,
    check_json_value,
    check_text,
)


class JsonSyntaxError(ValidationError):
    """The text is not JSON at all (as opposed to JSON beyond the limits)."""


def _no_constant(name: str) -> Any:
    raise ValidationError(f"{name} is not a number JSON allows here")


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValidationError(f"a whole number has more than {MAX_INT_DIGITS} digits")
    return int(text)


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise ValidationError(f"the number {text[:20]}… is too large")
    return value


def decode_utf8(data: bytes, what: str) -> str:
    """Strict UTF-8 (a BOM is dropped); invalid bytes get one clear error."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationError(f"{what} is not valid UTF-8 (byte {exc.start})") from None


def parse_json(data: str | bytes, what: str = "the JSON") -> Any:
    """Parse JSON text into plain values within :mod:`studio.core.limits`."""
    if len(data) > MAX_JSON_BYTES:
        raise ValidationError(f"{what} is larger than {MAX_JSON_BYTES // 1024} KiB")
    text = decode_utf8(data, what) if isinstance(data, bytes) else data
    check_text(text, what, MAX_JSON_BYTES, nul_ok=True)
    try:
        value = json.loads(
            text,
            parse_constant=_no_constant,
            parse_int=_bounded_int,
            parse_float=_finite_float,
        )
    except ValidationError as exc:
        raise ValidationError(f"{what}: {exc.message}") from None
    except json.JSONDecodeError as exc:
        raise JsonSyntaxError(
            f"{what} is not valid JSON: {exc.msg} at position {exc.pos}"
        ) from None
    except RecursionError:
        raise ValidationError(f"{what} is nested deeper than {MAX_JSON_DEPTH} levels") from None
    return check_json_value(value, what)
