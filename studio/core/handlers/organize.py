"""Handlers for collections, frames and style presets."""

from __future__ import annotations

import sqlite3

from studio.core import commands as c
from studio.core.errors import ConflictError, InvalidStateError, NotFoundError, ValidationError
from studio.core.handlers.common import (
    MAX_NOTE,
    MAX_PROMPT,
    clean_text,
    coordinate,
    fresh_id,
    update_row,
)
from studio.core.tx import Tx
from studio.store import records as r

Inverse = tuple[c.Command, ...]


# --------------------------------------------------------------------------- collections


def create_collection(tx: Tx, cmd: c.CreateCollection) -> Inverse:
    name = clean_text(cmd.name, "collection name")
    cid = fresh_id(tx, "collections", cmd.collection_id)
    position = tx.scalar("SELECT COALESCE(MAX(position) + 1, 0) FROM collections")
    tx.conn.execute(
        "INSERT INTO collections (id, name, position, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (cid, name, position, tx.now, tx.now),
    )
    tx.created["collection_id"] = cid
    _emit_collection(tx, "collection:created", cid)
    return (c.DeleteCollection(cid),)


def update_collection(tx: Tx, cmd: c.UpdateCollection) -> Inverse:
    row = tx.row("collections", cmd.collection_id, "collection")
    update_row(
        tx, "collections", cmd.collection_id, {"name": clean_text(cmd.name, "collection name")}
    )
    _emit_collection(tx, "collection:updated", cmd.collection_id)
    return (c.UpdateCollection(cmd.collection_id, row["name"]),)


def delete_collection(tx: Tx, cmd: c.DeleteCollection) -> Inverse:
    _soft_delete(tx, "collections", cmd.collection_id, "collection")
    tx.emit("collection:deleted", {"id": cmd.collection_id})
    return (c.RestoreCollection(cmd.collection_id),)


def restore_collection(tx: Tx, cmd: c.RestoreCollection) -> Inverse:
    _restore(tx, "collections", cmd.collection_id, "collection")
    _emit_collection(tx, "collection:restored", cmd.collection_id)
    return (c.DeleteCollection(cmd.collection_id),)


def add_collection_item(tx: Tx, cmd: c.AddCollectionItem) -> Inverse:
    tx.row("collections", cmd.collection_id, "collection")
    if (cmd.asset_id is None) == (cmd.variant_id is None):
        raise ValidationError("a collection item is either an asset or a variant: give one")
    if cmd.asset_id is not None:
        tx.asset(cmd.asset_id)
        column, target = "asset_id", cmd.asset_id
    else:
        assert cmd.variant_id is not None
        tx.variant(cmd.variant_id)
        column, target = "variant_id", cmd.variant_id
    if tx.scalar(
        f"SELECT 1 FROM collection_items WHERE collection_id = ? AND {column} = ?",
        (cmd.collection_id, target),
    ):
        raise ConflictError("that is already in the collection")
    count = tx.scalar(
        "SELECT COUNT(*) FROM collection_items WHERE collection_id = ?", (cmd.collection_id,)
    )
    position = count if cmd.position is None else cmd.position
    if not 0 <= position <= count:
        raise ValidationError(f"position must be between 0 and {count}")
    note = clean_text(cmd.note, "note", max_len=MAX_NOTE, required=False)
    iid = fresh_id(tx, "collection_items", cmd.item_id)
    tx.conn.execute(
        "UPDATE collection_items SET position = position + 1 "
        "WHERE collection_id = ? AND position >= ?",
        (cmd.collection_id, position),
    )
    tx.conn.execute(
        "INSERT INTO collection_items (id, collection_id, asset_id, variant_id, position, note, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (iid, cmd.collection_id, cmd.asset_id, cmd.variant_id, position, note, tx.now),
    )
    tx.created["item_id"] = iid
    _emit_items(tx, cmd.collection_id)
    return (c.RemoveCollectionItem(iid),)


def update_collection_item(tx: Tx, cmd: c.UpdateCollectionItem) -> Inverse:
    item = _item(tx, cmd.item_id)
    note = clean_text(cmd.note, "note", max_len=MAX_NOTE, required=False)
    tx.conn.execute("UPDATE collection_items SET note = ? WHERE id = ?", (note, cmd.item_id))
    _emit_items(tx, item["collection_id"])
    return (c.UpdateCollectionItem(cmd.item_id, item["note"]),)


def remove_collection_item(tx: Tx, cmd: c.RemoveCollectionItem) -> Inverse:
    item = _item(tx, cmd.item_id)
    tx.conn.execute("DELETE FROM collection_items WHERE id = ?", (cmd.item_id,))
    tx.conn.execute(
        "UPDATE collection_items SET position = position - 1 "
        "WHERE collection_id = ? AND position > ?",
        (item["collection_id"], item["position"]),
    )
    _emit_items(tx, item["collection_id"])
    return (
        c.RestoreCollectionItem(
            item_id=item["id"],
            collection_id=item["collection_id"],
            position=item["position"],
            created_at=item["created_at"],
            asset_id=item["asset_id"],
            variant_id=item["variant_id"],
            note=item["note"],
        ),
    )


def restore_collection_item(tx: Tx, cmd: c.RestoreCollectionItem) -> Inverse:
    """Unlike an add, the collection and what the item shows may be deleted (their own
    undo brings them back); only the item's id and place must be free."""
    tx.row("collections", cmd.collection_id, "collection", live=False)
    if (cmd.asset_id is None) == (cmd.variant_id is None):
        raise ValidationError("a collection item is either an asset or a variant: give one")
    if cmd.asset_id is not None:
        tx.asset(cmd.asset_id, live=False)
        column, target = "asset_id", cmd.asset_id
    else:
        assert cmd.variant_id is not None
        tx.variant(cmd.variant_id, live=False)
        column, target = "variant_id", cmd.variant_id
    if tx.scalar(
        f"SELECT 1 FROM collection_items WHERE collection_id = ? AND {column} = ?",
        (cmd.collection_id, target),
    ):
        raise ConflictError("that is already in the collection")
    count = tx.scalar(
        "SELECT COUNT(*) FROM collection_items WHERE collection_id = ?", (cmd.collection_id,)
    )
    if not 0 <= cmd.position <= count:
        raise ValidationError(f"position must be between 0 and {count}")
    note = clean_text(cmd.note, "note", max_len=MAX_NOTE, required=False)
    iid = fresh_id(tx, "collection_items", cmd.item_id)
    tx.conn.execute(
        "UPDATE collection_items SET position = position + 1 "
        "WHERE collection_id = ? AND position >= ?",
        (cmd.collection_id, cmd.position),
    )
    tx.conn.execute(
        "INSERT INTO collection_items (id, collection_id, asset_id, variant_id, position, note, "
        "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (iid, cmd.collection_id, cmd.asset_id, cmd.variant_id, cmd.position, note, cmd.created_at),
    )
    _emit_items(tx, cmd.collection_id)
    return (c.RemoveCollectionItem(iid),)


def reorder_collection(tx: Tx, cmd: c.ReorderCollection) -> Inverse:
    tx.row("collections", cmd.collection_id, "collection")
    current = [
        row[0]
        for row in tx.conn.execute(
            "SELECT id FROM collection_items WHERE collection_id = ? ORDER BY position",
            (cmd.collection_id,),
        )
    ]
    if sorted(current) != sorted(cmd.item_ids):
        raise ValidationError("the new order must list every item of the collection exactly once")
    tx.conn.executemany(
        "UPDATE collection_items SET position = ? WHERE id = ?",
        [(i, iid) for i, iid in enumerate(cmd.item_ids)],
    )
    _emit_items(tx, cmd.collection_id)
    return (c.ReorderCollection(cmd.collection_id, tuple(current)),)


def _item(tx: Tx, item_id: str) -> sqlite3.Row:
    row = tx.one("SELECT * FROM collection_items WHERE id = ?", (item_id,))
    if row is None:
        raise NotFoundError(f"there is no collection item {item_id}")
    return row


def _emit_collection(tx: Tx, type_: str, cid: str) -> None:
    raw = tx.conn.execute(
        f"SELECT {r.COLLECTION_COLUMNS} FROM collections WHERE id = ?", (cid,)
    ).fetchone()
    tx.emit(type_, r.row_json(r.CollectionRow._make(raw)))


def _emit_items(tx: Tx, cid: str) -> None:
    items = [
        r.row_json(r.CollectionItemRow._make(raw))
        for raw in tx.conn.execute(
            f"SELECT {r.COLLECTION_ITEM_COLUMNS} FROM collection_items "
            "WHERE collection_id = ? ORDER BY position",
            (cid,),
        )
    ]
    tx.emit("collection:items", {"collection_id": cid, "items": items})


# --------------------------------------------------------------------------- frames


def create_frame(tx: Tx, cmd: c.CreateFrame) -> Inverse:
    fid = fresh_id(tx, "frames", cmd.frame_id)
    tx.conn.execute(
        "INSERT INTO frames (id, title, x, y, width, height, color, created_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            fid,
            clean_text(cmd.title, "frame title", required=False),
            coordinate(cmd.x, "x"),
            coordinate(cmd.y, "y"),
            _extent(cmd.width, "width"),
            _extent(cmd.height, "height"),
            _color(cmd.color),
            tx.now,
            tx.now,
        ),
    )
    tx.created["frame_id"] = fid
    _emit_frame(tx, "frame:created", fid)
    return (c.DeleteFrame(fid),)


def update_frame(tx: Tx, cmd: c.UpdateFrame) -> Inverse:
    row = tx.row("frames", cmd.frame_id, "frame")
    sets: dict[str, object] = {}
    old: dict[str, object] = {}
    if cmd.title is not None:
        sets["title"] = clean_text(cmd.title, "frame title", required=False)
    if cmd.x is not None:
        sets["x"] = coordinate(cmd.x, "x")
    if cmd.y is not None:
        sets["y"] = coordinate(cmd.y, "y")
    if cmd.width is not None:
        sets["width"] = _extent(cmd.width, "width")
    if cmd.height is not None:
        sets["height"] = _extent(cmd.height, "height")
    if cmd.color is not None:
        sets["color"] = _color(cmd.color)
    if not sets:
        raise ValidationError("frame:update needs something to change")
    for key in sets:
        old[key] = row[key]
    update_row(tx, "frames", cmd.frame_id, sets)
    _emit_frame(tx, "frame:updated", cmd.frame_id)
    return (c.UpdateFrame(cmd.frame_id, **old),)  # type: ignore[arg-type]


def delete_frame(tx: Tx, cmd: c.DeleteFrame) -> Inverse:
    _soft_delete(tx, "frames", cmd.frame_id, "frame")
    tx.emit("frame:deleted", {"id": cmd.frame_id})
    return (c.RestoreFrame(cmd.frame_id),)


def restore_frame(tx: Tx, cmd: c.RestoreFrame) -> Inverse:
    _restore(tx, "frames", cmd.frame_id, "frame")
    _emit_frame(tx, "frame:restored", cmd.frame_id)
    return (c.DeleteFrame(cmd.frame_id),)


def _extent(value: float, what: str) -> float:
    v = coordinate(value, what)
    if v <= 0:
        raise ValidationError(f"the frame's {what} must be more than 0")
    return v


def _color(value: str) -> str:
    v = value.strip()
    if v and not (
        len(v) in (4, 7, 9) and v[0] == "#" and all(ch in "0123456789abcdefABCDEF" for ch in v[1:])
    ):
        raise ValidationError(f"{value!r} is not a colour like #3a7bd5")
    return v


def _emit_frame(tx: Tx, type_: str, fid: str) -> None:
    raw = tx.conn.execute(f"SELECT {r.FRAME_COLUMNS} FROM frames WHERE id = ?", (fid,)).fetchone()
    tx.emit(type_, r.row_json(r.FrameRow._make(raw)))


# --------------------------------------------------------------------------- style presets


def create_style(tx: Tx, cmd: c.CreateStylePreset) -> Inverse:
    name = clean_text(cmd.name, "style name")
    prompt = clean_text(cmd.prompt, "style prompt", max_len=MAX_PROMPT, required=False)
    if cmd.collection_id is not None:
        tx.row("collections", cmd.collection_id, "collection")
    sid = fresh_id(tx, "style_presets", cmd.style_id)
    inverse: list[c.Command] = [c.DeleteStylePreset(sid)]
    if cmd.is_default:
        inverse += _clear_default(tx)
    tx.conn.execute(
        "INSERT INTO style_presets (id, name, prompt, collection_id, enabled, is_default, "
        "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            sid,
            name,
            prompt,
            cmd.collection_id,
            int(cmd.enabled),
            int(cmd.is_default),
            tx.now,
            tx.now,
        ),
    )
    tx.created["style_id"] = sid
    _emit_style(tx, "style:created", sid)
    return tuple(inverse)


def update_style(tx: Tx, cmd: c.UpdateStylePreset) -> Inverse:
    row = tx.row("style_presets", cmd.style_id, "style preset")
    sets: dict[str, object] = {}
    if cmd.name is not None:
        sets["name"] = clean_text(cmd.name, "style name")
    if cmd.prompt is not None:
        sets["prompt"] = clean_text(cmd.prompt, "style prompt", max_len=MAX_PROMPT, required=False)
    if cmd.collection_id is not None:
        if cmd.collection_id:
            # a deleted one too: deleting a collection leaves its presets pointing at
            # it, so undoing a change away from it must be able to point back
            tx.row("collections", cmd.collection_id, "collection", live=False)
        sets["collection_id"] = cmd.collection_id or None
    if cmd.enabled is not None:
        sets["enabled"] = int(cmd.enabled)
    if cmd.is_default is not None:
        sets["is_default"] = int(cmd.is_default)
    if not sets:
        raise ValidationError("style:update needs something to change")
    old = {k: row[k] for k in sets}
    undo = c.UpdateStylePreset(
        cmd.style_id,
        name=old.get("name"),
        prompt=old.get("prompt"),
        collection_id=(old["collection_id"] or "") if "collection_id" in old else None,
        enabled=bool(old["enabled"]) if "enabled" in old else None,
        is_default=bool(old["is_default"]) if "is_default" in old else None,
    )
    inverse: list[c.Command] = [undo]
    if cmd.is_default and not row["is_default"]:
        inverse += _clear_default(tx)
    update_row(tx, "style_presets", cmd.style_id, sets)
    _emit_style(tx, "style:updated", cmd.style_id)
    return tuple(inverse)


def delete_style(tx: Tx, cmd: c.DeleteStylePreset) -> Inverse:
    _soft_delete(tx, "style_presets", cmd.style_id, "style preset")
    tx.emit("style:deleted", {"id": cmd.style_id})
    return (c.RestoreStylePreset(cmd.style_id),)


def restore_style(tx: Tx, cmd: c.RestoreStylePreset) -> Inverse:
    row = _restore(tx, "style_presets", cmd.style_id, "style preset")
    if row["is_default"] and tx.scalar(
        "SELECT 1 FROM style_presets WHERE is_default = 1 AND deleted_at IS NULL AND id != ?",
        (cmd.style_id,),
    ):
        tx.conn.execute("UPDATE style_presets SET is_default = 0 WHERE id = ?", (cmd.style_id,))
    _emit_style(tx, "style:restored", cmd.style_id)
    return (c.DeleteStylePreset(cmd.style_id),)


def _clear_default(tx: Tx) -> list[c.Command]:
    """Unset the current default preset; return the commands that set it back."""
    undo: list[c.Command] = []
    for (sid,) in tx.conn.execute(
        "SELECT id FROM style_presets WHERE is_default = 1 AND deleted_at IS NULL"
    ).fetchall():
        update_row(tx, "style_presets", sid, {"is_default": 0})
        _emit_style(tx, "style:updated", sid)
        undo.append(c.UpdateStylePreset(sid, is_default=True))
    return undo


def _emit_style(tx: Tx, type_: str, sid: str) -> None:
    raw = tx.conn.execute(
        f"SELECT {r.STYLE_COLUMNS} FROM style_presets WHERE id = ?", (sid,)
    ).fetchone()
    tx.emit(type_, r.row_json(r.StylePresetRow._make(raw)))


# --------------------------------------------------------------------------- shared


def _soft_delete(tx: Tx, table: str, key: str, what: str) -> None:
    row = tx.row(table, key, what, live=False)
    if row["deleted_at"] is not None:
        raise InvalidStateError(f"the {what} is already deleted")
    update_row(tx, table, key, {"deleted_at": tx.now})


def _restore(tx: Tx, table: str, key: str, what: str) -> sqlite3.Row:
    row = tx.row(table, key, what, live=False)
    if row["deleted_at"] is None:
        raise InvalidStateError(f"the {what} is not deleted")
    update_row(tx, table, key, {"deleted_at": None})
    return row
