"""What the forge tray reads from its space (no Qt): a slot for a variant, the tray
settings a stored recipe means, and how a core event changes the tray's contents."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from studio.core.errors import InvalidStateError, NotFoundError, StudioError
from studio.core.forge import audio_type_for
from studio.core.protocol import AssetData, Deleted, TypedEvent, VariantData, VariantDeleted
from studio.core.space import Space
from studio.store.records import StylePresetRow
from studio.ui.tray.state import (
    MODES,
    STYLE_DEFAULT,
    STYLE_NONE,
    Destination,
    ModeSettings,
    SlotRef,
    TrayDraft,
    add_slots,
    mode_for_asset,
)
from workers.base import ModelSpec


def style_presets(space: Space | None) -> list[StylePresetRow]:
    """The space's live style presets (none without a space)."""
    if space is None:
        return []
    return space.read.style_presets()


def slot_for(space: Space, variant_id: str) -> SlotRef | None:
    """The slot for a live variant (None when it or its asset is gone)."""
    try:
        detail = space.variant_detail(variant_id)
        if detail.deleted_at is not None:
            return None
        row = detail.row
        asset = space.asset(row.asset_id)
    except StudioError:
        return None
    return SlotRef(
        variant_id=row.id,
        asset_id=asset.id,
        asset_name=asset.name,
        media_kind=asset.media_kind,
        status=row.status,
        thumb=row.thumb_path or row.poster_path,
    )


def asset_type(space: Space, asset_id: str) -> str:
    try:
        return space.asset(asset_id).type
    except StudioError:
        return ""


# --------------------------------------------------------------------------- recipes


@dataclass(frozen=True, slots=True)
class Filled:
    """The tray as a recipe asks for it."""

    mode: str
    image_type: str | None
    prompt: str
    settings: ModeSettings
    style: str
    slots: tuple[SlotRef, ...]
    destination: Destination | None = None
    """A refine's asset (the recipe made a variant of it), else None: a new asset."""


def settings_from_recipe(recipe: Mapping[str, Any]) -> ModeSettings:
    dur = recipe.get("duration_s")
    params = recipe.get("params")
    return ModeSettings(
        provider=recipe.get("provider") or None,
        model=recipe.get("model") or None,
        size=recipe.get("size") or None,
        aspect_ratio=recipe.get("aspect_ratio") or None,
        duration_s=float(dur) if isinstance(dur, int | float) else None,
        params=dict(params) if isinstance(params, Mapping) else {},
    )


def mode_from_recipe(recipe: Mapping[str, Any], kind: str, type_: str) -> tuple[str, str | None]:
    """The mode (and the image type, for images) a recipe was made in."""
    kind = str(recipe.get("media_kind") or kind)
    if kind == "image":
        return "image", type_ or None
    if kind == "video":
        return "video", None
    audio = recipe.get("audio_type")
    if audio in MODES:
        return str(audio), None
    return audio_type_for(type_).value, None


def style_from_recipe(recipe: Mapping[str, Any]) -> str:
    """The preset the recipe used; "none" when it used none."""
    style = recipe.get("style")
    if isinstance(style, Mapping) and isinstance(style.get("id"), str):
        return str(style["id"])
    return STYLE_NONE if "style" in recipe else STYLE_DEFAULT


def from_recipe(space: Space, variant_id: str) -> Filled:
    """Read a variant's recipe. Raises StudioError (NotFoundError) with a reason."""
    detail = space.variant_detail(variant_id)
    if detail.deleted_at is not None:
        raise NotFoundError("that variant was deleted")
    asset = space.asset(detail.row.asset_id)
    recipe = detail.recipe
    op = recipe.get("operation")
    if op not in ("generate", "derive", "refine", "fork"):
        raise InvalidStateError(f"\u201c{asset.name}\u201d was imported: it has no recipe to reuse")
    mode, image_type = mode_from_recipe(recipe, asset.media_kind, asset.type)
    slots = tuple(
        s
        for v in recipe.get("source_variant_ids") or ()
        if isinstance(v, str) and (s := slot_for(space, v)) is not None
    )
    dest = None
    if op == "refine":  # the same operation again: a new variant of the same asset
        dest = Destination(asset.id, asset.name, asset.media_kind, asset.type)
    return Filled(
        mode=mode,
        image_type=image_type,
        prompt=str(recipe.get("prompt") or ""),
        settings=settings_from_recipe(recipe),
        style=style_from_recipe(recipe),
        slots=slots,
        destination=dest,
    )


def mode_to_follow(
    space: Space | None, spec: ModelSpec | None, slots: Sequence[SlotRef]
) -> str | None:
    """The mode to switch to when the first references are ones the current model
    can't take (all of one media kind), else None."""
    first = slots[0]
    if spec is not None and all(spec.accepts_reference(s.media_kind) for s in slots):
        return None
    if not all(s.media_kind == first.media_kind for s in slots):
        return None
    asset_type_ = asset_type(space, first.asset_id) if space is not None else ""
    return mode_for_asset(first.media_kind, asset_type_)


def from_draft(space: Space, draft: TrayDraft) -> tuple[tuple[SlotRef, ...], Destination | None]:
    """A space's tray draft as slots and destination again. References and a
    destination deleted meanwhile are left out without a word: the user did not just
    ask for them."""
    slots, _ = add_slots((), [s for s in (slot_for(space, v) for v in draft.references) if s])
    if draft.destination is None:
        return slots, None
    try:
        asset = space.asset(draft.destination)
    except StudioError:
        return slots, None
    return slots, Destination(asset.id, asset.name, asset.media_kind, asset.type)


# --------------------------------------------------------------------------- events


def follow_event(
    event: TypedEvent, slots: tuple[SlotRef, ...], dest: Destination | None
) -> tuple[tuple[SlotRef, ...], Destination | None]:
    """The tray's references and destination after ``event``: deleted ones leave,
    renamed assets and finished variants update."""
    match event:
        case TypedEvent(data=VariantDeleted(id=vid)):
            slots = tuple(s for s in slots if s.variant_id != vid)
        case TypedEvent(kind="asset:deleted", data=Deleted(id=aid)):
            slots = tuple(s for s in slots if s.asset_id != aid)
            if dest is not None and dest.asset_id == aid:
                dest = None
        case TypedEvent(kind="variant:updated", data=VariantData() as v):
            slots = tuple(
                replace(
                    s, status=v.status or s.status, thumb=v.thumb_path or v.poster_path or s.thumb
                )
                if s.variant_id == v.id
                else s
                for s in slots
            )
        case TypedEvent(kind="asset:updated", data=AssetData() as a):
            slots = tuple(
                replace(s, asset_name=a.name) if s.asset_id == a.id and a.name else s for s in slots
            )
            if dest is not None and dest.asset_id == a.id:
                dest = replace(dest, name=a.name or dest.name, type=a.type)
    return slots, dest
