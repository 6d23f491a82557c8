"""The canvas's mirror of the space rows it shows, kept current by core events.

Pure Python (no Qt): the scene applies each event here first, gets back *what
changed*, and only then touches its items. The items stay views of these rows. Events
arrive decoded against the protocol (:class:`TypedEvent`); :meth:`CanvasModel.apply`
matches their typed payloads.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from studio.core.protocol import (
    AssetData,
    AssetRestoredData,
    Deleted,
    Empty,
    FrameData,
    JobProgress,
    Moved,
    TypedEvent,
    VariantData,
    VariantDeleted,
)
from studio.store.records import AssetRow, FrameRow, VariantRow, dump_tags

BUSY = ("uploading", "pending", "processing")
HANDLED = frozenset(
    {
        *("asset:created", "asset:updated", "asset:deleted", "asset:restored", "asset:moved"),
        *("variant:created", "variant:updated", "variant:restored", "variant:deleted"),
        *("frame:created", "frame:updated", "frame:restored", "frame:deleted"),
        *("queue:paused", "queue:resumed"),
        "job:progress",
    }
)  # the event types the canvas follows
STAR_NONE, STAR_OTHER, STAR_ACTIVE = 0, 1, 2
CANCELLED_CODE = "CANCELLED"
"""The error code of a variant whose job was cancelled (the core fails it with it)."""


def shown_status(v: VariantRow | None) -> str:
    """The state a card shows for variant ``v``: its status, except that a variant
    whose job was cancelled is ``cancelled`` (a choice, not a failure), and "empty"
    when there is no variant."""
    if v is None:
        return "empty"
    if v.status == "failed" and v.error_code == CANCELLED_CODE:
        return "cancelled"
    return str(v.status)


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What a card shows, derived from the asset's variant rows."""

    active: VariantRow | None
    count: int
    star: int  # STAR_NONE, STAR_OTHER (only another variant is starred), STAR_ACTIVE
    busy: VariantRow | None  # another variant being made or imported (the newest)


NO_FACTS = CardFacts(None, 0, STAR_NONE, None)


def card_facts(
    asset: AssetRow,
    variants: Iterable[VariantRow],
    count: int | None = None,
    starred: Collection[str] = (),
) -> CardFacts:
    """What a card shows, from the asset's variant rows at hand (the active one and the
    busy ones at least). ``count`` and ``starred`` (ids of its starred variants) cover
    the variants not at hand; the rows given win over ``starred`` for their own ids."""
    active: VariantRow | None = None
    busy: VariantRow | None = None
    known = 0
    stars = set(starred)
    for v in variants:
        known += 1
        if v.starred:
            stars.add(v.id)
        else:
            stars.discard(v.id)
        if v.id == asset.active_variant_id:
            active = v
            continue
        if v.status in BUSY and (busy is None or v.created_at >= busy.created_at):
            busy = v
    if active is not None and active.starred:
        star = STAR_ACTIVE
    else:
        stars.discard(asset.active_variant_id or "")
        star = STAR_OTHER if stars else STAR_NONE
    return CardFacts(active, known if count is None else max(count, known), star, busy)


def thumb_rel(v: VariantRow | None, media_kind: str) -> str | None:
    """The file (relative to the media dir) a card shows for variant ``v``: its
    thumbnail (waveform for audio), else a video's poster, else an image's original."""
    if v is None or v.status != "completed":
        return None
    if v.thumb_path:
        return v.thumb_path
    if media_kind == "video" and v.poster_path:
        return v.poster_path
    if media_kind == "image" and v.media_path and (v.mime or "").startswith("image/"):
        return v.media_path
    return None


def asset_row(a: AssetData) -> AssetRow:
    return AssetRow(
        a.id,
        a.slug,
        a.name,
        a.type,
        a.media_kind,
        dump_tags(a.tags),
        a.parent_asset_id,
        a.x,
        a.y,
        a.active_variant_id,
        a.created_at,
    )


def variant_row(v: VariantData) -> VariantRow:
    return VariantRow(
        v.id,
        v.asset_id,
        v.status,
        v.error_code,
        v.error_message,
        v.media_path,
        v.thumb_path,
        v.poster_path,
        v.mime,
        v.width,
        v.height,
        v.duration_ms,
        v.starred,
        v.rating,
        v.created_at,
    )


def frame_row(f: FrameData) -> FrameRow:
    return FrameRow(f.id, f.title, f.x, f.y, f.width, f.height, f.color)


@dataclass(slots=True)
class Changed:
    """What one event changed, in the terms the scene redraws by."""

    assets: set[str] = field(default_factory=set)  # rows or facts changed (or new)
    removed: set[str] = field(default_factory=set)
    moved: set[str] = field(default_factory=set)  # only the position changed
    progress: set[str] = field(default_factory=set)  # only job progress changed
    frames: set[str] = field(default_factory=set)
    removed_frames: set[str] = field(default_factory=set)
    renamed: set[str] = field(default_factory=set)  # names changed (children show them)
    queue: bool = False  # the queue was paused or resumed (queued cards say so)
    tree: bool = False  # an asset came, went or changed parent (stacks may change)

    def __bool__(self) -> bool:
        return (
            any((self.assets, self.removed, self.moved, self.progress, self.frames))
            or bool(self.removed_frames)
            or self.queue
        )


class CanvasModel:
    def __init__(self) -> None:
        self.assets: dict[str, AssetRow] = {}
        self.variants: dict[str, VariantRow] = {}
        self.by_asset: dict[str, dict[str, None]] = {}
        """The variants at hand per asset: its active one, the busy ones, those events
        brought (the snapshot has one row per asset; the rest is read on demand)."""
        self.counts: dict[str, int] = {}  # asset id -> its live variants (stack badge)
        self.stars: dict[str, set[str]] = {}  # asset id -> its starred variants' ids
        self.kids: dict[str, set[str]] = {}  # parent asset id -> its children's ids
        self.frames: dict[str, FrameRow] = {}
        self.progress: dict[str, tuple[float | None, str]] = {}  # variant id -> (0..1, msg)
        self.dropped: set[str] = set()  # variants deleted since the snapshot (Find's list)
        self.queue_paused = False

    def clear(self) -> None:
        self.queue_paused = False
        self.assets.clear()
        self.variants.clear()
        self.by_asset.clear()
        self.counts.clear()
        self.stars.clear()
        self.kids.clear()
        self.frames.clear()
        self.progress.clear()
        self.dropped.clear()

    # ------------------------------------------------------------------ loading
    def take_counts(
        self, counts: Iterable[tuple[str, int]], starred: Iterable[tuple[str, Iterable[str]]]
    ) -> None:
        """Some of the snapshot's variant counts and starred ids, ``(asset id, …)`` pairs
        (its rows come through :meth:`add_variant`)."""
        self.counts.update(counts)
        for aid, ids in starred:
            self.stars[aid] = set(ids)

    def add_variant(self, v: VariantRow, *, new: bool = False) -> None:
        """Keep the row; ``new``: a variant the counts do not hold yet (an event's)."""
        if new and v.id not in self.variants:
            self.counts[v.asset_id] = self.counts.get(v.asset_id, 0) + 1
        self.variants[v.id] = v
        self.dropped.discard(v.id)
        ids = self.by_asset.get(v.asset_id)
        if ids is None:
            self.by_asset[v.asset_id] = {v.id: None}
        else:
            ids[v.id] = None
        stars = self.stars.get(v.asset_id)
        if v.starred:
            if stars is None:
                self.stars[v.asset_id] = {v.id}
            else:
                stars.add(v.id)
        elif stars is not None:
            stars.discard(v.id)

    def _drop_variant(self, vid: str, asset_id: str) -> None:
        self.dropped.add(vid)
        self.variants.pop(vid, None)
        self.progress.pop(vid, None)
        self.by_asset.get(asset_id, {}).pop(vid, None)
        if (stars := self.stars.get(asset_id)) is not None:
            stars.discard(vid)
        if n := self.counts.get(asset_id):  # at hand or not, it was counted
            self.counts[asset_id] = n - 1

    def add_asset(self, a: AssetRow) -> str | None:
        """Keep the row; returns its former parent's id when it changed parent."""
        old = self.assets.get(a.id)
        self.assets[a.id] = a
        if a.id not in self.by_asset:
            self.by_asset[a.id] = {}
        before = old.parent_asset_id if old is not None else None
        if before != a.parent_asset_id:
            if before is not None:
                self._unlink(before, a.id)
            if a.parent_asset_id is not None:
                self.kids.setdefault(a.parent_asset_id, set()).add(a.id)
        return before

    def _unlink(self, parent: str, child: str) -> None:
        kids = self.kids.get(parent)
        if kids is not None:
            kids.discard(child)
            if not kids:
                del self.kids[parent]

    # ------------------------------------------------------------------ reading
    def variants_of(self, asset_id: str) -> list[VariantRow]:
        vs = self.variants
        return [vs[v] for v in self.by_asset.get(asset_id, ())]

    def facts(self, asset_id: str) -> CardFacts:
        asset = self.assets.get(asset_id)
        if asset is None:
            return NO_FACTS
        return card_facts(
            asset,
            self.variants_of(asset_id),
            self.counts.get(asset_id),
            self.stars.get(asset_id, ()),
        )

    def children_of(self, asset_id: str) -> list[str]:
        return [k for k in self.kids.get(asset_id, ()) if k in self.assets]

    def child_count(self, asset_id: str) -> int:
        return len(self.kids.get(asset_id, ()))

    def starred(self, asset_id: str) -> bool:
        return bool(self.stars.get(asset_id))

    # ------------------------------------------------------------------ events
    def apply(self, ev: TypedEvent) -> Changed:
        ch = Changed()
        match ev:
            case TypedEvent(data=AssetData() as a):  # created, updated, restored
                made = asset_row(a)
                old = self.assets.get(made.id)
                before = self.add_asset(made)
                if old is None or before != made.parent_asset_id:  # counts on the parents
                    ch.assets.update(p for p in (before, made.parent_asset_id) if p in self.assets)
                    ch.tree = True
                if isinstance(a, AssetRestoredData):  # with every live variant
                    self.counts[made.id] = 0
                    for v in a.variants:
                        self.add_variant(variant_row(v), new=True)
                ch.assets.add(made.id)
                if old is not None and old.name != made.name:
                    ch.renamed.add(made.id)
            case TypedEvent(kind="asset:deleted", data=Deleted(id=aid)):
                if (gone_row := self.assets.pop(aid, None)) is not None:
                    if (parent := gone_row.parent_asset_id) is not None:
                        self._unlink(parent, aid)
                        if parent in self.assets:
                            ch.assets.add(parent)
                    ch.tree = True
                    for vid in self.by_asset.pop(aid, {}):
                        self.variants.pop(vid, None)
                        self.progress.pop(vid, None)
                    self.counts.pop(aid, None)
                    self.stars.pop(aid, None)
                    ch.removed.add(aid)
            case TypedEvent(data=Moved(positions=positions)):
                for p in positions:
                    row = self.assets.get(p.asset_id)
                    if row is not None:
                        self.assets[p.asset_id] = row._replace(x=float(p.x), y=float(p.y))
                        ch.moved.add(p.asset_id)
            case TypedEvent(data=VariantData() as v, kind=kind):  # created, updated, restored
                got = variant_row(v)
                self.add_variant(got, new=kind != "variant:updated")
                if got.status not in BUSY:
                    self.progress.pop(got.id, None)
                if got.asset_id in self.assets:
                    ch.assets.add(got.asset_id)
            case TypedEvent(data=VariantDeleted(id=vid, asset_id=owner)):
                gone = self.variants.get(vid)
                aid = owner or (gone.asset_id if gone else "")
                self._drop_variant(vid, aid)
                if aid in self.assets:
                    ch.assets.add(aid)
            case TypedEvent(data=JobProgress(variant_id=vid, progress=frac, message=msg)):
                known = self.variants.get(vid)
                if known is not None:
                    self.progress[vid] = (frac, msg)
                    ch.progress.add(known.asset_id)
            case TypedEvent(data=FrameData() as f):  # created, updated, restored
                self.frames[f.id] = frame_row(f)
                ch.frames.add(f.id)
            case TypedEvent(kind="frame:deleted", data=Deleted(id=fid)):
                if self.frames.pop(fid, None) is not None:
                    ch.removed_frames.add(fid)
            case TypedEvent(kind="queue:paused" | "queue:resumed" as kind, data=Empty()):
                paused = kind == "queue:paused"
                ch.queue = paused != self.queue_paused
                self.queue_paused = paused
        return ch
