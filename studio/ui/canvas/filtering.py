"""What the canvas find/filter matches: criteria, a one-line query syntax, the test.

Pure (no Qt). A query is words and ``key:value`` tokens::

    hero sword kind:image type:character tag:blue #weapon is:starred "red cape"

Words (and quoted phrases) must all appear, case-insensitively, in the asset's name,
type, tags or one of its variants' prompts. ``kind:`` / ``type:`` / ``tag:`` (or
``#tag``) may repeat: kinds and types match any of those given, tags must all be
present. ``is:starred`` keeps assets with a starred variant (``-is:starred`` the
others).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from studio.store.records import AssetRow


@dataclass(frozen=True, slots=True)
class CanvasFilter:
    words: tuple[str, ...] = ()  # lower-case
    media_kinds: frozenset[str] = field(default_factory=frozenset)
    types: frozenset[str] = field(default_factory=frozenset)  # lower-case
    tags: frozenset[str] = field(default_factory=frozenset)  # lower-case
    starred: bool | None = None
    prompts: bool = True  # search the variants' prompt text too

    @property
    def empty(self) -> bool:
        return not (self.words or self.media_kinds or self.types or self.tags) and (
            self.starred is None
        )

    @property
    def needs_prompts(self) -> bool:
        return self.prompts and bool(self.words)


KINDS = {"image": "image", "img": "image", "audio": "audio", "sound": "audio", "video": "video"}


def parse_query(text: str) -> CanvasFilter:
    """Parse the find bar's text (see the module doc). Unknown ``key:`` tokens are
    searched as plain words."""
    try:
        tokens = shlex.split(text)
    except ValueError:  # an unclosed quote: take the text as plain words
        tokens = text.split()
    words: list[str] = []
    kinds: set[str] = set()
    types: set[str] = set()
    tags: set[str] = set()
    starred: bool | None = None
    for tok in tokens:
        low = tok.lower()
        key, sep, value = low.partition(":")
        if low.startswith("#") and len(low) > 1:
            tags.add(low[1:])
        elif sep and key == "kind" and value in KINDS:
            kinds.add(KINDS[value])
        elif sep and key == "type" and value:
            types.add(value)
        elif sep and key == "tag" and value:
            tags.add(value)
        elif low in ("is:starred", "starred:yes", "is:star"):
            starred = True
        elif low in ("-is:starred", "starred:no"):
            starred = False
        elif low:
            words.append(low)
    return CanvasFilter(tuple(words), frozenset(kinds), frozenset(types), frozenset(tags), starred)


def asset_matches(
    f: CanvasFilter,
    asset: AssetRow,
    starred: bool,
    prompts: Callable[[], Iterable[str]] | None = None,
) -> bool:
    """Does ``asset`` pass ``f``? ``starred``: does any of its variants carry a star.
    ``prompts`` gives its variants' prompt texts, asked for only when a word is not
    found in the name, type or tags."""
    if f.media_kinds and asset.media_kind not in f.media_kinds:
        return False
    if f.types and asset.type.lower() not in f.types:
        return False
    if f.starred is not None and starred != f.starred:
        return False
    tags = [t.lower() for t in asset.tags] if (f.tags or f.words) else []
    if f.tags and not f.tags.issubset(tags):
        return False
    if not f.words:
        return True
    hay = " ".join([asset.name.lower(), asset.type.lower(), *tags])
    missing = [w for w in f.words if w not in hay]
    if not missing:
        return True
    if not f.prompts or prompts is None:
        return False
    text = " ".join(p.lower() for p in prompts())
    return all(w in text for w in missing)


def reading_order(positions: Iterable[tuple[str, float, float]], row: float = 140.0) -> list[str]:
    """Ids sorted top-to-bottom, then left-to-right (cards whose tops are within
    ``row`` of each other count as one row)."""
    return [i for i, _x, _y in sorted(positions, key=lambda p: (round(p[2] / row), p[1]))]
