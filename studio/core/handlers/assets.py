"""Handlers for ``asset:*`` commands."""

from __future__ import annotations

import dataclasses
from pathlib import PurePath

from studio.core import commands as c
from studio.core.errors import InvalidStateError, NotFoundError, ValidationError
from studio.core.handlers.common import (
    MAX_NAME,
    asset_slug,
    clean_tags,
    clean_text,
    coordinate,
    fresh_id,
    park_jobs,
    unpark_jobs,
    update_row,
)
from studio.core.placement import probe, search, under_the_lowest
from studio.core.tx import Tx
from studio.media.names import printable_name
from studio.store.records import dump_tags, parse_tags, row_json

Inverse = tuple[c.Command, ...]


def derived_asset_name(original_name: str, fallback: str = "Imported") -> str:
    """The name a new asset gets from a file name: its stem, printable, one line, and
    cut (with an ellipsis) to the asset-name limit; the full name stays metadata."""
    stem = PurePath(printable_name(original_name)).stem
    text = " ".join(stem.split()) or fallback
    if len(text) > MAX_NAME:
        text = text[: MAX_NAME - 1].rstrip() + "\u2026"
    return text


KEEPS_SPOTS_TAKEN = frozenset(
    {
        # add cards: a taken spot stays taken
        "asset:create",
        "variant:fork",
        "variant:upload",
        "generate:request",
        "refine:request",
        "batch:request",
        "variant:retry",
        "variant:regenerate",
        # leave every live card and frame where it is
        "asset:update",
        "asset:set-active",
        "variant:star",
        "variant:rate",
        "variant:delete",
        "variant:restore",
        "variant:complete",
        "variant:fail",
        "lineage:sever",
        "lineage:restore",
        "job:cancel",
        "job:start",
        "job:complete",
        "job:fail",
        "job:requeue",
        "queue:pause",
        "queue:resume",
    }
)
"""Commands after which every spot that was taken is still taken (they add cards or move,
delete and restore no card and no frame): a placement hint stays true across them. Any
other command (a move, a delete, a restore, a frame, one added later) ends the hint."""

PROBE_LIMIT = 48
"""How many spots past a hint :func:`free_place` tests one by one before it reads the
whole neighbourhood instead."""

PlaceHints = dict[tuple[float, float, int, int], tuple[int, int]]
"""Per open space (``Tx.place_hints``): for a wanted spot and block shape, ``(seq, n)``:
as of change ``seq``, the first ``n`` spots of :func:`ring_order` were all taken."""

_MAX_HINTS = 256


def free_place(tx: Tx, x: float, y: float, cols: int = 1, rows: int = 1) -> tuple[float, float]:
    """The top-left corner nearest to ``(x, y)`` of a ``cols`` x ``rows`` block of new
    cards that lands on no live card: every new asset goes to free space, whoever
    creates it. Reads only the cards near the spot, through the ``assets_live_at``
    index (a band of rows, never the whole table), looking a little farther each time;
    when all is full there, the block goes under the lowest card (the index's last
    entry).

    Cards asked for at one spot again and again (``studio generate`` without a place)
    fill it ring by ring, and finding the next free spot would read every card there. So
    the door remembers, per spot, how many of the nearest spots it found taken
    (:data:`PlaceHints`, kept once the step commits); while only commands that keep
    taken spots taken (:data:`KEEPS_SPOTS_TAKEN`) were applied since, by any writer, the
    next search starts there and tests spots one by one. The answer is the same as the
    full search's."""
    x, y = coordinate(x, "x"), coordinate(y, "y")
    want = (x, y)
    key = (x, y, cols, rows)
    hints = tx.place_hints
    seq, start = 0, 0
    if hints is not None:
        seq, start = _hint_start(tx, hints.get(key))
    # the spot asked for is most often free (an import's grid, a drop on empty canvas):
    # tested alone first, it reads the few cards around it, not a whole neighbourhood
    found = probe(tx.conn, want, cols, rows, start, PROBE_LIMIT if start else 1)
    if found is None:
        found = search(tx.conn, want, cols, rows)
    index, spot = found
    if hints is not None:
        tx.commit_hooks.append(lambda: _keep_hint(hints, key, seq, index))
    if spot is None:
        spot = under_the_lowest(tx.conn, want)
    return coordinate(spot[0], "x"), coordinate(spot[1], "y")


def _hint_start(tx: Tx, hint: tuple[int, int] | None) -> tuple[int, int]:
    """(the newest change's seq, where the search may start): the hint's count while
    every change since it keeps taken spots taken, else 0."""
    if hint is None:
        return tx.scalar("SELECT COALESCE(MAX(seq), 0) FROM changes"), 0
    since, start = hint
    seq = since
    for row_seq, kind in tx.conn.execute(
        "SELECT seq, command FROM changes WHERE seq > ? ORDER BY seq", (since,)
    ):
        seq = row_seq
        if kind not in KEEPS_SPOTS_TAKEN:
            start = 0
    if seq == since:  # nothing since: unless the log is not the one the hint read
        newest = tx.scalar("SELECT COALESCE(MAX(seq), 0) FROM changes")
        if newest != since:
            return newest, 0
    return seq, start


def _keep_hint(hints: PlaceHints, key: tuple[float, float, int, int], seq: int, n: int) -> None:
    old = hints.get(key)
    if old is not None and old[0] > seq:
        return  # a later step's hint (steps commit in seq order, hooks may not run so)
    if old is None and len(hints) >= _MAX_HINTS:
        hints.clear()
    hints[key] = (seq, n)


def insert_asset(
    tx: Tx,
    *,
    name: str,
    media_kind: str,
    type_: str,
    tags: tuple[str, ...],
    parent_asset_id: str | None,
    x: float,
    y: float,
    asset_id: str | None,
) -> str:
    """Insert a live asset row (validated) and emit ``asset:created`` later via caller.
    The card goes to the free spot nearest to ``(x, y)`` (:func:`free_place`)."""
    name = clean_text(name, "asset name")
    type_ = clean_text(type_, "asset type", max_len=64, required=False)
    if parent_asset_id is not None:
        tx.asset(parent_asset_id)
    aid = fresh_id(tx, "assets", asset_id)
    x, y = free_place(tx, x, y)
    tx.conn.execute(
        "INSERT INTO assets (id, slug, name, type, media_kind, tags, parent_asset_id, x, y, "
        "created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            aid,
            asset_slug(tx, name),
            name,
            type_,
            media_kind,
            dump_tags(clean_tags(tags)),
            parent_asset_id,
            x,
            y,
            tx.actor.id,
            tx.now,
            tx.now,
        ),
    )
    return aid


def create_asset(tx: Tx, cmd: c.CreateAsset) -> Inverse:
    aid = insert_asset(
        tx,
        name=cmd.name,
        media_kind=cmd.media_kind.value,
        type_=cmd.type,
        tags=cmd.tags,
        parent_asset_id=cmd.parent_asset_id,
        x=cmd.x,
        y=cmd.y,
        asset_id=cmd.asset_id,
    )
    tx.created["asset_id"] = aid
    tx.emit_asset("asset:created", aid)
    return (c.DeleteAsset(aid),)


def update_asset(tx: Tx, cmd: c.UpdateAsset) -> Inverse:
    row = tx.asset(cmd.asset_id)
    sets: dict[str, object] = {}
    old = c.UpdateAsset(cmd.asset_id)
    if cmd.name is not None:
        sets["name"] = clean_text(cmd.name, "asset name")
        old = dataclasses.replace(old, name=row["name"])
    if cmd.type is not None:
        sets["type"] = clean_text(cmd.type, "asset type", max_len=64, required=False)
        old = dataclasses.replace(old, type=row["type"])
    if cmd.tags is not None:
        sets["tags"] = dump_tags(clean_tags(cmd.tags))
        old = dataclasses.replace(old, tags=parse_tags(row["tags"]))
    if not sets:
        raise ValidationError("asset:update needs a name, type or tags to change")
    update_row(tx, "assets", cmd.asset_id, sets)
    tx.emit_asset("asset:updated", cmd.asset_id)
    return (old,)


def delete_asset(tx: Tx, cmd: c.DeleteAsset) -> Inverse:
    """Delete the asset with its live subtree (children, their children…) in one step;
    the queued and running jobs of their variants are parked. The inverse restores
    the asset, then each descendant, parents first."""
    row = tx.asset(cmd.asset_id, live=False)
    if row["deleted_at"] is not None:
        raise InvalidStateError(f"the asset {row['name']!r} is already deleted")
    inverse: list[c.Command] = []
    for aid in [cmd.asset_id, *_live_descendants(tx, cmd.asset_id)]:
        update_row(tx, "assets", aid, {"deleted_at": tx.now})
        parked = park_jobs(tx, _live_variants(tx, aid))
        tx.emit("asset:deleted", {"id": aid})
        inverse.append(c.RestoreAsset(aid, job_ids=parked))
    return tuple(inverse)


def _live_descendants(tx: Tx, asset_id: str) -> list[str]:
    """The live assets below ``asset_id``, breadth first (parents before children),
    each once even if the stored tree has a cycle."""
    found: list[str] = []
    seen = {asset_id}
    level = [asset_id]
    while level:
        marks = ",".join("?" * len(level))
        level = [
            r[0]
            for r in tx.conn.execute(
                f"SELECT id FROM assets WHERE parent_asset_id IN ({marks}) "
                "AND deleted_at IS NULL ORDER BY created_at, id",
                level,
            )
            if r[0] not in seen
        ]
        seen.update(level)
        found += level
    return found


def _live_variants(tx: Tx, asset_id: str) -> list[str]:
    return [
        r[0]
        for r in tx.conn.execute(
            "SELECT id FROM variants WHERE asset_id = ? AND deleted_at IS NULL ORDER BY id",
            (asset_id,),
        )
    ]


def restore_asset(tx: Tx, cmd: c.RestoreAsset) -> Inverse:
    row = tx.asset(cmd.asset_id, live=False)
    if row["deleted_at"] is None:
        raise InvalidStateError(f"the asset {row['name']!r} is not deleted")
    parent = row["parent_asset_id"]
    if (
        parent is not None
        and tx.scalar("SELECT deleted_at FROM assets WHERE id = ?", (parent,)) is not None
    ):
        raise InvalidStateError(
            f"the asset {row['name']!r} is inside a deleted asset: restore that one first"
        )
    update_row(tx, "assets", cmd.asset_id, {"deleted_at": None})
    ids = _live_variants(tx, cmd.asset_id)
    unpark_jobs(tx, ids, cmd.job_ids)
    data = row_json(tx.asset_row(cmd.asset_id))
    data["variants"] = [row_json(tx.variant_row(v)) for v in ids]
    tx.emit("asset:restored", data)
    return (c.DeleteAsset(cmd.asset_id),)


def set_active_variant(tx: Tx, cmd: c.SetActiveVariant) -> Inverse:
    row = tx.asset(cmd.asset_id)
    variant = tx.variant(cmd.variant_id)
    if variant["asset_id"] != cmd.asset_id:
        raise ValidationError(f"the variant {cmd.variant_id} belongs to another asset")
    old = row["active_variant_id"]
    if old == cmd.variant_id:
        raise InvalidStateError("that variant is already the active one")
    update_row(tx, "assets", cmd.asset_id, {"active_variant_id": cmd.variant_id})
    tx.emit_asset("asset:updated", cmd.asset_id)
    if old is None:  # only ever the case for an asset that had no variant yet
        return ()
    return (c.SetActiveVariant(cmd.asset_id, old),)


def reparent_asset(tx: Tx, cmd: c.ReparentAsset) -> Inverse:
    row = tx.asset(cmd.asset_id)
    parent = cmd.parent_asset_id
    if parent is not None:
        target = tx.asset(parent)
        if parent == cmd.asset_id:
            raise ValidationError("an asset can't be its own parent")
        cursor: str | None = target["parent_asset_id"]
        seen = {parent}
        while cursor is not None and cursor not in seen:
            if cursor == cmd.asset_id:
                raise ValidationError(
                    f"{row['name']!r} can't go inside {target['name']!r}: "
                    f"{target['name']!r} is already inside it"
                )
            seen.add(cursor)
            cursor = tx.scalar("SELECT parent_asset_id FROM assets WHERE id = ?", (cursor,))
    if row["parent_asset_id"] == parent:
        raise InvalidStateError("the asset already has that parent")
    update_row(tx, "assets", cmd.asset_id, {"parent_asset_id": parent})
    tx.emit_asset("asset:updated", cmd.asset_id)
    return (c.ReparentAsset(cmd.asset_id, row["parent_asset_id"]),)


def move_assets(tx: Tx, cmd: c.MoveAssets) -> Inverse:
    if not cmd.positions:
        raise ValidationError("asset:move needs at least one position")
    ids = [p.asset_id for p in cmd.positions]
    if len(set(ids)) != len(ids):
        raise ValidationError("asset:move lists an asset twice")
    new = [(coordinate(p.x, "x"), coordinate(p.y, "y"), tx.now, p.asset_id) for p in cmd.positions]
    found: dict[str, tuple[float, float]] = {}
    for i in range(0, len(ids), 500):  # a few queries, not one per asset
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for aid, x, y in tx.conn.execute(
            f"SELECT id, x, y FROM assets WHERE deleted_at IS NULL AND id IN ({marks})", chunk
        ):
            found[aid] = (x, y)
    old: list[c.Position] = []
    for aid in ids:
        if aid not in found:
            raise NotFoundError(f"there is no asset {aid}")
        old.append(c.Position(aid, *found[aid]))
    tx.conn.executemany("UPDATE assets SET x = ?, y = ?, updated_at = ? WHERE id = ?", new)
    tx.emit(
        "asset:moved",
        {"positions": [{"asset_id": p.asset_id, "x": p.x, "y": p.y} for p in cmd.positions]},
    )
    return (c.MoveAssets(tuple(old)),)
