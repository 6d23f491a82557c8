"""Every mutation of a space, as a typed, JSON-serialisable command.

A command is a frozen dataclass with a protocol ``kind`` (``asset:create``…). The
space core (``studio.core.space``) applies it with an actor; nothing else writes.
Commands marked ``internal`` are applied only by the studio itself (finishing an
import or a job), never by a person or a peer.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, ClassVar, TypeVar, Union, get_args, get_origin, get_type_hints

from studio.core import limits
from studio.core.errors import ValidationError


class MediaKindName(StrEnum):
    IMAGE = "image"
    AUDIO = "audio"
    VIDEO = "video"


class Rating(StrEnum):
    APPROVED = "approved"
    REJECTED = "rejected"
    NONE = "none"


class Command:
    """Base of all commands. Subclasses get their ``kind`` from ``@command`` and are frozen dataclasses."""

    kind: ClassVar[str] = ""
    internal: ClassVar[bool] = False


_REGISTRY: dict[str, type[Command]] = {}
C = TypeVar("C", bound=type[Command])


def command(name: str, *, internal: bool = False) -> typing.Callable[[C], C]:
    def register(cls: C) -> C:
        cls.kind = name
        cls.internal = internal
        if name in _REGISTRY:
            raise RuntimeError(f"duplicate command {name}")
        _REGISTRY[name] = cls
        return cls

    return register


def command_names() -> list[str]:
    return sorted(_REGISTRY)


def command_class(name: str) -> type[Command]:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValidationError(f"unknown command {name!r}") from None


# --------------------------------------------------------------------------- assets


@command("asset:create")
@dataclass(frozen=True, slots=True)
class CreateAsset(Command):
    name: str
    media_kind: MediaKindName
    type: str = ""
    tags: tuple[str, ...] = ()
    parent_asset_id: str | None = None
    x: float = 0.0
    y: float = 0.0
    asset_id: str | None = None


@command("asset:update")
@dataclass(frozen=True, slots=True)
class UpdateAsset(Command):
    """Changes only the fields that are given (``None`` leaves a field as it is)."""

    asset_id: str
    name: str | None = None
    type: str | None = None
    tags: tuple[str, ...] | None = None


@command("asset:delete")
@dataclass(frozen=True, slots=True)
class DeleteAsset(Command):
    asset_id: str


@command("asset:restore")
@dataclass(frozen=True, slots=True)
class RestoreAsset(Command):
    """Bring a deleted asset back. ``job_ids``: the parked jobs of its variants to queue
    again (the undo of a delete names the ones it parked); None: each pending variant
    without a live job gets its last parked one back."""

    asset_id: str
    job_ids: tuple[str, ...] | None = None


@command("asset:set-active")
@dataclass(frozen=True, slots=True)
class SetActiveVariant(Command):
    asset_id: str
    variant_id: str


@command("asset:reparent")
@dataclass(frozen=True, slots=True)
class ReparentAsset(Command):
    """``parent_asset_id=None`` takes the asset back out to the top level."""

    asset_id: str
    parent_asset_id: str | None = None


@dataclass(frozen=True, slots=True)
class Position:
    asset_id: str
    x: float
    y: float


@command("asset:move")
@dataclass(frozen=True, slots=True)
class MoveAssets(Command):
    positions: tuple[Position, ...]


def moves(positions: typing.Iterable[Position]) -> list[MoveAssets]:
    """``positions`` as few ``asset:move`` commands as the per-command limit allows
    (:data:`limits.MAX_POSITIONS` each), for one step: a drag of every card of a
    50,000-card space is one step of five commands."""
    every = tuple(positions)
    most = limits.MAX_POSITIONS
    return [MoveAssets(every[i : i + most]) for i in range(0, len(every), most)]


# --------------------------------------------------------------------------- variants


@command("variant:star")
@dataclass(frozen=True, slots=True)
class StarVariant(Command):
    variant_id: str
    starred: bool = True


@command("variant:rate")
@dataclass(frozen=True, slots=True)
class RateVariant(Command):
    variant_id: str
    rating: Rating


@command("variant:delete")
@dataclass(frozen=True, slots=True)
class DeleteVariant(Command):
    variant_id: str


@command("variant:restore")
@dataclass(frozen=True, slots=True)
class RestoreVariant(Command):
    """Bring a deleted variant back; ``job_ids`` as for ``asset:restore``."""

    variant_id: str
    job_ids: tuple[str, ...] | None = None


@command("variant:fork")
@dataclass(frozen=True, slots=True)
class ForkVariant(Command):
    """Copy a variant into a new asset (no provider call); lineage ``forked``."""

    variant_id: str
    name: str | None = None
    type: str | None = None
    x: float | None = None
    y: float | None = None
    asset_id: str | None = None
    new_variant_id: str | None = None


@command("variant:upload")
@dataclass(frozen=True, slots=True)
class BeginUpload(Command):
    """Start an import: an ``uploading`` variant, in a new asset unless ``asset_id`` is
    given. The media arrive later with ``variant:complete``."""

    media_kind: MediaKindName
    original_name: str
    asset_id: str | None = None
    name: str = ""
    type: str = ""
    tags: tuple[str, ...] = ()
    x: float = 0.0
    y: float = 0.0
    new_asset_id: str | None = None
    variant_id: str | None = None
    source: Mapping[str, Any] = field(default_factory=dict)
    """What the file says made it, kept in its recipe: ``source_tool``, ``prompt``,
    ``negative_prompt``, ``parameters``, ``notes`` (see ``ImportRecipe``)."""


@command("variant:complete", internal=True)
@dataclass(frozen=True, slots=True)
class CompleteVariant(Command):
    """Attach whole media files to a variant (paths relative to the space media dir)."""

    variant_id: str
    media_path: str
    mime: str
    size_bytes: int
    sha256: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None
    thumb_path: str | None = None
    poster_path: str | None = None
    provider_metadata: Mapping[str, Any] = field(default_factory=dict)
    generation_provenance: Mapping[str, Any] = field(default_factory=dict)


@command("variant:fail", internal=True)
@dataclass(frozen=True, slots=True)
class FailVariant(Command):
    variant_id: str
    error_code: str
    error_message: str


# --------------------------------------------------------------------------- lineage


@command("lineage:sever")
@dataclass(frozen=True, slots=True)
class SeverLineage(Command):
    """Hide a provenance edge. Lineage is never edited or removed."""

    lineage_id: str


@command("lineage:restore")
@dataclass(frozen=True, slots=True)
class RestoreLineage(Command):
    lineage_id: str


# --------------------------------------------------------------------------- collections


@command("collection:create")
@dataclass(frozen=True, slots=True)
class CreateCollection(Command):
    name: str
    collection_id: str | None = None


@command("collection:update")
@dataclass(frozen=True, slots=True)
class UpdateCollection(Command):
    collection_id: str
    name: str


@command("collection:delete")
@dataclass(frozen=True, slots=True)
class DeleteCollection(Command):
    collection_id: str


@command("collection:restore")
@dataclass(frozen=True, slots=True)
class RestoreCollection(Command):
    collection_id: str


@command("collection:item-add")
@dataclass(frozen=True, slots=True)
class AddCollectionItem(Command):
    """Add an asset or one exact variant (give exactly one) at ``position`` (default: end)."""

    collection_id: str
    asset_id: str | None = None
    variant_id: str | None = None
    position: int | None = None
    note: str = ""
    item_id: str | None = None


@command("collection:item-update")
@dataclass(frozen=True, slots=True)
class UpdateCollectionItem(Command):
    item_id: str
    note: str


@command("collection:item-remove")
@dataclass(frozen=True, slots=True)
class RemoveCollectionItem(Command):
    item_id: str


@command("collection:item-restore")
@dataclass(frozen=True, slots=True)
class RestoreCollectionItem(Command):
    """Put a removed collection item back exactly as it was (the undo of a removal):
    its id, place, note and creation time, even if what it shows is deleted now."""

    item_id: str
    collection_id: str
    position: int
    created_at: int
    asset_id: str | None = None
    variant_id: str | None = None
    note: str = ""


@command("collection:reorder")
@dataclass(frozen=True, slots=True)
class ReorderCollection(Command):
    """The collection's item ids in their new order (all of them)."""

    collection_id: str
    item_ids: tuple[str, ...]


# --------------------------------------------------------------------------- frames


@command("frame:create")
@dataclass(frozen=True, slots=True)
class CreateFrame(Command):
    title: str
    x: float
    y: float
    width: float
    height: float
    color: str = ""
    frame_id: str | None = None


@command("frame:update")
@dataclass(frozen=True, slots=True)
class UpdateFrame(Command):
    frame_id: str
    title: str | None = None
    x: float | None = None
    y: float | None = None
    width: float | None = None
    height: float | None = None
    color: str | None = None


@command("frame:delete")
@dataclass(frozen=True, slots=True)
class DeleteFrame(Command):
    frame_id: str


@command("frame:restore")
@dataclass(frozen=True, slots=True)
class RestoreFrame(Command):
    frame_id: str


# --------------------------------------------------------------------------- style presets


@command("style:create")
@dataclass(frozen=True, slots=True)
class CreateStylePreset(Command):
    name: str
    prompt: str = ""
    collection_id: str | None = None
    enabled: bool = True
    is_default: bool = False
    style_id: str | None = None


@command("style:update")
@dataclass(frozen=True, slots=True)
class UpdateStylePreset(Command):
    """``collection_id=""`` detaches the reference collection."""

    style_id: str
    name: str | None = None
    prompt: str | None = None
    collection_id: str | None = None
    enabled: bool | None = None
    is_default: bool | None = None


@command("style:delete")
@dataclass(frozen=True, slots=True)
class DeleteStylePreset(Command):
    style_id: str


@command("style:restore")
@dataclass(frozen=True, slots=True)
class RestoreStylePreset(Command):
    style_id: str


# --------------------------------------------------------------------------- generation


class BatchMode(StrEnum):
    EXPLORE = "explore"  # one asset, N variants
    SET = "set"  # N assets, one variant each


@dataclass(frozen=True, slots=True)
class GenerationOptions:
    """How to generate: provider and model (default: the best available), the model's
    settings, the seed (default: random, recorded), and the style preset to use
    (default: the space's default preset, unless ``no_style``)."""

    provider: str | None = None
    model: str | None = None
    size: str | None = None
    aspect_ratio: str | None = None
    duration_s: float | None = None
    seed: int | None = None
    params: Mapping[str, Any] = field(default_factory=dict)
    style_id: str | None = None
    no_style: bool = False
    priority: int = 0
    prompt_before: str | None = None
    """The person's prompt before the assistant enhanced it (kept in the recipe)."""


@command("generate:request")
@dataclass(frozen=True, slots=True)
class RequestGeneration(Command):
    """A new asset from a prompt (generate) or from references and a prompt (derive)."""

    prompt: str
    media_kind: MediaKindName
    type: str = ""
    name: str | None = None
    references: tuple[str, ...] = ()
    options: GenerationOptions = field(default_factory=GenerationOptions)
    x: float = 0.0
    y: float = 0.0
    request_id: str | None = None


@command("refine:request")
@dataclass(frozen=True, slots=True)
class RequestRefine(Command):
    """A new variant of an existing asset; references default to its active variant."""

    asset_id: str
    prompt: str
    references: tuple[str, ...] = ()
    options: GenerationOptions = field(default_factory=GenerationOptions)
    request_id: str | None = None


@command("batch:request")
@dataclass(frozen=True, slots=True)
class RequestBatch(Command):
    """``explore``: one asset with ``count`` variants (a new asset, or refinements of
    ``asset_id``); ``set``: ``count`` new assets with one variant each.

    A batch larger than one request's limit is sent as several parts in one step:
    ``first`` is this part's first result within the whole batch of ``total`` (names,
    seeds and each recipe's batch entry count on from it), and ``continues`` makes an
    explore part's variants join ``asset_id`` as the batch's own generations (the asset
    made just before in the step) rather than refinements of it."""

    prompt: str
    media_kind: MediaKindName
    count: int
    mode: BatchMode = BatchMode.EXPLORE
    type: str = ""
    name: str | None = None
    asset_id: str | None = None
    references: tuple[str, ...] = ()
    options: GenerationOptions = field(default_factory=GenerationOptions)
    x: float = 0.0
    y: float = 0.0
    request_id: str | None = None
    first: int = 0
    total: int | None = None
    continues: bool = False


@command("variant:retry")
@dataclass(frozen=True, slots=True)
class RetryVariant(Command):
    """A failed variant goes back to pending with its stored recipe, and a new job —
    or, with ``job_id``, that cancelled or parked job of the variant queued again (how
    undo brings back a cancelled job and redo a withdrawn retry)."""

    variant_id: str
    job_id: str | None = None


@command("variant:regenerate")
@dataclass(frozen=True, slots=True)
class RegenerateVariant(Command):
    """A new variant of the same asset from a completed variant's recipe (new seed
    unless ``keep_seed``)."""

    variant_id: str
    keep_seed: bool = False


@command("job:cancel")
@dataclass(frozen=True, slots=True)
class CancelJob(Command):
    """Stop a queued or running job; its variant fails with this code and message.
    With ``park`` the job is set aside instead of cancelled (undoing a retry: the
    variant is as it was before, and a retry of this job brings it back)."""

    job_id: str
    error_code: str = "CANCELLED"
    error_message: str = "cancelled"
    park: bool = False


@command("queue:pause")
@dataclass(frozen=True, slots=True)
class PauseQueue(Command):
    pass


@command("queue:resume")
@dataclass(frozen=True, slots=True)
class ResumeQueue(Command):
    pass


@command("job:start", internal=True)
@dataclass(frozen=True, slots=True)
class StartJob(Command):
    """Claim a queued job for ``worker_id`` (a holder id). With ``limit``, refused while
    that many jobs of the same provider run under live owners (any process)."""

    job_id: str
    worker_id: str
    lease_ms: int
    limit: int | None = None


@command("job:complete", internal=True)
@dataclass(frozen=True, slots=True)
class CompleteJob(Command):
    """``worker_id``/``attempt``: refused unless the job is still that run's (not
    re-queued or taken over meanwhile). ``staged``: the folder (relative to the media
    folder, under ``.staging/``) holding the result's files (whole and synced, as is
    the folder's own entry), moved to the variant's folder as part of this command;
    the move is synced after the commit, and the next open redoes a move a power cut
    took back."""

    job_id: str
    result: CompleteVariant
    worker_id: str | None = None
    attempt: int | None = None
    staged: str | None = None
    # Further results of the same call (e.g. several images in one Gemini answer): each
    # becomes one more completed variant of the asset, with the job variant's recipe and
    # lineage, its files moved from the matching ``extras_staged`` folder.
    extras: tuple[CompleteVariant, ...] = ()
    extras_staged: tuple[str, ...] = ()


@command("job:fail", internal=True)
@dataclass(frozen=True, slots=True)
class FailJob(Command):
    """``retry_at`` (ms) puts the job back in the queue until then; without it the job
    and its variant fail for good."""

    job_id: str
    error_code: str
    error_message: str
    retry_at: int | None = None
    worker_id: str | None = None
    attempt: int | None = None


@command("job:requeue", internal=True)
@dataclass(frozen=True, slots=True)
class RequeueJob(Command):
    """A running job goes back to the queue: its worker died (the attempt counts), or
    the app is closing and stopped it (``count_attempt=False``)."""

    job_id: str
    reason: str
    count_attempt: bool = True
    owner: str | None = None
    """Refused unless the job's lease owner is still this ("" for none)."""


# --------------------------------------------------------------------------- JSON codec


def command_to_json(cmd: Command) -> dict[str, Any]:
    out: dict[str, Any] = {"command": cmd.kind}
    for f in dataclasses.fields(cmd):  # type: ignore[arg-type]
        out[f.name] = _to_json(getattr(cmd, f.name))
    return out


def _to_json(value: Any) -> Any:
    if isinstance(value, StrEnum):
        return value.value
    if value is None or type(value) in (str, int, float, bool):
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _to_json(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, StrEnum):
        return value.value
    if isinstance(value, tuple | list):
        return [_to_json(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _to_json(v) for k, v in value.items()}
    return value


def command_from_json(obj: Any) -> Command:
    """Parse ``{"command": "asset:create", ...fields}``; raise ValidationError on any fault.

    Every field is checked here (type, length, range, finite numbers, real text, ids,
    JSON depth and size: :mod:`studio.core.limits`), so handlers only see valid values."""
    result = _parse(obj)
    if len(_PARSED) >= _PARSED_MAX:
        _PARSED.clear()
    _PARSED[id(result)] = result
    return result


def _parse(obj: Any) -> Command:
    if not isinstance(obj, Mapping):
        raise ValidationError("a command must be a JSON object")
    name = obj.get("command")
    if not isinstance(name, str):
        raise ValidationError('a command needs a "command" name, e.g. "asset:create"')
    if name not in _REGISTRY:
        raise ValidationError(f"unknown command {limits.shown(name)!r}")
    cls = _REGISTRY[name]
    body = {k: v for k, v in obj.items() if k != "command"}
    result = _decode_dataclass(cls, body, name)
    assert isinstance(result, Command)
    return result


_PARSED: dict[int, Command] = {}
"""Commands :func:`command_from_json` made, by ``id`` (each held here, so its id stays
its own while it is listed): checked field by field already, so the door does not
decode them a second time (a peer's command on a host: ~30 % of the door's CPU).
Frozen, and their JSON values deep copies no one else holds. Bounded; a command that
fell out is simply checked again."""
_PARSED_MAX = 32


def validate_command(cmd: Command) -> dict[str, Any]:
    """Check a command built in code exactly as :func:`command_from_json` checks one
    that arrives as JSON; return its JSON form. A command :func:`command_from_json`
    made is not decoded again."""
    # taken out when checked (let through once; big ones, a move of 10,000 cards, are
    # not held on to); while listed, no other live object can have its id
    if _PARSED.pop(id(cmd), None) is cmd:
        return command_to_json(cmd)
    if not isinstance(cmd, Command) or not dataclasses.is_dataclass(cmd):
        raise ValidationError(f"{type(cmd).__name__} is not a command")
    try:
        payload = command_to_json(cmd)
        _parse(payload)
        return payload
    except RecursionError:
        raise ValidationError(
            f"{cmd.kind} is nested deeper than {limits.MAX_JSON_DEPTH} levels"
        ) from None


def _decode_dataclass(cls: type, body: Mapping[str, Any], where: str) -> Any:
    hints = _hints(cls)
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = [k for k in body if k not in fields]
    if unknown:
        named = ", ".join(sorted(limits.shown(str(k)) for k in unknown[:5]))
        raise ValidationError(f"{where}: unknown field(s) {named}")
    kwargs: dict[str, Any] = {}
    for fname, f in fields.items():
        if fname in body:
            kwargs[fname] = _convert(body[fname], hints[fname], f"{where}.{fname}", fname)
        elif f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise ValidationError(f"{where}: missing field {fname!r}")
    return cls(**kwargs)


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


_ID_LISTS = frozenset({"references"})


def _convert(value: Any, hint: Any, where: str, fname: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            if len(args) < len(get_args(hint)):
                return None
            raise ValidationError(f"{where} may not be null")
        return _convert(value, args[0], where, fname)
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValidationError(f"{where} must be a list")
        most = limits.LIST_LIMITS.get(fname, limits.MAX_LIST)
        if len(value) > most:
            raise ValidationError(f"{where} has {len(value)} items; the limit is {most}")
        (item_hint, _ellipsis) = get_args(hint)
        return tuple(_convert(v, item_hint, f"{where}[{i}]", fname) for i, v in enumerate(value))
    if origin is not None and issubclass(origin, Mapping):
        if not isinstance(value, Mapping):
            raise ValidationError(f"{where} must be an object")
        return limits.check_json_value(value, where)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if not isinstance(value, Mapping):
            raise ValidationError(f"{where} must be an object")
        return _decode_dataclass(hint, value, where)
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        if isinstance(value, str):
            try:
                return hint(value)
            except ValueError:
                pass
        choices = ", ".join(m.value for m in hint)
        raise ValidationError(f"{where} must be one of: {choices}")
    if hint is bool:
        if not isinstance(value, bool):
            raise ValidationError(f"{where} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{where} must be a whole number")
        lo, hi = limits.INT_RANGES.get(fname, (limits.MIN_INT, limits.MAX_INT))
        return limits.check_int(value, where, lo, hi)
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"{where} must be a number")
        if isinstance(value, int) and not limits.MIN_INT <= value <= limits.MAX_INT:
            raise ValidationError(f"{where} must be a finite number")
        bound = limits.FLOAT_LIMITS.get(fname, limits.MAX_ABS_FLOAT)
        return limits.check_float(float(value), where, bound)
    if hint is str:
        if not isinstance(value, str):
            raise ValidationError(f"{where} must be a string")
        if limits.is_id_field(fname) or fname in _ID_LISTS:
            return limits.check_id(value, where)
        most = limits.TEXT_LIMITS.get(fname, limits.MAX_TEXT)
        return limits.check_text(value, where, most, slack=limits.RAW_SLACK)
    raise ValidationError(f"{where}: unsupported field type")  # pragma: no cover


# the assistant's commands register themselves (their own module, studio/core/chat_commands)
from studio.core import chat_commands as _chat_commands  # noqa: E402, F401
