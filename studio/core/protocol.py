"""The space protocol: one catalogue of every command and every event, with typed
payloads, one codec, and a version number. This is the wire format every writer and
follower speaks (the CLI, the app, the change feed, the LAN bridge next).

Commands are catalogued by :mod:`studio.core.commands` (``command_from_json`` /
``command_to_json``); this module adds the events: each kind names a frozen dataclass
payload whose fields are exactly the keys of the event's ``data``.
:func:`decode_event` checks an event (from the bus or the change log) against the
catalogue and returns its typed form; :func:`encode_event` is its inverse.

``python -m studio.core.protocol --markdown`` prints ``docs/protocol.md``.
"""

from __future__ import annotations

import dataclasses
import sys
import types
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Union, get_args, get_origin, get_type_hints

from studio.core import commands as c
from studio.core.errors import ValidationError
from studio.core.events import Event
from studio.core.forge import Recipe

PROTOCOL_VERSION = 3
"""Raised whenever a command or event kind, or a payload field, is added, removed or
changes type: a peer speaking another version must not guess."""


# --------------------------------------------------------------------------- payloads


@dataclass(frozen=True, slots=True)
class AssetData:
    """An asset row as events carry it."""

    id: str
    slug: str
    name: str
    type: str
    media_kind: str
    tags: tuple[str, ...]
    parent_asset_id: str | None
    x: float
    y: float
    active_variant_id: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class VariantData:
    id: str
    asset_id: str
    status: str
    error_code: str | None
    error_message: str | None
    media_path: str | None
    thumb_path: str | None
    poster_path: str | None
    mime: str | None
    width: int | None
    height: int | None
    duration_ms: int | None
    starred: int
    rating: str | None
    created_at: int


@dataclass(frozen=True, slots=True)
class AssetRestoredData(AssetData):
    """The restored asset with its live variants."""

    variants: tuple[VariantData, ...]


@dataclass(frozen=True, slots=True)
class LineageData:
    id: str
    parent_variant_id: str
    child_variant_id: str
    relation: str
    created_at: int
    severed_at: int | None


@dataclass(frozen=True, slots=True)
class CollectionData:
    id: str
    name: str
    position: int
    created_at: int


@dataclass(frozen=True, slots=True)
class CollectionItemData:
    id: str
    collection_id: str
    asset_id: str | None
    variant_id: str | None
    position: int
    note: str


@dataclass(frozen=True, slots=True)
class CollectionItemsData:
    """All items of one collection, in order, after any change to them."""

    collection_id: str
    items: tuple[CollectionItemData, ...]


@dataclass(frozen=True, slots=True)
class FrameData:
    id: str
    title: str
    x: float
    y: float
    width: float
    height: float
    color: str


@dataclass(frozen=True, slots=True)
class StyleData:
    id: str
    name: str
    prompt: str
    collection_id: str | None
    enabled: int
    is_default: int


@dataclass(frozen=True, slots=True)
class JobData:
    id: str
    variant_id: str
    provider: str
    status: str
    priority: int
    attempts: int
    max_attempts: int
    not_before: int
    progress: float | None
    error_code: str | None
    error_message: str | None
    created_at: int
    started_at: int | None
    finished_at: int | None


@dataclass(frozen=True, slots=True)
class Deleted:
    """Only the id of what was deleted."""

    id: str


@dataclass(frozen=True, slots=True)
class VariantDeleted:
    id: str
    asset_id: str


@dataclass(frozen=True, slots=True)
class Moved:
    positions: tuple[c.Position, ...]


@dataclass(frozen=True, slots=True)
class Empty:
    pass


@dataclass(frozen=True, slots=True)
class JobProgress:
    job_id: str
    variant_id: str
    progress: float
    message: str


@dataclass(frozen=True, slots=True)
class ChatSessionData:
    id: str
    title: str
    created_by: str
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class ChatMessageData:
    id: str
    session_id: str
    position: int
    role: str


@dataclass(frozen=True, slots=True)
class ProposalData:
    """A proposal of the assistant: its estimated cost (None: no generation), its state
    (pending, approved, rejected, applied) and who decided (its exact commands: read
    the proposal)."""

    id: str
    session_id: str
    tool: str
    summary: str
    cost_usd: float | None
    state: str
    proposed_for: str
    decided_by: str | None
    decided_at: int | None
    standing: int
    created_at: int
    updated_at: int


@dataclass(frozen=True, slots=True)
class RuleData:
    """One of the space's rules for the assistant (``allow:TOOL`` "1", ``cap_usd``);
    value None: the rule was removed."""

    key: str
    value: str | None


# --------------------------------------------------------------------------- catalogue


@dataclass(frozen=True, slots=True)
class EventKind:
    """One event kind: its payload type and whether it is transient (published to
    this process's subscribers only, never written to the change log)."""

    name: str
    payload: type
    doc: str
    transient: bool = False


EVENTS: dict[str, EventKind] = {
    k.name: k
    for k in (
        EventKind("asset:created", AssetData, "an asset was created"),
        EventKind("asset:updated", AssetData, "an asset changed (name, tags, parent, active…)"),
        EventKind("asset:deleted", Deleted, "an asset was deleted (one per asset of a subtree)"),
        EventKind("asset:restored", AssetRestoredData, "a deleted asset came back"),
        EventKind("asset:moved", Moved, "assets moved on the canvas"),
        EventKind("variant:created", VariantData, "a variant was created"),
        EventKind("variant:updated", VariantData, "a variant changed"),
        EventKind("variant:deleted", VariantDeleted, "a variant was deleted"),
        EventKind("variant:restored", VariantData, "a deleted variant came back"),
        EventKind("lineage:created", LineageData, "a provenance edge was recorded"),
        EventKind("lineage:updated", LineageData, "a provenance edge was severed or restored"),
        EventKind("collection:created", CollectionData, "a collection was created"),
        EventKind("collection:updated", CollectionData, "a collection was renamed"),
        EventKind("collection:deleted", Deleted, "a collection was deleted"),
        EventKind("collection:restored", CollectionData, "a deleted collection came back"),
        EventKind("collection:items", CollectionItemsData, "a collection's items changed"),
        EventKind("frame:created", FrameData, "a frame was created"),
        EventKind("frame:updated", FrameData, "a frame changed"),
        EventKind("frame:deleted", Deleted, "a frame was deleted"),
        EventKind("frame:restored", FrameData, "a deleted frame came back"),
        EventKind("style:created", StyleData, "a style preset was created"),
        EventKind("style:updated", StyleData, "a style preset changed"),
        EventKind("style:deleted", Deleted, "a style preset was deleted"),
        EventKind("style:restored", StyleData, "a deleted style preset came back"),
        EventKind("job:created", JobData, "a job was queued"),
        EventKind("job:updated", JobData, "a job changed status or progress"),
        EventKind("queue:paused", Empty, "the job queue was paused"),
        EventKind("queue:resumed", Empty, "the job queue was resumed"),
        EventKind("job:progress", JobProgress, "a running job reported progress", transient=True),
        EventKind("chat:session-updated", ChatSessionData, "a chat was made, renamed or restored"),
        EventKind("chat:session-deleted", Deleted, "a chat was deleted"),
        EventKind("chat:message-added", ChatMessageData, "a chat turn was recorded"),
        EventKind("proposal:updated", ProposalData, "the assistant proposed, or one was decided"),
        EventKind("assistant:rules", RuleData, "an always-allow rule or the spending cap changed"),
    )
}


def event_names() -> list[str]:
    return sorted(EVENTS)


@dataclass(frozen=True, slots=True)
class TypedEvent:
    """An event decoded against the catalogue: ``data`` is the kind's payload type."""

    kind: str
    data: Any
    seq: int = 0


# --------------------------------------------------------------------------- codec


def decode_event(event: Event | Mapping[str, Any]) -> TypedEvent:
    """Check an event (an :class:`Event`, or its JSON form ``{"type", "seq", "data"}``)
    against the catalogue; raise one clear :class:`ValidationError` on any fault."""
    kind: object
    data: object
    seq: object
    if isinstance(event, Event):
        kind, data, seq = event.type, event.data, event.seq
    elif isinstance(event, Mapping):
        kind, data, seq = event.get("type"), event.get("data", {}), event.get("seq", 0)
    else:
        raise ValidationError("an event must be a JSON object")
    if not isinstance(kind, str) or kind not in EVENTS:
        raise ValidationError(f"unknown event kind {kind!r}")
    if isinstance(seq, bool) or not isinstance(seq, int):
        raise ValidationError(f"{kind}: seq must be a whole number")
    return TypedEvent(kind, _decode(EVENTS[kind].payload, data, kind), seq)


def encode_event(typed: TypedEvent) -> Event:
    """The :class:`Event` (JSON-ready data) of a typed event."""
    spec = EVENTS.get(typed.kind)
    if spec is None:
        raise ValidationError(f"unknown event kind {typed.kind!r}")
    if type(typed.data) is not spec.payload:
        raise ValidationError(f"{typed.kind} carries {spec.payload.__name__}")
    data = c._to_json(typed.data)
    return Event(typed.kind, data, typed.seq)


@dataclass(frozen=True, slots=True)
class ImportRecipe:
    """The recipe of an imported variant, with what the file itself says made it (read
    from AUTOMATIC1111/Forge, ComfyUI or InvokeAI metadata, or from a Forge Studio
    export): the tool, its prompts and every parameter it recorded, and notes on what
    was too large or malformed to keep."""

    operation: str
    original_name: str
    source_tool: str = ""
    prompt: str = ""
    negative_prompt: str = ""
    parameters: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ForkRecipe:
    """The recipe of a forked variant (a copy; no provider call)."""

    operation: str
    source_variant_ids: tuple[str, ...]


AnyRecipe = Recipe | ImportRecipe | ForkRecipe

RECIPES: dict[str, type] = {
    "generate": Recipe,
    "derive": Recipe,
    "refine": Recipe,
    "import": ImportRecipe,
    "fork": ForkRecipe,
}
"""The recipe type of each ``operation``."""


def encode_recipe(recipe: AnyRecipe) -> dict[str, Any]:
    """A recipe's JSON form, as stored on its variant (the same codec as commands). An
    import's recipe leaves out the source fields its file did not fill, so a plain
    import's recipe stays ``{operation, original_name}`` as before."""
    out = dict(c._to_json(recipe))
    if isinstance(recipe, Recipe) and recipe.prompt_before is None:
        del out["prompt_before"]  # only an enhanced prompt's recipe has it
    if isinstance(recipe, ImportRecipe):
        for name in _defaulted(ImportRecipe):
            if out.get(name) in ("", {}, []):
                del out[name]
    return out


def decode_recipe(obj: Any) -> AnyRecipe:
    """A stored recipe checked against the protocol (its type chosen by ``operation``);
    one clear :class:`ValidationError` when it does not match."""
    if not isinstance(obj, Mapping):
        raise ValidationError("a recipe must be a JSON object")
    op = obj.get("operation")
    if not isinstance(op, str) or op not in RECIPES:
        raise ValidationError(f"unknown recipe operation {op!r}")
    result = _decode(RECIPES[op], obj, f"{op} recipe")
    assert isinstance(result, Recipe | ImportRecipe | ForkRecipe)
    return result


def _decode(cls: type, value: Any, where: str) -> Any:
    if not isinstance(value, Mapping):
        raise ValidationError(f"{where} must be an object")
    hints = _hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(str(k) for k in value if k not in hints)
    if unknown:
        raise ValidationError(f"{where}: unknown field(s) {', '.join(unknown[:5])}")
    missing = [n for n in names if n not in value and n not in _defaulted(cls)]
    if missing:
        raise ValidationError(f"{where}: missing field(s) {', '.join(missing)}")
    return cls(**{n: _value(value[n], hints[n], f"{where}.{n}") for n in names if n in value})


def _defaulted(cls: type) -> set[str]:
    return {
        f.name
        for f in dataclasses.fields(cls)
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING
    }


def _value(value: Any, hint: Any, where: str) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        args = [a for a in get_args(hint) if a is not type(None)]
        if value is None:
            return None
        return _value(value, args[0], where)
    if value is None:
        raise ValidationError(f"{where} may not be null")
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise ValidationError(f"{where} must be a list")
        item = get_args(hint)[0]
        return tuple(_value(v, item, f"{where}[{i}]") for i, v in enumerate(value))
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _decode(hint, value, where)
    if origin is not None and issubclass(origin, Mapping):
        if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
            raise ValidationError(f"{where} must be an object")
        return dict(value)
    if hint is bool:
        if not isinstance(value, bool):
            raise ValidationError(f"{where} must be true or false")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValidationError(f"{where} must be a whole number")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError(f"{where} must be a number")
        return float(value)
    if hint is str:
        if not isinstance(value, str):
            raise ValidationError(f"{where} must be a string")
        return value
    raise ValidationError(f"{where}: unsupported field type")  # pragma: no cover


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:
        _HINTS[cls] = get_type_hints(cls)
    return _HINTS[cls]


# --------------------------------------------------------------------------- document


def type_name(hint: Any) -> str:
    """A field type as the document shows it (JSON terms)."""
    origin = get_origin(hint)
    if origin in (Union, types.UnionType):
        return " \\| ".join(type_name(a) for a in get_args(hint))
    if hint is type(None):
        return "null"
    if origin is tuple:
        return f"list[{type_name(get_args(hint)[0])}]"
    if origin is not None and issubclass(origin, Mapping):
        return "object"
    if isinstance(hint, type) and issubclass(hint, StrEnum):
        return " \\| ".join(f'"{m.value}"' for m in hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return hint.__name__
    names = {str: "string", int: "int", float: "number", bool: "bool"}
    return names.get(hint, str(hint))


def _default(f: dataclasses.Field[Any]) -> str:
    if f.default is not dataclasses.MISSING:
        d = c._to_json(f.default)
        return (
            "null"
            if d is None
            else repr(d).replace("'", '"').replace("True", "true").replace("False", "false")
        )
    if f.default_factory is not dataclasses.MISSING:
        return "{}" if isinstance(f.default_factory(), Mapping) else "(default)"
    return "required"


def _nested(cls: type, seen: dict[str, type]) -> None:
    for hint in _hints(cls).values():
        for t in (hint, *get_args(hint), *(a for g in get_args(hint) for a in get_args(g))):
            if isinstance(t, type) and dataclasses.is_dataclass(t) and t.__name__ not in seen:
                if not issubclass(t, c.Command):
                    seen[t.__name__] = t
                _nested(t, seen)


def _field_table(cls: type, with_defaults: bool) -> list[str]:
    hints = _hints(cls)
    fields = dataclasses.fields(cls)
    if not fields:
        return ["(no fields)", ""]
    if with_defaults:
        rows = ["| field | type | default |", "|---|---|---|"]
        rows += [f"| `{f.name}` | {type_name(hints[f.name])} | {_default(f)} |" for f in fields]
    else:
        rows = ["| field | type |", "|---|---|"]
        rows += [f"| `{f.name}` | {type_name(hints[f.name])} |" for f in fields]
    return [*rows, ""]


def markdown() -> str:
    """``docs/protocol.md``, generated from the catalogues (a test keeps them equal)."""
    out = [
        "# Space protocol",
        "",
        "<!-- Generated by `python -m studio.core.protocol --markdown`; do not edit. -->",
        "",
        f"Protocol version: **{PROTOCOL_VERSION}**",
        "",
        'A command is a JSON object `{"command": KIND, ...fields}`; an event is',
        '`{"type": KIND, "seq": N, "data": {...fields}}`. Internal commands are applied',
        "only by the studio itself (finishing an import or a job), never by a person or a peer.",
        "",
        "## Commands",
        "",
    ]
    nested: dict[str, type] = {}
    for name in c.command_names():
        cls = c.command_class(name)
        flag = " (internal)" if cls.internal else ""
        out += [f"### `{name}`{flag}", ""]
        doc = (cls.__doc__ or "").strip()
        if doc and not doc.startswith(cls.__name__ + "("):
            out += [" ".join(doc.split()), ""]
        out += _field_table(cls, with_defaults=True)
        _nested(cls, nested)
    out += ["## Events", ""]
    for name in event_names():
        spec = EVENTS[name]
        flag = " (transient)" if spec.transient else ""
        out += [f"### `{name}`{flag}", "", f"{spec.doc}; data: `{spec.payload.__name__}`", ""]
        _nested(spec.payload, nested)
    out += [
        "## Recipes",
        "",
        "What a variant was made from, stored on it; its type follows `operation`:",
        "",
        "| operation | recipe |",
        "|---|---|",
        *(f"| `{op}` | `{t.__name__}` |" for op, t in RECIPES.items()),
        "",
    ]
    for t in RECIPES.values():
        nested[t.__name__] = t
    out += ["## Types", ""]
    payloads = {s.payload.__name__: s.payload for s in EVENTS.values()}
    for tname in sorted({**nested, **payloads}):
        cls = {**nested, **payloads}[tname]
        out += [f"### `{tname}`", ""]
        out += _field_table(cls, with_defaults=tname in nested and tname not in payloads)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str]) -> int:
    if argv != ["--markdown"]:
        print("usage: python -m studio.core.protocol --markdown", file=sys.stderr)
        return 2
    sys.stdout.write(markdown())
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
