"""The canvas's mirror of the space rows it shows, kept current by core events.

Pure Python (no Qt): the scene applies each event here first, gets back *what
changed*, and only then touches its items. The items stay views of these rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from studio.core.events import Event
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


def card_facts(asset: AssetRow, variants: Iterable[VariantRow]) -> CardFacts:
    active: VariantRow | None = None
    busy: VariantRow | None = None
    count = 0
    starred_other = False
    for v in variants:
        count += 1
        if v.id == asset.active_variant_id:
            active = v
            continue
        if v.starred:
            starred_other = True
        if v.status in BUSY and (busy is None or v.created_at >= busy.created_at):
            busy = v
    if active is not None and active.starred:
        star = STAR_ACTIVE
    else:
        star = STAR_OTHER if starred_other else STAR_NONE
    return CardFacts(active, count, star, busy)


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


def asset_from_json(d: Mapping[str, Any]) -> AssetRow:
    return AssetRow(
        str(d["id"]),
        str(d.get("slug", "")),
        str(d.get("name", "")),
        str(d.get("type", "")),
        str(d.get("media_kind", "image")),
        dump_tags(tuple(str(t) for t in d.get("tags") or ())),
        d.get("parent_asset_id"),
        float(d.get("x", 0.0)),
        float(d.get("y", 0.0)),
        d.get("active_variant_id"),
        int(d.get("created_at", 0)),
    )


def variant_from_json(d: Mapping[str, Any]) -> VariantRow:
    v = VariantRow._make(d.get(f) for f in VariantRow._fields)
    return v._replace(starred=int(v.starred or 0), created_at=int(v.created_at or 0))


def frame_from_json(d: Mapping[str, Any]) -> FrameRow:
    return FrameRow(
        str(d["id"]),
        str(d.get("title", "")),
        float(d.get("x", 0.0)),
        float(d.get("y", 0.0)),
        float(d.get("width", 1.0)),
        float(d.get("height", 1.0)),
        str(d.get("color", "")),
    )


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
        self.frames: dict[str, FrameRow] = {}
        self.progress: dict[str, tuple[float | None, str]] = {}  # variant id -> (0..1, msg)
        self.queue_paused = False

    def clear(self) -> None:
        self.queue_paused = False
        self.assets.clear()
        self.variants.clear()
        self.by_asset.clear()
        self.frames.clear()
        self.progress.clear()

    # ------------------------------------------------------------------ loading
    def add_variant(self, v: VariantRow) -> None:
        self.variants[v.id] = v
        ids = self.by_asset.get(v.asset_id)
        if ids is None:
            self.by_asset[v.asset_id] = {v.id: None}
        else:
            ids[v.id] = None

    def add_asset(self, a: AssetRow) -> None:
        self.assets[a.id] = a
        if a.id not in self.by_asset:
            self.by_asset[a.id] = {}

    # ------------------------------------------------------------------ reading
    def variants_of(self, asset_id: str) -> list[VariantRow]:
        vs = self.variants
        return [vs[v] for v in self.by_asset.get(asset_id, ())]

    def facts(self, asset_id: str) -> CardFacts:
        asset = self.assets.get(asset_id)
        if asset is None:
            return NO_FACTS
        return card_facts(asset, self.variants_of(asset_id))

    def children_of(self, asset_id: str) -> list[str]:
        return [a.id for a in self.assets.values() if a.parent_asset_id == asset_id]

    def starred(self, asset_id: str) -> bool:
        return any(v.starred for v in self.variants_of(asset_id))

    # ------------------------------------------------------------------ events
    def apply(self, ev: Event) -> Changed:
        ch = Changed()
        d = ev.data
        kind = ev.type
        if kind in ("asset:created", "asset:updated", "asset:restored"):
            made = asset_from_json(d)
            old = self.assets.get(made.id)
            self.add_asset(made)
            for raw in d.get("variants") or ():
                self.add_variant(variant_from_json(raw))
            ch.assets.add(made.id)
            if old is not None and old.name != made.name:
                ch.renamed.add(made.id)
        elif kind == "asset:deleted":
            aid = str(d["id"])
            if self.assets.pop(aid, None) is not None:
                for vid in self.by_asset.pop(aid, {}):
                    self.variants.pop(vid, None)
                    self.progress.pop(vid, None)
                ch.removed.add(aid)
        elif kind == "asset:moved":
            for p in d.get("positions") or ():
                aid = str(p["asset_id"])
                row = self.assets.get(aid)
                if row is not None:
                    self.assets[aid] = row._replace(x=float(p["x"]), y=float(p["y"]))
                    ch.moved.add(aid)
        elif kind in ("variant:created", "variant:updated", "variant:restored"):
            got = variant_from_json(d)
            self.add_variant(got)
            if got.status not in BUSY:
                self.progress.pop(got.id, None)
            if got.asset_id in self.assets:
                ch.assets.add(got.asset_id)
        elif kind == "variant:deleted":
            vid = str(d["id"])
            v = self.variants.pop(vid, None)
            self.progress.pop(vid, None)
            aid = str(d.get("asset_id") or (v.asset_id if v else ""))
            self.by_asset.get(aid, {}).pop(vid, None)
            if aid in self.assets:
                ch.assets.add(aid)
        elif kind == "job:progress":
            vid = str(d.get("variant_id", ""))
            v = self.variants.get(vid)
            if v is not None:
                frac = d.get("progress")
                self.progress[vid] = (
                    None if frac is None else float(frac),
                    str(d.get("message") or ""),
                )
                ch.progress.add(v.asset_id)
        elif kind in ("frame:created", "frame:updated", "frame:restored"):
            f = frame_from_json(d)
            self.frames[f.id] = f
            ch.frames.add(f.id)
        elif kind == "frame:deleted":
            fid = str(d["id"])
            if self.frames.pop(fid, None) is not None:
                ch.removed_frames.add(fid)
        elif kind in ("queue:paused", "queue:resumed"):
            paused = kind == "queue:paused"
            ch.queue = paused != self.queue_paused
            self.queue_paused = paused
        return ch
