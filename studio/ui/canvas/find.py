"""CanvasFinder: the scene's find/filter state — which cards match, in what order.

Matching cards are highlighted, the others dimmed (``card.match`` = 1 / -1; 0 when no
filter is on). The window's find and filter panel compute their matches off the UI
thread (``studio.core.facets``) and hand them over with :meth:`CanvasFinder.show_result`,
which touches only the cards whose state changes. Prompt texts are not in the canvas rows: they are fetched once, on the
first text search, from the host's prompt source or else one ``space.variant_detail``
per variant, then cached (a variant's recipe never changes).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
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


class MatchSet(frozenset[str]):
    """A filter given as the ids that match, in reading order (``order``)."""

    order: tuple[str, ...] = ()

    @classmethod
    def of(cls, ordered: Sequence[str]) -> MatchSet:
        out = cls(ordered)
        out.order = tuple(ordered)
        return out


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
        # how to get variants' prompt texts for text search: ``source(variant_ids) ->
        # {variant_id: prompt}`` (default: ``space.variant_detail`` per variant, on the
        # first text search only)
        self.prompt_source: PromptSource | None = None

    def reset(self) -> None:
        self.filter = None
        self._matches = []
        self._dirty = False
        self.current = None
        self._prompts.clear()

    @property
    def active(self) -> bool:
        return self.filter is not None

    def _set(self, criteria: Criteria, cards: Iterable[AssetCardItem]) -> None:
        if isinstance(criteria, str):
            criteria = parse_query(criteria)
        if criteria is None or (isinstance(criteria, CanvasFilter) and criteria.empty):
            self.filter = None
            self._matches, self._dirty, self.current = [], False, None
            for card in cards:
                card.match = 0
            return
        self.filter = criteria
        self.current = None
        if isinstance(criteria, CanvasFilter) and criteria.needs_prompts:
            self._load_all_prompts()
        for card in cards:
            self.test(card)
        self._dirty = True

    def test(self, card: AssetCardItem) -> bool:
        """Re-match one card; True if its state changed."""
        f = self.filter
        if f is None:
            new = 0
        else:
            a = card.asset
            if isinstance(f, MatchSet):
                ok = a.id in f
            elif isinstance(f, CanvasFilter):
                starred = self._scene.model.starred(a.id)
                ok = asset_matches(f, a, starred, lambda: self._prompts_of(a.id))
            else:
                ok = bool(f(a))
            new = 1 if ok else -1
        if new == card.match:
            return False
        card.match = new
        self._dirty = True
        return True

    def moved(self) -> None:
        """A card moved or left: the reading order may change."""
        if self.filter is not None:
            self._dirty = True

    def _ordered(self, cards: Iterable[AssetCardItem]) -> list[str]:
        if self._dirty:
            self._matches = reading_order((c.asset.id, c.px, c.py) for c in cards if c.match > 0)
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

    def show_result(self, ordered_ids: Sequence[str] | None) -> int:
        """Show a match set computed elsewhere: ``ordered_ids`` in reading order (None:
        no filter). Only the cards whose state changes are touched; returns the count."""
        scene = self._scene
        cards = scene.card_map()
        old = self.filter
        if ordered_ids is None:
            self._set(None, cards.values() if old is not None else ())
        else:
            new = MatchSet.of(ordered_ids)
            self.filter, self.current = new, None
            if isinstance(old, MatchSet):
                for aid, state in ((a, -1) for a in old - new):
                    if (card := cards.get(aid)) is not None:
                        card.match = state
                for aid in new - old:
                    if (card := cards.get(aid)) is not None:
                        card.match = 1
            else:
                for aid, card in cards.items():
                    card.match = 1 if aid in new else -1
            self._matches = [aid for aid in new.order if aid in cards]
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
        card = self._scene.card_map()[aid]
        rect = QRectF(card.px, card.py, CARD_W, CARD_H)
        for view in self._scene.views():
            focus = getattr(view, "focus_rect", None)
            focus(rect) if callable(focus) else view.centerOn(rect.center())
        return aid

    # ------------------------------------------------------------------ prompts
    def _prompts_of(self, aid: str) -> list[str]:
        vids = list(self._scene.model.by_asset.get(aid, ()))
        missing = [v for v in vids if v not in self._prompts]
        if missing:
            self._prompts.update(self._fetch(missing))
        return [self._prompts.get(v, "") for v in vids]

    def _load_all_prompts(self) -> None:
        missing = [v for v in self._scene.model.variants if v not in self._prompts]
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
