"""Validation shared by the handlers."""

from __future__ import annotations

import math
from collections.abc import Iterable

from studio.clock import slugify, unique_slug
from studio.core.errors import ConflictError, ValidationError
from studio.core.tx import Tx

MAX_NAME = 200
MAX_TAG = 64
MAX_TAGS = 64
MAX_NOTE = 4000
MAX_PROMPT = 20_000


def clean_text(value: str, what: str, *, max_len: int = MAX_NAME, required: bool = True) -> str:
    text = " ".join(value.split())
    if required and not text:
        raise ValidationError(f"the {what} can't be empty")
    if len(text) > max_len:
        raise ValidationError(f"the {what} is {len(text)} characters long; the limit is {max_len}")
    return text


def clean_tags(tags: Iterable[str]) -> tuple[str, ...]:
    out: list[str] = []
    for tag in tags:
        t = " ".join(tag.split()).lower()
        if not t:
            continue
        if len(t) > MAX_TAG:
            raise ValidationError(f"the tag {t[:20]!r}… is longer than {MAX_TAG} characters")
        if t not in out:
            out.append(t)
    if len(out) > MAX_TAGS:
        raise ValidationError(f"an asset can have at most {MAX_TAGS} tags")
    return tuple(out)


def coordinate(value: float, what: str) -> float:
    if not math.isfinite(value) or abs(value) > 1e9:
        raise ValidationError(f"{what} must be a finite number")
    return float(value)


def fresh_id(tx: Tx, table: str, given: str | None) -> str:
    if given is None:
        return tx.new_id()
    if not given or len(given) > 64 or not given.replace("-", "").replace("_", "").isalnum():
        raise ValidationError("ids are 1–64 letters, digits, dashes or underscores")
    if tx.exists(table, given):
        raise ConflictError(f"the id {given} is already taken")
    return given


def asset_slug(tx: Tx, name: str) -> str:
    return unique_slug(
        slugify(name, fallback="asset"),
        lambda s: tx.scalar("SELECT 1 FROM assets WHERE slug = ?", (s,)) is not None,
    )


def update_row(tx: Tx, table: str, key: str, sets: dict[str, object]) -> None:
    """``UPDATE table SET …, updated_at = now WHERE id = key``."""
    cols = ", ".join(f"{k} = ?" for k in sets)
    tx.conn.execute(
        f"UPDATE {table} SET {cols}, updated_at = ? WHERE id = ?",
        (*sets.values(), tx.now, key),
    )
