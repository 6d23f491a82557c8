"""The assistant's tools. Read tools answer at once from the read API; each action tool
maps 1:1 onto door commands and only ever becomes a *proposal* (see
:mod:`studio.assistant.chat`)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from studio.core import chat_commands as cc
from studio.core import chat_reads
from studio.core import commands as c
from studio.core.errors import StudioError, ValidationError
from studio.core.space import Space

MAX_RESULT_CHARS = 20_000
LIST_LIMIT = 50


def _schema(props: dict[str, Any], required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": list(required)}


_S = {"type": "string"}
_IDS = {"type": "array", "items": {"type": "string"}}
_KIND = {"type": "string", "enum": ["image", "audio", "video"]}

READ_TOOLS: tuple[dict[str, Any], ...] = (
    {
        "name": "space_summary",
        "description": "Counts of the space: assets by kind, type and tag, variants by "
        "status, collections, style presets and the latest failures.",
        "input_schema": _schema({}),
    },
    {
        "name": "list_assets",
        "description": "List assets (newest first), optionally of one media kind, type or tag.",
        "input_schema": _schema(
            {
                "kind": _KIND,
                "type": _S,
                "tag": _S,
                "offset": {"type": "integer", "minimum": 0},
                "limit": {"type": "integer", "minimum": 1, "maximum": LIST_LIMIT},
            }
        ),
    },
    {
        "name": "search_assets",
        "description": "Assets whose name, a tag or a prompt contains the text.",
        "input_schema": _schema({"text": _S}, ("text",)),
    },
    {
        "name": "get_asset",
        "description": "One asset with its variants (status, star, rating, prompt).",
        "input_schema": _schema({"asset_id": _S}, ("asset_id",)),
    },
    {
        "name": "get_variant",
        "description": "One variant with its full recipe, error and lineage links.",
        "input_schema": _schema({"variant_id": _S}, ("variant_id",)),
    },
    {
        "name": "list_collections",
        "description": "Collections with their items, frames and style presets.",
        "input_schema": _schema({}),
    },
    {
        "name": "list_jobs",
        "description": "The job queue (newest first); active_only for queued and running.",
        "input_schema": _schema({"active_only": {"type": "boolean"}}),
    },
    {
        "name": "look_at",
        "description": "See variants' media: images as pictures, videos as a few frames, "
        "audio as a description. At most 4 at once.",
        "input_schema": _schema({"variant_ids": _IDS}, ("variant_ids",)),
    },
)

_GEN_OPTIONS = {"provider": _S, "model": _S, "aspect_ratio": _S, "style_id": _S}

ACTION_TOOLS: tuple[dict[str, Any], ...] = (
    {
        "name": "rename_asset",
        "description": "Rename an asset.",
        "input_schema": _schema({"asset_id": _S, "name": _S}, ("asset_id", "name")),
    },
    {
        "name": "tag_asset",
        "description": "Set an asset's tags (the full new list).",
        "input_schema": _schema({"asset_id": _S, "tags": _IDS}, ("asset_id", "tags")),
    },
    {
        "name": "add_to_collection",
        "description": "Add an asset (or one exact variant) to a collection.",
        "input_schema": _schema(
            {"collection_id": _S, "asset_id": _S, "variant_id": _S}, ("collection_id",)
        ),
    },
    {
        "name": "create_collection",
        "description": "Make a new, empty collection.",
        "input_schema": _schema({"name": _S}, ("name",)),
    },
    {
        "name": "move_into_frame",
        "description": "Move assets into a frame on the canvas (laid out in a grid).",
        "input_schema": _schema({"frame_id": _S, "asset_ids": _IDS}, ("frame_id", "asset_ids")),
    },
    {
        "name": "star_variant",
        "description": "Star (or unstar) a variant.",
        "input_schema": _schema(
            {"variant_id": _S, "starred": {"type": "boolean"}}, ("variant_id",)
        ),
    },
    {
        "name": "rate_variant",
        "description": "Rate a variant approved or rejected (none clears it).",
        "input_schema": _schema(
            {
                "variant_id": _S,
                "rating": {"type": "string", "enum": ["approved", "rejected", "none"]},
            },
            ("variant_id", "rating"),
        ),
    },
    {
        "name": "generate",
        "description": "Generate new assets from a prompt (count > 1: a batch; mode explore = "
        "one asset with count variants, set = count assets).",
        "input_schema": _schema(
            {
                "prompt": _S,
                "media_kind": _KIND,
                "type": _S,
                "name": _S,
                "count": {"type": "integer", "minimum": 1, "maximum": 8},
                "mode": {"type": "string", "enum": ["explore", "set"]},
                **_GEN_OPTIONS,
            },
            ("prompt", "media_kind"),
        ),
    },
    {
        "name": "derive",
        "description": "A new asset from reference variants and a prompt.",
        "input_schema": _schema(
            {"prompt": _S, "media_kind": _KIND, "references": _IDS, "name": _S, **_GEN_OPTIONS},
            ("prompt", "media_kind", "references"),
        ),
    },
    {
        "name": "refine",
        "description": "A new variant of an existing asset (references default to its "
        "active variant).",
        "input_schema": _schema(
            {"asset_id": _S, "prompt": _S, "references": _IDS, **_GEN_OPTIONS},
            ("asset_id", "prompt"),
        ),
    },
    {
        "name": cc.TRAY_TOOL,
        "description": "Put a generation into the person's forge tray for them to adjust "
        "and run: a variant's recipe to start from (recipe_variant_id), then a mode, a "
        "prompt, reference variants and a destination asset (a refine). Changes nothing in "
        "the space and spends nothing; the person approves it in the app.",
        "input_schema": _schema(
            {
                "prompt": _S,
                "mode": {"type": "string", "enum": list(cc.TRAY_MODES)},
                "references": _IDS,
                "recipe_variant_id": _S,
                "destination_asset_id": _S,
            }
        ),
    },
    {
        "name": "make_style_preset",
        "description": "A style preset: a style prompt, optionally with a collection of "
        "style-reference variants.",
        "input_schema": _schema(
            {"name": _S, "prompt": _S, "collection_id": _S}, ("name", "prompt")
        ),
    },
)

ACTION_NAMES = frozenset(t["name"] for t in ACTION_TOOLS)
GENERATION_TOOLS = frozenset({"generate", "derive", "refine"})
APP_TOOLS = frozenset({cc.TRAY_TOOL})
"""Actions on the app's window, not the space: approved only in the app, never at once."""
SAFE_TOOLS = ACTION_NAMES - GENERATION_TOOLS - APP_TOOLS
"""Actions that spend nothing and are undone in one step (``--approve-all-safe``)."""


@dataclass(frozen=True, slots=True)
class Action:
    """What an action tool call proposes: the exact commands and a one-line summary."""

    tool: str
    commands: tuple[c.Command, ...]
    summary: str


# --------------------------------------------------------------------------- reads


def get_arg(args: Mapping[str, Any], key: str, kind: type = str) -> Any:
    value = args.get(key)
    if not isinstance(value, kind) or (isinstance(value, bool) and kind is not bool):
        raise ValidationError(f"{key} is required ({kind.__name__})")
    return value


def _asset_json(a: Any) -> dict[str, Any]:
    return {
        "id": a.id,
        "name": a.name,
        "kind": a.media_kind,
        "type": a.type,
        "tags": list(a.tags),
        "active_variant_id": a.active_variant_id,
        "parent_asset_id": a.parent_asset_id,
    }


def summary_text(space: Space) -> dict[str, Any]:
    s = chat_reads.summary(space)
    return {
        "assets": s.assets,
        "variants": s.variants,
        "by_kind": dict(s.by_kind),
        "by_type": dict(s.by_type),
        "top_tags": dict(s.top_tags),
        "variants_by_status": dict(s.by_status),
        "collections": [{"id": i, "name": n, "items": k} for i, n, k in s.collections],
        "style_presets": [{"id": i, "name": n} for i, n in s.styles],
        "frames": s.frames,
        "recent_failures": [
            {
                "variant_id": f.variant_id,
                "asset": f.asset_name,
                "asset_id": f.asset_id,
                "error": f"{f.error_code}: {f.error_message}",
            }
            for f in s.failures
        ],
    }


def _list_assets(space: Space, args: Mapping[str, Any]) -> Any:
    snap = space.snapshot()
    rows = sorted(snap.assets, key=lambda a: (a.created_at, a.id), reverse=True)
    if isinstance(args.get("kind"), str):
        rows = [a for a in rows if a.media_kind == args["kind"]]
    if isinstance(args.get("type"), str):
        rows = [a for a in rows if a.type == args["type"]]
    if isinstance(args.get("tag"), str):
        rows = [a for a in rows if args["tag"].lower() in a.tags]
    offset = max(0, int(args.get("offset") or 0))
    limit = min(LIST_LIMIT, max(1, int(args.get("limit") or 20)))
    return {"total": len(rows), "assets": [_asset_json(a) for a in rows[offset : offset + limit]]}


def _get_asset(space: Space, args: Mapping[str, Any]) -> Any:
    asset = space.asset(get_arg(args, "asset_id"))
    variants = space.variants_of(asset.id)
    prompts = space.read.prompts([v.id for v in variants])
    return {
        **_asset_json(asset),
        "variants": [
            {
                "id": v.id,
                "status": v.status,
                "starred": bool(v.starred),
                "rating": v.rating,
                "prompt": prompts.get(v.id, ""),
                "error": v.error_message,
            }
            for v in variants[:LIST_LIMIT]
        ],
    }


def _get_variant(space: Space, args: Mapping[str, Any]) -> Any:
    vid = get_arg(args, "variant_id")
    d = space.variant_detail(vid)
    return {
        "id": vid,
        "asset_id": d.row.asset_id,
        "status": d.row.status,
        "mime": d.row.mime,
        "width": d.row.width,
        "height": d.row.height,
        "duration_ms": d.row.duration_ms,
        "starred": bool(d.row.starred),
        "rating": d.row.rating,
        "error": d.row.error_message,
        "recipe": d.recipe,
        "lineage": [
            {"parent": ln.parent_variant_id, "child": ln.child_variant_id, "relation": ln.relation}
            for ln in space.lineage_of(vid)
            if ln.severed_at is None
        ],
    }


def _collections(space: Space, _args: Mapping[str, Any]) -> Any:
    snap = space.snapshot()
    items: dict[str, list[dict[str, Any]]] = {}
    for it in snap.collection_items:
        items.setdefault(it.collection_id, []).append(
            {"asset_id": it.asset_id, "variant_id": it.variant_id, "note": it.note}
        )
    return {
        "collections": [
            {"id": col.id, "name": col.name, "items": items.get(col.id, [])[:LIST_LIMIT]}
            for col in snap.collections
        ],
        "frames": [
            {"id": f.id, "title": f.title, "x": f.x, "y": f.y, "w": f.width, "h": f.height}
            for f in snap.frames
        ],
        "style_presets": [{"id": s.id, "name": s.name, "prompt": s.prompt} for s in snap.styles],
    }


def _jobs(space: Space, args: Mapping[str, Any]) -> Any:
    jobs = space.jobs(active_only=bool(args.get("active_only")), limit=LIST_LIMIT)
    return [
        {
            "id": j.id,
            "variant_id": j.variant_id,
            "provider": j.provider,
            "status": j.status,
            "attempts": j.attempts,
            "error": j.error_message,
        }
        for j in jobs
    ]


READERS: dict[str, Callable[[Space, Mapping[str, Any]], Any]] = {
    "space_summary": lambda space, _a: summary_text(space),
    "list_assets": _list_assets,
    "search_assets": lambda space, a: [
        _asset_json(x) for x in space.read.search(get_arg(a, "text"), limit=LIST_LIMIT)
    ],
    "get_asset": _get_asset,
    "get_variant": _get_variant,
    "list_collections": _collections,
    "list_jobs": _jobs,
}


def read(space: Space, name: str, args: Mapping[str, Any]) -> str:
    """A read tool's answer as JSON text (an error as one sentence: the model can retry)."""
    try:
        out = READERS[name](space, args)
    except StudioError as exc:
        return json.dumps({"error": exc.message})
    text = json.dumps(out, ensure_ascii=False, default=str)
    if len(text) > MAX_RESULT_CHARS:
        text = text[:MAX_RESULT_CHARS] + " …(cut: ask for less)"
    return text
