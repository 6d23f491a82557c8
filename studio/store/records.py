"""Read models of a space: the rows the canvas and views need, as NamedTuples.

NamedTuples (not dataclasses) because opening a space builds tens of thousands of them
and ``tuple.__new__`` is the cheapest immutable record Python has. Heavy JSON columns
(recipe, provenance, provider metadata) are not here: they load on demand.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T", bound=tuple[Any, ...])


class AssetRow(NamedTuple):
    id: str
    slug: str
    name: str
    type: str
    media_kind: str
    tags_json: str
    parent_asset_id: str | None
    x: float
    y: float
    active_variant_id: str | None
    created_at: int

    @property
    def tags(self) -> tuple[str, ...]:
        """Parsed on access: most canvas work never needs the tags."""
        return parse_tags(self.tags_json)


ASSET_COLUMNS = (
    "id, slug, name, type, media_kind, tags, parent_asset_id, x, y, active_variant_id, created_at"
)


class VariantRow(NamedTuple):
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


VARIANT_COLUMNS = (
    "id, asset_id, status, error_code, error_message, media_path, thumb_path, poster_path, "
    "mime, width, height, duration_ms, starred, rating, created_at"
)


class LineageRow(NamedTuple):
    id: str
    parent_variant_id: str
    child_variant_id: str
    relation: str
    created_at: int
    severed_at: int | None


LINEAGE_COLUMNS = "id, parent_variant_id, child_variant_id, relation, created_at, severed_at"


class CollectionRow(NamedTuple):
    id: str
    name: str
    position: int
    created_at: int


COLLECTION_COLUMNS = "id, name, position, created_at"


class CollectionItemRow(NamedTuple):
    id: str
    collection_id: str
    asset_id: str | None
    variant_id: str | None
    position: int
    note: str


COLLECTION_ITEM_COLUMNS = "id, collection_id, asset_id, variant_id, position, note"


class FrameRow(NamedTuple):
    id: str
    title: str
    x: float
    y: float
    width: float
    height: float
    color: str


FRAME_COLUMNS = "id, title, x, y, width, height, color"


class StylePresetRow(NamedTuple):
    id: str
    name: str
    prompt: str
    collection_id: str | None
    enabled: int
    is_default: int


STYLE_COLUMNS = "id, name, prompt, collection_id, enabled, is_default"


class JobRow(NamedTuple):
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


JOB_COLUMNS = (
    "id, variant_id, provider, status, priority, attempts, max_attempts, not_before, progress, "
    "error_code, error_message, created_at, started_at, finished_at"
)


@dataclass(frozen=True, slots=True)
class UsageEvent:
    """What one job used, for ``library.db``'s usage ledger."""

    at: int
    space_id: str
    job_id: str
    provider: str
    model: str
    operation: str
    units: float
    unit: str
    cost_usd: float


class VariantDetail(NamedTuple):
    """Everything about one variant, including the JSON columns the canvas skips."""

    row: VariantRow
    size_bytes: int | None
    sha256: str | None
    original_name: str | None
    recipe: dict[str, Any]
    generation_provenance: dict[str, Any]
    provider_metadata: dict[str, Any]
    created_by: str
    deleted_at: int | None


def parse_tags(raw: str) -> tuple[str, ...]:
    if raw == "[]":
        return ()
    value = json.loads(raw)
    return tuple(str(t) for t in value) if isinstance(value, list) else ()


def dump_tags(tags: tuple[str, ...]) -> str:
    return json.dumps(list(tags), ensure_ascii=False)


def row_json(row: NamedTuple) -> dict[str, Any]:
    """The JSON form of a record, as events and ``--json`` output carry it."""
    out = row._asdict()
    if "tags_json" in out:
        out = {("tags" if k == "tags_json" else k): v for k, v in out.items()}
        out["tags"] = list(parse_tags(row.tags_json))  # type: ignore[attr-defined]
    for k, v in out.items():
        if isinstance(v, tuple):
            out[k] = list(v)
    return out


def rows_of(cls: type[T], cursor: Iterable[tuple[Any, ...]]) -> list[T]:
    """Build records straight from a cursor: ``tuple.__new__`` through ``partial`` keeps
    the loop in C (``_make`` would run a Python frame per row)."""
    return list(map(partial(tuple.__new__, cls), cursor))


class ReadyJob(NamedTuple):
    """A queued job whose variant and asset are live: what the scheduler needs to
    start it, in queue order."""

    job_id: str
    variant_id: str
    provider: str
    not_before: int
    attempts: int
    recipe: str
    asset_slug: str
    media_kind: str


class Requester(NamedTuple):
    """Who asked for a variant: the actor it was created by, and the name that actor last
    went by in the change log ("" once the log no longer says)."""

    variant_id: str
    actor_id: str
    name: str


class VariantLabel(NamedTuple):
    """How views name a variant: its asset, status and thumbnail, and whether it (or
    its asset) was deleted."""

    variant_id: str
    asset_id: str
    asset_name: str
    status: str
    thumb_path: str | None
    variant_deleted: bool
    asset_deleted: bool

    @property
    def gone(self) -> bool:
        """The variant or its asset was deleted."""
        return self.variant_deleted or self.asset_deleted


class JobLease(NamedTuple):
    """Who runs a running job, and until when its lease holds."""

    job_id: str
    owner: str | None
    expires_at: int | None


class UploadRow(NamedTuple):
    """A variant still being imported, and the holder that began it."""

    variant_id: str
    owner: str | None
    updated_at: int


class JobAttempt(NamedTuple):
    """How a job stands: its status, the attempts it made, its variant."""

    job_id: str
    status: str
    attempts: int
    variant_id: str


class VariantFiles(NamedTuple):
    """The files a variant row points at (relative to the media folder)."""

    variant_id: str
    status: str
    asset_slug: str | None
    media_path: str | None
    thumb_path: str | None
    poster_path: str | None
