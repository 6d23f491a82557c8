"""Find and filter over a whole space: the text through the FTS5 index (space migration
8), the facets from an in-memory index kept current by the change log.

Facets: ``kind``, ``type``, ``tag``, ``starred`` (yes/no: a live variant is starred),
``rating`` (approved / rejected / unrated), ``provider`` and ``model`` (of a live
variant's recipe), ``status`` (queued / running / failed: a live variant's job) and
``date`` (today / week / month: created in the last 1, 7 or 30 calendar days; older).
Values of one facet combine with *or* (tags: with *and*, as Find's ``tag:`` does);
facets and the text combine with *and*. Each value's count is what picking it would
leave: the matches of the text and every *other* facet (for tags: of everything).

Why in memory (measured, 2026-12-01, 2-core machine): at 50,000 assets with 5 variants
each one SQL ``GROUP BY`` over the variants' recipes took 0.2–0.7 s, and the filter's
whole answer in plain SQL (``bench/bench_filter.py``'s raw baseline) 0.35–8 s, while a
set of matching assets per facet value, held as one Python int used as a bit set,
answers every count of a filter change in 2–20 ms. Building it reads every asset and
live variant once (1–3 s at 50,000 assets, on the filter worker's thread); after that
it reads only the rows the change log (``change_rows``) says were touched since it last
looked, so it follows this process's commits, other processes' and a replica's. No Qt;
thread-safe (one lock) so a worker thread can own the queries.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from studio.core.reads import (
    FacetAsset,
    FacetRefresh,
    FacetVariant,
    GilPause,
    Reads,
    Stopped,
)
from studio.store.records import parse_tags

if TYPE_CHECKING:  # numpy is imported where it is used: ~0.3 s of the app's start
    import numpy as np

FACETS: tuple[str, ...] = (
    "kind",
    "type",
    "tag",
    "starred",
    "rating",
    "provider",
    "model",
    "status",
    "date",
)
ALL_OF = frozenset({"tag"})
"""Facets whose picked values must all hold (the others: any of them)."""

DAY_MS = 86_400_000
DATE_WINDOWS: tuple[tuple[str, int], ...] = (("today", 1), ("week", 7), ("month", 30))
"""Date values and their windows in calendar days, today included (nested: this week
holds today); ``older`` is everything before the month's window."""

ROW_H = 140.0
"""Cards whose tops lie within this of each other read as one row (reading order)."""

Pick = tuple[str, str]  # (facet, value)


@dataclass(frozen=True, slots=True)
class FilterSpec:
    """What to show: Find's words (each a prefix of a word in the asset's name, type,
    tags or a prompt of one of its live variants) and the facet values picked."""

    words: tuple[str, ...] = ()
    picks: frozenset[Pick] = field(default_factory=frozenset)

    @property
    def empty(self) -> bool:
        return not self.words and not self.picks

    def picked(self, facet: str) -> frozenset[str]:
        return frozenset(v for f, v in self.picks if f == facet)


@dataclass(frozen=True, slots=True)
class FilterResult:
    """The matching assets in reading order (top to bottom, left to right), their
    number, the live assets in all, and each facet value's count."""

    ids: tuple[str, ...]
    id_set: frozenset[str]  # the same ids as a set (made on the querying thread)
    total: int
    live: int
    counts: Mapping[str, Mapping[str, int]]
    seq: int


_TOKEN = re.compile(r"\w+", re.UNICODE)


def match_expression(words: Iterable[str]) -> str:
    """An FTS5 query that needs every word, each as a prefix (``"her"*``) so that
    typing finds as it goes. Punctuation splits words as the index's tokenizer does;
    quotes are doubled, so no user text is ever FTS5 syntax. "" if nothing is left."""
    parts = []
    for word in words:
        for token in _TOKEN.findall(word.lower()):
            parts.append('"' + token.replace('"', '""') + '"*')
    return " AND ".join(dict.fromkeys(parts))


def _mask(slots: Iterable[int] | np.ndarray, size: int) -> int:
    """The bit set of ``slots`` (built in a byte array: OR-ing into a big int is quadratic)."""
    import numpy as np

    if isinstance(slots, np.ndarray):
        flags = np.zeros(((size >> 3) + 1) * 8, dtype=bool)
        flags[slots] = True
        return int.from_bytes(np.packbits(flags, bitorder="little").tobytes(), "little")
    buf = bytearray((size >> 3) + 1)
    for s in slots:
        buf[s >> 3] |= 1 << (s & 7)
    return int.from_bytes(buf, "little")


def local_day(ms: int, offset_s: int) -> int:
    """The local calendar day (days since 1970-01-01) of the time ``ms``."""
    return (ms // 1000 + offset_s) // 86_400


_STATUS = {"pending": "queued", "processing": "running", "uploading": "running"}


class _Collect:
    """The slots of each facet value, gathered row by row (a slot may repeat)."""

    __slots__ = ("by", "offset")

    def __init__(self, offset_s: int) -> None:
        self.by: dict[Pick, list[int]] = {}
        self.offset = offset_s

    def add(self, pick: Pick, slot: int) -> None:
        if (got := self.by.get(pick)) is None:
            self.by[pick] = [slot]
        else:
            got.append(slot)

    def asset(self, a: FacetAsset, slot: int) -> None:
        add = self.add
        add(("kind", a.media_kind), slot)
        add(("type", a.type.strip().lower()), slot)
        add(("day", str(local_day(a.created_at, self.offset))), slot)
        if a.tags_json != "[]":
            try:
                tags = parse_tags(a.tags_json)
            except ValueError:  # a damaged row: no tags rather than no index
                tags = ()
            for t in tags:
                add(("tag", t.lower()), slot)

    def variant(self, v: FacetVariant, slot: int) -> None:
        add = self.add
        if v.starred:
            add(("starred", "yes"), slot)
        if v.rating == "approved" or v.rating == "rejected":
            add(("rating", v.rating), slot)
        if v.provider:
            add(("provider", v.provider), slot)
        if v.model:
            add(("model", v.model), slot)
        if (status := _STATUS.get(v.status)) is not None:
            add(("status", status), slot)
        elif v.status == "failed" and v.error_code != "CANCELLED":
            add(("status", "failed"), slot)


class FacetIndex:
    """The facets of one space's assets, as bit sets over slots (one slot per asset)."""

    def __init__(
        self,
        read: Reads,
        clock_ms: Callable[[], int] | None = None,
        utc_offset_s: Callable[[], int] | None = None,
        stop: Callable[[], bool] | None = None,
    ) -> None:
        """``stop``: asked every couple of milliseconds while rows are read and taken in;
        True gives the work up (:class:`~studio.core.reads.Stopped`; the index then
        starts over at its next refresh)."""
        self._read = read
        self._stop = stop
        self._clock = clock_ms or (lambda: int(time.time() * 1000))
        self._offset = utc_offset_s or (lambda: int(time.localtime().tm_gmtoff))
        self._lock = threading.Lock()
        self.seq: int | None = None  # None: never read
        self._slot: dict[str, int] = {}
        self._ids: list[str] = []
        self._doc: dict[int, int] = {}  # search document -> slot
        self._docs: list[int | None] = []  # slot -> search document
        self._pos: list[tuple[float, float]] = []  # (y, x)
        self._masks: dict[Pick, int] = {}  # ("day", n) too: the date windows' parts
        self._live = 0
        self._order: np.ndarray | None = None  # slots in reading order (cache)
        self._doc_slots: np.ndarray | None = None  # document -> slot, -1: none (cache)
        self._text: tuple[str, int] | None = None  # (expression, its mask), kept current
        self._stale_text: set[int] = set()  # slots touched since the text mask was made

    # ------------------------------------------------------------------ keeping current
    def refresh(self) -> bool:
        """Take in what changed since the last look; True if anything did."""
        with self._lock:
            return self._refresh()

    def _refresh(self) -> bool:
        pause = GilPause(stop=self._stop)
        got = self._read.facet_refresh(self.seq, pause)
        if not got.full and not got.touched:
            self.seq = got.seq
            return False
        if got.full:
            self._reset()
        try:
            self._take(got, pause)
        except Stopped:
            self._reset()  # half taken in: read every row again next time
            self.seq = None
            raise
        self.seq = got.seq
        return True

    def _reset(self) -> None:
        self._slot.clear()
        self._ids.clear()
        self._doc.clear()
        self._docs.clear()
        self._pos.clear()
        self._masks.clear()
        self._live = 0
        self._order = None
        self._doc_slots = None
        self._text = None
        self._stale_text.clear()

    def _take(self, got: FacetRefresh, pause: GilPause) -> None:
        """Take in the rows read: the touched assets (all of them on a full read) leave
        every set at once, then their rows go back in, one big-int OR per value."""
        size_before = len(self._ids)
        out = [s for aid in got.touched if (s := self._slot.get(aid)) is not None]
        if out:
            clear = ~_mask(out, size_before)
            self._live &= clear
            for p in list(self._masks):
                left = self._masks[p] & clear
                if left:
                    self._masks[p] = left
                else:
                    del self._masks[p]
            self._stale_text.update(out)
        collect = _Collect(self._offset())
        live: list[int] = []
        for a in pause.each(got.assets):
            slot = self._put(a)
            if not a.deleted:
                live.append(slot)
                collect.asset(a, slot)
        alive = set(live) if len(live) < len(got.assets) else None
        slot_of = self._slot
        for v in pause.each(got.variants):
            owner = slot_of.get(v.asset_id)
            if owner is not None and (alive is None or owner in alive):
                collect.variant(v, owner)
        size = len(self._ids)
        masks = self._masks
        import numpy as np

        for p, slots in collect.by.items():
            got_mask = _mask(np.asarray(slots, dtype=np.int64), size)
            masks[p] = masks.get(p, 0) | got_mask
        self._live |= _mask(np.asarray(live, dtype=np.int64), size)
        # the complements: live assets without a star, without a rating
        live_mask = self._live
        masks[("starred", "no")] = live_mask & ~masks.get(("starred", "yes"), 0)
        rated = masks.get(("rating", "approved"), 0) | masks.get(("rating", "rejected"), 0)
        masks[("rating", "unrated")] = live_mask & ~rated
        for p in (("starred", "no"), ("rating", "unrated")):
            if not masks[p]:
                del masks[p]

    def _new_slot(self, aid: str) -> int:
        slot = len(self._ids)
        self._slot[aid] = slot
        self._ids.append(aid)
        self._docs.append(None)
        self._pos.append((0.0, 0.0))
        self._order = None
        return slot

    def _put(self, a: FacetAsset) -> int:
        """Record the asset's row (document, position); its slot."""
        slot = self._slot.get(a.id)
        if slot is None:
            slot = self._new_slot(a.id)
        self._stale_text.add(slot)
        old_doc = self._docs[slot]
        if old_doc != a.doc:
            if old_doc is not None and self._doc.get(old_doc) == slot:
                del self._doc[old_doc]
            self._docs[slot] = a.doc
            if a.doc is not None:
                self._doc[a.doc] = slot
            self._doc_slots = None
        if self._pos[slot] != (a.y, a.x):
            self._pos[slot] = (a.y, a.x)
            self._order = None
        return slot

    # ------------------------------------------------------------------ queries
    def answer(self, spec: FilterSpec) -> FilterResult:
        """The assets ``spec`` finds and every facet value's count (see the module doc).
        Reads what changed first, so the answer is as current as the space file."""
        with self._lock:
            self._refresh()
            return self._answer(spec)

    def _facet_masks(self) -> dict[str, dict[str, int]]:
        masks: dict[str, dict[str, int]] = {f: {} for f in FACETS}
        days: dict[int, int] = {}
        for (f, v), m in self._masks.items():
            if f == "day":
                days[int(v)] = m
            else:
                masks[f][v] = m
        today = local_day(self._clock(), self._offset())
        for day, m in days.items():
            for name in _windows(day, today):
                masks["date"][name] = masks["date"].get(name, 0) | m
        return masks

    def _answer(self, spec: FilterSpec) -> FilterResult:
        live = self._live
        base = live & self._text_mask(spec.words) if spec.words else live
        masks = self._facet_masks()
        own: dict[str, int] = {}  # each picked facet's own condition
        for facet in FACETS:
            picked = spec.picked(facet)
            if not picked:
                continue
            if facet in ALL_OF:
                m = live
                for v in picked:
                    m &= masks[facet].get(v, 0)
            else:
                m = 0
                for v in picked:
                    m |= masks[facet].get(v, 0)
            own[facet] = m
        result = base
        for m in own.values():
            result &= m
        counts: dict[str, dict[str, int]] = {}
        for facet in FACETS:
            if facet in ALL_OF or facet not in own:
                scope = result
            else:
                scope = base
                for other, m in own.items():
                    if other != facet:
                        scope &= m
            got = {v: (scope & m).bit_count() for v, m in masks[facet].items()}
            for v in spec.picked(facet):
                got.setdefault(v, 0)  # a picked value stays listed
            counts[facet] = got
        ids = self._in_order(result)
        return FilterResult(
            ids, frozenset(ids), result.bit_count(), live.bit_count(), counts, self.seq or 0
        )

    def _text_mask(self, words: tuple[str, ...]) -> int:
        expr = match_expression(words)
        if not expr:
            return self._live
        size = len(self._ids)
        cached = self._text
        if cached is not None and cached[0] == expr and len(self._stale_text) <= RECHECK_MAX:
            mask = cached[1]
            if self._stale_text:  # ask the index again about the touched assets only
                stale = sorted(self._stale_text)
                docs = [d for s in stale if (d := self._docs[s]) is not None]
                found = self._slots_of(self._read.search_docs(expr, docs) if docs else [])
                mask = (mask & ~_mask(stale, size)) | _mask(found, size)
        else:
            mask = _mask(self._slots_of(self._read.search_docs(expr)), size)
        self._text = (expr, mask)
        self._stale_text.clear()
        return mask

    def _slots_of(self, docs: list[int]) -> np.ndarray:
        """The slots of search documents ``docs`` (vectorised: tens of thousands of
        documents per keystroke)."""
        import numpy as np

        if self._doc_slots is None:
            table = np.full(max(self._doc, default=-1) + 1, -1, dtype=np.int64)
            if self._doc:
                table[np.fromiter(self._doc.keys(), np.int64)] = np.fromiter(
                    self._doc.values(), np.int64
                )
            self._doc_slots = table
        table = self._doc_slots
        got = np.asarray(docs, dtype=np.int64)
        got = got[(got >= 0) & (got < len(table))]
        slots = table[got]
        return slots[slots >= 0]

    def _in_order(self, mask: int) -> tuple[str, ...]:
        import numpy as np

        size = len(self._ids)
        if self._order is None:
            pos = self._pos
            self._order = np.array(
                sorted(range(size), key=lambda s: (round(pos[s][0] / ROW_H), pos[s][1])),
                dtype=np.int64,
            )
        raw = np.frombuffer(mask.to_bytes((size >> 3) + 1, "little"), dtype=np.uint8)
        bits = np.unpackbits(raw, bitorder="little")[:size].astype(bool)
        ids = self._ids
        return tuple(ids[s] for s in self._order[bits[self._order]].tolist())


RECHECK_MAX = 2000
"""Touched assets up to which the cached text match is patched (above: asked again)."""


def _windows(day: int, today: int) -> list[str]:
    """Every date window a thing created on ``day`` lies in."""
    inside = [name for name, days in DATE_WINDOWS if day > today - days]
    return inside or ["older"]
