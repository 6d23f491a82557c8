"""Handlers for ``variant:*`` and ``lineage:*`` commands."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
from collections.abc import Mapping
from pathlib import PurePosixPath
from typing import Any

from studio.core import commands as c
from studio.core.errors import (
    InvalidStateError,
    NotFoundError,
    StorageError,
    ValidationError,
)
from studio.core.handlers.assets import derived_asset_name, insert_asset
from studio.core.handlers.common import (
    clean_text,
    fresh_id,
    media_file,
    park_jobs,
    unpark_jobs,
    update_row,
)
from studio.core.protocol import decode_recipe, encode_recipe
from studio.core.tx import Tx
from studio.media.files import atomic_copy
from studio.store.records import parse_tags

Inverse = tuple[c.Command, ...]

UNFINISHED = ("uploading", "pending", "processing")
FORK_OFFSET = 280.0


def star_variant(tx: Tx, cmd: c.StarVariant) -> Inverse:
    row = tx.variant(cmd.variant_id)
    if bool(row["starred"]) == cmd.starred:
        raise InvalidStateError(
            "the variant is already " + ("starred" if cmd.starred else "unstarred")
        )
    update_row(tx, "variants", cmd.variant_id, {"starred": int(cmd.starred)})
    tx.emit_variant("variant:updated", cmd.variant_id)
    return (c.StarVariant(cmd.variant_id, not cmd.starred),)


def rate_variant(tx: Tx, cmd: c.RateVariant) -> Inverse:
    row = tx.variant(cmd.variant_id)
    new = None if cmd.rating is c.Rating.NONE else cmd.rating.value
    if row["rating"] == new:
        raise InvalidStateError(f"the variant is already rated {cmd.rating.value}")
    update_row(tx, "variants", cmd.variant_id, {"rating": new})
    tx.emit_variant("variant:updated", cmd.variant_id)
    return (c.RateVariant(cmd.variant_id, c.Rating(row["rating"] or "none")),)


def delete_variant(tx: Tx, cmd: c.DeleteVariant) -> Inverse:
    row = tx.variant(cmd.variant_id)
    if row["asset_active_variant_id"] == cmd.variant_id:
        raise InvalidStateError(
            "this is the asset's active variant: make another one active before deleting it"
        )
    live = tx.scalar(
        "SELECT COUNT(*) FROM variants WHERE asset_id = ? AND deleted_at IS NULL",
        (row["asset_id"],),
    )
    if live <= 1 and row["asset_active_variant_id"] is not None:
        # (an asset that had no variant yet may become empty again: undoing an upload)
        raise InvalidStateError("this is the asset's only variant: delete the asset instead")
    update_row(tx, "variants", cmd.variant_id, {"deleted_at": tx.now})
    parked = park_jobs(tx, (cmd.variant_id,))
    tx.emit("variant:deleted", {"id": cmd.variant_id, "asset_id": row["asset_id"]})
    return (c.RestoreVariant(cmd.variant_id, job_ids=parked),)


def restore_variant(tx: Tx, cmd: c.RestoreVariant) -> Inverse:
    row = tx.variant(cmd.variant_id, live=False)
    if row["asset_deleted_at"] is not None:
        raise InvalidStateError("the variant's asset is deleted: restore the asset first")
    if row["deleted_at"] is None:
        raise InvalidStateError("the variant is not deleted")
    update_row(tx, "variants", cmd.variant_id, {"deleted_at": None})
    unpark_jobs(tx, (cmd.variant_id,), cmd.job_ids)
    tx.emit_variant("variant:restored", cmd.variant_id)
    return (c.DeleteVariant(cmd.variant_id),)


def fork_variant(tx: Tx, cmd: c.ForkVariant) -> Inverse:
    src = tx.variant(cmd.variant_id)
    if src["status"] != "completed" or not src["media_path"]:
        raise InvalidStateError("only a completed variant can be forked")
    asset = tx.asset(src["asset_id"])
    name = cmd.name if cmd.name is not None else f"{asset['name']} (fork)"
    if len(name) > 200:
        name = name[:200]
    aid = insert_asset(
        tx,
        name=name,
        media_kind=asset["media_kind"],
        type_=asset["type"] if cmd.type is None else cmd.type,
        tags=parse_tags(asset["tags"]),
        parent_asset_id=None,
        x=asset["x"] + FORK_OFFSET if cmd.x is None else cmd.x,
        y=asset["y"] if cmd.y is None else cmd.y,
        asset_id=cmd.asset_id,
    )
    vid = fresh_id(tx, "variants", cmd.new_variant_id)
    slug = tx.scalar("SELECT slug FROM assets WHERE id = ?", (aid,))
    rel_dir = PurePosixPath(slug) / vid
    paths = {
        col: _share_file(tx, src[col], rel_dir)
        for col in ("media_path", "thumb_path", "poster_path")
        if src[col]
    }
    recipe = {"operation": "fork", "source_variant_ids": [cmd.variant_id]}
    tx.conn.execute(
        "INSERT INTO variants (id, asset_id, status, media_path, mime, size_bytes, width, height, "
        "duration_ms, sha256, thumb_path, poster_path, original_name, recipe, created_by, "
        "created_at, updated_at) VALUES (?, ?, 'completed', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
        "?, ?)",
        (
            vid,
            aid,
            paths["media_path"],
            src["mime"],
            src["size_bytes"],
            src["width"],
            src["height"],
            src["duration_ms"],
            src["sha256"],
            paths.get("thumb_path"),
            paths.get("poster_path"),
            src["original_name"],
            json.dumps(recipe),
            tx.actor.id,
            tx.now,
            tx.now,
        ),
    )
    tx.conn.execute("UPDATE assets SET active_variant_id = ? WHERE id = ?", (vid, aid))
    lid = insert_lineage(tx, cmd.variant_id, vid, "forked")
    tx.created.update(asset_id=aid, variant_id=vid, lineage_id=lid)
    tx.emit_asset("asset:created", aid)
    tx.emit_variant("variant:created", vid)
    tx.emit_lineage("lineage:created", lid)
    return (c.DeleteAsset(aid),)


def _share_file(tx: Tx, rel_src: str, rel_dir: PurePosixPath) -> str:
    """Give the new variant its own path to the (immutable) media: a hard link where the
    file system allows, else a copy."""
    src = media_file(tx.media_dir, rel_src)
    rel_dest = rel_dir / PurePosixPath(rel_src).name
    dest = tx.media_dir / rel_dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tx.on_rollback(lambda: shutil.rmtree(dest.parent, ignore_errors=True))
    try:
        os.link(src, dest)
    except FileExistsError:
        raise InvalidStateError(f"media for the new variant already exist at {rel_dest}") from None
    except OSError:
        try:
            atomic_copy(src, dest)
        except OSError as exc:
            raise StorageError(f"could not copy the media file: {exc.strerror or exc}") from exc
    return str(rel_dest)


def begin_upload(tx: Tx, cmd: c.BeginUpload) -> Inverse:
    original = clean_text(cmd.original_name, "file name", max_len=1000)
    if cmd.asset_id is not None:
        asset = tx.asset(cmd.asset_id)
        if asset["media_kind"] != cmd.media_kind.value:
            raise ValidationError(
                f"{original!r} is {cmd.media_kind.value}, but {asset['name']!r} is an "
                f"{asset['media_kind']} asset"
            )
        aid = cmd.asset_id
        new_asset = False
    else:
        aid = insert_asset(
            tx,
            name=cmd.name or derived_asset_name(original),
            media_kind=cmd.media_kind.value,
            type_=cmd.type,
            tags=cmd.tags,
            parent_asset_id=None,
            x=cmd.x,
            y=cmd.y,
            asset_id=cmd.new_asset_id,
        )
        new_asset = True
    vid = fresh_id(tx, "variants", cmd.variant_id)
    recipe = import_recipe(original, cmd.source)
    tx.conn.execute(  # upload_owner: recovery fails the upload only once it is dead
        "INSERT INTO variants (id, asset_id, status, original_name, recipe, created_by, "
        "created_at, updated_at, upload_owner) VALUES (?, ?, 'uploading', ?, ?, ?, ?, ?, ?)",
        (vid, aid, original, json.dumps(recipe), tx.actor.id, tx.now, tx.now, tx.holder),
    )
    if new_asset:
        tx.conn.execute("UPDATE assets SET active_variant_id = ? WHERE id = ?", (vid, aid))
        tx.emit_asset("asset:created", aid)
    tx.emit_variant("variant:created", vid)
    tx.created.update(asset_id=aid, variant_id=vid)
    return (c.DeleteAsset(aid),) if new_asset else (c.DeleteVariant(vid),)


def complete_variant(tx: Tx, cmd: c.CompleteVariant) -> Inverse:
    row = _unfinished(tx, cmd.variant_id, "completed")
    apply_completion(tx, cmd, row)
    return ()


def apply_completion(tx: Tx, cmd: c.CompleteVariant, row: sqlite3.Row) -> None:
    """Point an unfinished variant at its whole media files and mark it completed."""
    for rel in (cmd.media_path, cmd.thumb_path, cmd.poster_path):
        if rel is not None and not media_file(tx.media_dir, rel).is_file():
            raise InvalidStateError(f"the media file {rel} is missing")
    update_row(
        tx,
        "variants",
        cmd.variant_id,
        {
            "status": "completed",
            "error_code": None,
            "error_message": None,
            "media_path": cmd.media_path,
            "mime": cmd.mime,
            "size_bytes": cmd.size_bytes,
            "sha256": cmd.sha256,
            "width": cmd.width,
            "height": cmd.height,
            "duration_ms": cmd.duration_ms,
            "thumb_path": cmd.thumb_path,
            "poster_path": cmd.poster_path,
            "provider_metadata": json.dumps(dict(cmd.provider_metadata)),
            "generation_provenance": json.dumps(dict(cmd.generation_provenance)),
        },
    )
    tx.emit_variant("variant:updated", cmd.variant_id)
    if row["asset_active_variant_id"] is None:
        tx.conn.execute(
            "UPDATE assets SET active_variant_id = ? WHERE id = ?",
            (cmd.variant_id, row["asset_id"]),
        )
        tx.emit_asset("asset:updated", row["asset_id"])


def fail_variant(tx: Tx, cmd: c.FailVariant) -> Inverse:
    _unfinished(tx, cmd.variant_id, "failed")
    update_row(
        tx,
        "variants",
        cmd.variant_id,
        {
            "status": "failed",
            "error_code": clean_text(cmd.error_code, "error code", max_len=64),
            "error_message": clean_text(cmd.error_message, "error message", max_len=2000),
        },
    )
    tx.emit_variant("variant:updated", cmd.variant_id)
    return ()


def _unfinished(tx: Tx, variant_id: str, to: str) -> sqlite3.Row:
    try:
        row = tx.variant(variant_id)
    except NotFoundError:
        raise InvalidStateError(
            f"the variant {variant_id} was deleted, so it can't be marked {to}"
        ) from None
    if row["status"] not in UNFINISHED:
        raise InvalidStateError(f"the variant is already {row['status']}")
    return row


# --------------------------------------------------------------------------- lineage


def insert_lineage(tx: Tx, parent: str, child: str, relation: str) -> str:
    lid = tx.new_id()
    tx.conn.execute(
        "INSERT INTO lineage (id, parent_variant_id, child_variant_id, relation, created_at) "
        "VALUES (?, ?, ?, ?, ?)",
        (lid, parent, child, relation, tx.now),
    )
    return lid


def sever_lineage(tx: Tx, cmd: c.SeverLineage) -> Inverse:
    row = _lineage(tx, cmd.lineage_id)
    if row["severed_at"] is not None:
        raise InvalidStateError("that lineage link is already severed")
    tx.conn.execute("UPDATE lineage SET severed_at = ? WHERE id = ?", (tx.now, cmd.lineage_id))
    tx.emit_lineage("lineage:updated", cmd.lineage_id)
    return (c.RestoreLineage(cmd.lineage_id),)


def restore_lineage(tx: Tx, cmd: c.RestoreLineage) -> Inverse:
    row = _lineage(tx, cmd.lineage_id)
    if row["severed_at"] is None:
        raise InvalidStateError("that lineage link is not severed")
    tx.conn.execute("UPDATE lineage SET severed_at = NULL WHERE id = ?", (cmd.lineage_id,))
    tx.emit_lineage("lineage:updated", cmd.lineage_id)
    return (c.SeverLineage(cmd.lineage_id),)


def _lineage(tx: Tx, lineage_id: str) -> sqlite3.Row:
    row = tx.one("SELECT * FROM lineage WHERE id = ?", (lineage_id,))
    if row is None:
        raise NotFoundError(f"there is no lineage link {lineage_id}")
    return row


SOURCE_FIELDS = frozenset({"source_tool", "prompt", "negative_prompt", "parameters", "notes"})


def import_recipe(original: str, source: Mapping[str, Any]) -> dict[str, Any]:
    """An import's recipe: its file name, and what the file says made it (checked
    against ``ImportRecipe``, stored in its one encoding)."""
    unknown = sorted(str(k) for k in source if k not in SOURCE_FIELDS)
    if unknown:
        raise ValidationError(f"an import's source has unknown field(s) {', '.join(unknown[:5])}")
    return encode_recipe(
        decode_recipe({"operation": "import", "original_name": original, **source})
    )
