"""CanvasFinder: the scene's find/filter state — which cards match, in what order.

Matching cards are highlighted, the others dimmed (``card.match`` = 1 / -1; 0 when no
filter is on), read from one set of matching ids (``scene.ctx.matching``) as the cards
paint. The window's find and filter panel compute their matches off the UI thread
(``studio.core.facets``) and hand them over with :meth:`CanvasFinder.show_result`, which
costs the UI thread no work per card. Prompt texts are not in the canvas rows: they are fetched once, on the
first text search, from the host's prompt source or else one ``space.variant_detail``
per variant, then cached (a variant's recipe never changes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import TYPE_CHECKING

from PySide6.QtCore import QRectF

from studio.core.errors import StudioError
from studio.store.records import AssetRow
from studio.ui.canvas.filtering import CanvasFilter, asset_matches, parse_query, reading_order
from studio.ui.canvas.geometry import CARD_H, CARD_W

if TYPE_CHECKING:
    from studio.ui.canvas.card import AssetCardItem
    from studio.ui.canvas.scene import CanvasScene

Predicate = Callable[[AssetRow], bool]


@dataclass(frozen=True, slots=True)
class MatchSet:
    """A filter answered elsewhere (the window's find worker): the matching ids."""

    ids: AbstractSet[str]


PromptSource = Callable[[Sequence[str]], Mapping[str, str]]  # variant ids -> prompt
Criteria = CanvasFilter | Predicate | str | None


class CanvasFinder:
    def __init__(self, scene: CanvasScene) -> None:
        self._scene = scene
        self.filter: CanvasFilter | Predicate | MatchSet | None = None
        self._matches: list[str] = []
        self._dirty = False
        self.current: str | None = None
        self._prompts: dict[str, str] = {}
        self._owned: dict[str, list[str]] | None = None
        """Every variant's id per asset, read for a text search (the canvas's model holds
        the cards' variants only); events' new variants are in the model besides."""
        # how to get variants' prompt texts for text search: ``source(variant_ids) ->
        # {variant_id: prompt}`` (default: ``space.variant_detail`` per variant, on the
        # first text search only)
        self.prompt_source: PromptSource | None = None

    def reset(self) -> None:
        self.filter = None
        self._scene.ctx.matching = None
        self._matches = []
        self._dirty = False
        self.current = None
        self._prompts.clear()
        self._owned = None

    @property
    def active(self) -> bool:
        return self.filter is not None

    def _set(self, criteria: Criteria, cards: Iterable[AssetCardItem]) -> None:
        if isinstance(criteria, str):
            criteria = parse_query(criteria)
        ctx = self._scene.ctx
        if criteria is None or (isinstance(criteria, CanvasFilter) and criteria.empty):
            self.filter = ctx.matching = None
            self._matches, self._dirty, self.current = [], False, None
            return
        self.filter = criteria
        self.current = None
        if isinstance(criteria, CanvasFilter) and criteria.needs_prompts:
            self._load_all_prompts()
        ctx.matching = {card.asset.id for card in cards if self._ok(card)}
        self._dirty = True

    def _ok(self, card: AssetCardItem) -> bool:
        f = self.filter
        a = card.asset
        if isinstance(f, MatchSet):
            return a.id in f.ids
        if isinstance(f, CanvasFilter):
            starred = self._scene.model.starred(a.id)
            return asset_matches(f, a, starred, lambda: self._prompts_of(a.id))
        return f is not None and bool(f(a))

    def test(self, card: AssetCardItem) -> bool:
        """Re-match one card; True if its state changed."""
        m = self._scene.ctx.matching
        if self.filter is None or m is None:
            return False
        aid = card.asset.id
        ok = self._ok(card)
        if ok == (aid in m):
            return False
        grown = set(m)  # copied: an answer's set is shared with the worker's result
        if ok:
            grown.add(aid)
        else:
            grown.discard(aid)
        self._scene.ctx.matching = grown
        self._dirty = True
        return True

    def moved(self) -> None:
        """A card moved or left: the reading order may change."""
        if self.filter is not None:
            self._dirty = True

    def _ordered(self, cards: Iterable[AssetCardItem]) -> list[str]:
        m = self._scene.ctx.matching
        if self._dirty:
            self._matches = (
                []
                if m is None
                else reading_order((c.asset.id, c.px, c.py) for c in cards if c.asset.id in m)
            )
            self._dirty = False
        return list(self._matches)

    # ------------------------------------------------------------------ the scene's find / filter
    def set_filter(self, criteria: Criteria) -> int:
        """Highlight the cards that match, dim the others; returns the match count.
        ``criteria``: a ``CanvasFilter``, a query string (see ``filtering``), a
        predicate on the asset row, or None / empty to clear."""
        scene = self._scene
        self._set(criteria, scene.card_map().values())
        scene.update()
        n = len(self.matches())
        scene.matches_changed.emit(n)
        return n

    def show_result(
        self, ordered_ids: Sequence[str] | None, ids: AbstractSet[str] | None = None
    ) -> int:
        """Show a match set computed elsewhere: ``ordered_ids`` in reading order (None:
        no filter), ``ids`` the same as a set (made by the caller's worker thread). No
        card is touched: they read ``ctx.matching`` as they paint. Returns the count."""
        scene = self._scene
        if ordered_ids is None:
            self._set(None, ())
        else:
            match = MatchSet(ids if ids is not None else frozenset(ordered_ids))
            self.filter, self.current = match, None
            scene.ctx.matching = match.ids
            self._matches = list(ordered_ids)
            self._dirty = False
        scene.update()
        n = len(self._matches)
        scene.matches_changed.emit(n)
        return n

    def find(self, text: str) -> int:
        return self.set_filter(text)

    def clear_filter(self) -> None:
        self.set_filter(None)

    def matches(self) -> list[str]:
        """Matching asset ids in reading order (top to bottom, left to right)."""
        return self._ordered(self._scene.card_map().values())

    def focus_match(self, index: int) -> str | None:
        """Centre the views on the ``index``-th match (wrapping around); its id."""
        ids = self.matches()
        if not ids:
            return None
        aid = self.current = ids[index % len(ids)]
        card = self._scene.card_map().get(aid)
        if card is None:  # an answer about a card this scene has not built yet
            return None
        rect = QRectF(card.px, card.py, CARD_W, CARD_H)
        for view in self._scene.views():
            focus = getattr(view, "focus_rect", None)
            focus(rect) if callable(focus) else view.centerOn(rect.center())
        return aid

    # ------------------------------------------------------------------ prompts
    def _variant_ids(self, aid: str) -> list[str]:
        at_hand = self._scene.model.by_asset.get(aid, {})
        if self._owned is None:
            return list(at_hand)
        gone = self._scene.model.dropped  # deleted since the list was read
        owned = [v for v in self._owned.get(aid, ()) if v not in gone]
        return list(dict.fromkeys([*owned, *at_hand]))

    def _prompts_of(self, aid: str) -> list[str]:
        vids = self._variant_ids(aid)
        missing = [v for v in vids if v not in self._prompts]
        if missing:
            self._prompts.update(self._fetch(missing))
        return [self._prompts.get(v, "") for v in vids]

    def _load_all_prompts(self) -> None:
        if self._owned is None and (space := self._scene.space) is not None:
            owned: dict[str, list[str]] = {}
            for v in space.all_variants():
                owned.setdefault(v.asset_id, []).append(v.id)
            self._owned = owned
        every = self._owned or {}
        missing = [v for ids in every.values() for v in ids if v not in self._prompts]
        missing += [v for v in self._scene.model.variants if v not in self._prompts]
        if missing:
            self._prompts.update(self._fetch(missing))

    def _fetch(self, vids: Sequence[str]) -> dict[str, str]:
        got: dict[str, str] = {}
        if self.prompt_source is not None:
            got.update(self.prompt_source(vids))
        elif (space := self._scene.space) is not None:
            for vid in vids:
                try:
                    recipe = space.variant_detail(vid).recipe
                except StudioError:
                    continue
                got[vid] = str(recipe.get("prompt") or "")
        for vid in vids:
            got.setdefault(vid, "")
        return got
