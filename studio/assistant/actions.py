"""What each action tool call stands for: the exact door commands (never applied here:
:mod:`studio.assistant.chat` turns them into proposals)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from studio.assistant.tools import Action, get_arg
from studio.core import chat_commands as cc
from studio.core import commands as c
from studio.core.errors import ValidationError
from studio.core.space import Space


def _options(args: Mapping[str, Any]) -> c.GenerationOptions:
    def opt(key: str) -> str | None:
        value = args.get(key)
        return value if isinstance(value, str) and value else None

    return c.GenerationOptions(
        provider=opt("provider"),
        model=opt("model"),
        aspect_ratio=opt("aspect_ratio"),
        style_id=opt("style_id"),
    )


def _refs(args: Mapping[str, Any]) -> tuple[str, ...]:
    refs = args.get("references") or []
    if not isinstance(refs, list) or not all(isinstance(r, str) for r in refs):
        raise ValidationError("references is a list of variant ids")
    return tuple(refs)


def _frame_moves(space: Space, frame_id: str, asset_ids: list[str]) -> c.MoveAssets:
    frames = {f.id: f for f in space.snapshot().frames}
    frame = frames.get(frame_id)
    if frame is None:
        raise ValidationError(f"there is no frame {frame_id}")
    if not asset_ids:
        raise ValidationError("asset_ids is empty")
    cols = max(1, math.ceil(math.sqrt(len(asset_ids))))
    rows = math.ceil(len(asset_ids) / cols)
    step_x, step_y = frame.width / (cols + 1), frame.height / (rows + 1)
    return c.MoveAssets(
        tuple(
            c.Position(aid, frame.x + step_x * (i % cols + 1), frame.y + step_y * (i // cols + 1))
            for i, aid in enumerate(asset_ids)
        )
    )


def action(space: Space, name: str, args: Mapping[str, Any]) -> Action:
    """The commands an action tool call stands for (ValidationError when malformed)."""
    kind = args.get("media_kind", "image")
    if name == "rename_asset":
        aid, new = get_arg(args, "asset_id"), get_arg(args, "name")
        cmds: tuple[c.Command, ...] = (c.UpdateAsset(aid, name=new),)
        return Action(name, cmds, f"rename {space.asset(aid).name!r} to {new!r}")
    if name == "tag_asset":
        aid, tags = get_arg(args, "asset_id"), get_arg(args, "tags", list)
        return Action(
            name,
            (c.UpdateAsset(aid, tags=tuple(str(t) for t in tags)),),
            f"tag {space.asset(aid).name!r}: {', '.join(map(str, tags)) or '(none)'}",
        )
    if name == "add_to_collection":
        cid = get_arg(args, "collection_id")
        add = c.AddCollectionItem(
            cid, asset_id=args.get("asset_id"), variant_id=args.get("variant_id")
        )
        what = add.asset_id or add.variant_id
        return Action(name, (add,), f"add {what} to collection {cid}")
    if name == "create_collection":
        title = get_arg(args, "name")
        return Action(name, (c.CreateCollection(title),), f"make a collection {title!r}")
    if name == "move_into_frame":
        fid, ids = get_arg(args, "frame_id"), get_arg(args, "asset_ids", list)
        move = _frame_moves(space, fid, [str(i) for i in ids])
        return Action(name, (move,), f"move {len(ids)} asset(s) into frame {fid}")
    if name == "star_variant":
        vid, on = get_arg(args, "variant_id"), bool(args.get("starred", True))
        return Action(name, (c.StarVariant(vid, on),), f"{'star' if on else 'unstar'} {vid}")
    if name == "rate_variant":
        vid, rating = get_arg(args, "variant_id"), get_arg(args, "rating")
        try:
            value = c.Rating(rating)
        except ValueError:
            raise ValidationError("rating is approved, rejected or none") from None
        return Action(name, (c.RateVariant(vid, value),), f"rate {vid} {rating}")
    if name in ("generate", "derive"):
        prompt = get_arg(args, "prompt")
        media = c.MediaKindName(kind) if kind in ("image", "audio", "video") else None
        if media is None:
            raise ValidationError("media_kind is image, audio or video")
        count = int(args.get("count") or 1)
        refs = _refs(args) if name == "derive" else ()
        title = args.get("name") if isinstance(args.get("name"), str) else None
        typ = str(args["type"]) if isinstance(args.get("type"), str) else ""
        if count > 1:
            mode = c.BatchMode(args.get("mode") or "explore")
            gen: c.Command = c.RequestBatch(
                prompt,
                media,
                count,
                mode,
                type=typ,
                name=title,
                references=refs,
                options=_options(args),
            )
        else:
            gen = c.RequestGeneration(
                prompt, media, type=typ, name=title, references=refs, options=_options(args)
            )
        n = f"{count} × " if count > 1 else ""
        return Action(name, (gen,), f"{name} {n}{kind}: {prompt!r}")
    if name == "refine":
        aid, prompt = get_arg(args, "asset_id"), get_arg(args, "prompt")
        ref = c.RequestRefine(aid, prompt, references=_refs(args), options=_options(args))
        return Action(name, (ref,), f"refine {space.asset(aid).name!r}: {prompt!r}")
    if name == "make_style_preset":
        title, prompt = get_arg(args, "name"), get_arg(args, "prompt")
        cid = args.get("collection_id") if isinstance(args.get("collection_id"), str) else None
        return Action(
            name,
            (c.CreateStylePreset(title, prompt=prompt, collection_id=cid),),
            f"make a style preset {title!r}",
        )
    if name == cc.TRAY_TOOL:
        return _tray(space, args)
    raise ValidationError(f"there is no action {name!r}")


def _tray(space: Space, args: Mapping[str, Any]) -> Action:
    def opt(key: str) -> str | None:
        value = args.get(key)
        return value if isinstance(value, str) and value else None

    prompt = args.get("prompt") if isinstance(args.get("prompt"), str) else ""
    fill = cc.FillTray(
        prompt=str(prompt),
        mode=opt("mode"),
        references=_refs(args),
        recipe_variant_id=opt("recipe_variant_id"),
        destination_asset_id=opt("destination_asset_id"),
    )
    parts = []
    if fill.recipe_variant_id:
        parts.append(f"the recipe of {fill.recipe_variant_id}")
    if fill.mode:
        parts.append(f"mode {fill.mode}")
    if fill.prompt.strip():
        parts.append(f"the prompt {' '.join(fill.prompt.split())[:120]!r}")
    if fill.references:
        parts.append(f"{len(fill.references)} reference(s)")
    if fill.destination_asset_id:
        parts.append(f"refining {space.asset(fill.destination_asset_id).name!r}")
    return Action(
        cc.TRAY_TOOL, (fill,), "put in the forge tray: " + ", ".join(parts or ["nothing"])
    )
