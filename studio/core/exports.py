"""Exporting variants as files that keep their recipe and lineage (the provenance
document, embedded by :mod:`studio.media.provenance`).

``export_variants`` takes variant ids, asset ids (their active variant) and collection
ids (their items, in order) and writes one file per variant into a folder.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

from studio.core.errors import InvalidStateError, NotFoundError, StorageError, ValidationError
from studio.core.space import Space
from studio.media.metadata import has_c2pa
from studio.media.provenance import ProvenanceError, write_with_provenance

DOC_VERSION = 1
GENERATED_OPERATIONS = frozenset({"generate", "derive", "refine"})
"""Recipes whose media a model made (IPTC: trained algorithmic media)."""


@dataclass(frozen=True, slots=True)
class ExportedFile:
    variant_id: str
    path: Path
    how: str
    """``embedded``; ``c2pa-kept`` (copied byte for byte to keep its C2PA signature);
    ``copied`` (a format we cannot tag)."""


def is_generated(recipe: Mapping[str, Any]) -> bool:
    """Made by a model: generated here, or imported with another tool's generation
    metadata (a fork: see :func:`made_by_a_model`)."""
    op = recipe.get("operation")
    return op in GENERATED_OPERATIONS or (op == "import" and bool(recipe.get("source_tool")))


MAX_FORK_CHAIN = 64


def made_by_a_model(space: Space, variant_id: str) -> bool:
    """:func:`is_generated`, looking through forks (a copy) to the variant they copy."""
    vid = variant_id
    for _ in range(MAX_FORK_CHAIN):
        recipe = space.variant_detail(vid).recipe
        sources = recipe.get("source_variant_ids")
        if recipe.get("operation") != "fork" or not isinstance(sources, list) or not sources:
            return is_generated(recipe)
        try:
            space.variant_detail(str(sources[0]))
        except NotFoundError:
            return False
        vid = str(sources[0])
    return False


def provenance_doc(space: Space, variant_id: str, *, now_ms: int) -> dict[str, Any]:
    """The compact document embedded in an exported file: what made the variant (its
    recipe) and where it came from (its live lineage), read through the read API."""
    detail = space.variant_detail(variant_id)
    asset = space.asset(detail.row.asset_id)
    parents = [
        {"variant_id": link.parent_variant_id, "relation": link.relation}
        for link in space.lineage_of(variant_id)
        if link.child_variant_id == variant_id and link.severed_at is None
    ]
    doc: dict[str, Any] = {
        "app": "forge-studio",
        "version": DOC_VERSION,
        "space_id": space.id,
        "asset": {"id": asset.id, "name": asset.name, "type": asset.type},
        "variant_id": variant_id,
        "sha256": detail.sha256,
        "recipe": detail.recipe,
        "lineage": parents,
        "exported_at": now_ms,
    }
    if detail.generation_provenance:
        doc["provenance"] = detail.generation_provenance
    return doc


def resolve_ids(space: Space, refs: Sequence[str]) -> list[str]:
    """Variant ids for ``refs``: a variant, an asset (its active variant) or a
    collection (its items in order); each variant once."""
    snap = space.snapshot()
    variants = {v.id for v in space.all_variants()}  # the snapshot: the cards' only
    assets = {a.id: a for a in snap.assets}
    collections = {col.id for col in snap.collections}
    out: list[str] = []
    for ref in refs:
        if ref in variants:
            out.append(ref)
        elif ref in assets:
            active = assets[ref].active_variant_id
            if active is None:
                raise InvalidStateError(f"the asset {assets[ref].name!r} has no variant yet")
            out.append(active)
        elif ref in collections:
            for item in snap.collection_items:
                if item.collection_id != ref:
                    continue
                vid = item.variant_id or (
                    assets[item.asset_id].active_variant_id if item.asset_id in assets else None
                )
                if vid is not None:
                    out.append(vid)
        else:
            raise NotFoundError(f"there is no variant, asset or collection {ref!r}")
    return list(dict.fromkeys(out))


def export_name(space: Space, variant_id: str) -> str:
    detail = space.variant_detail(variant_id)
    slug = space.asset(detail.row.asset_id).slug
    ext = PurePosixPath(detail.row.media_path or "").suffix
    return f"{slug}-{variant_id}{ext}"


def export_variant(space: Space, variant_id: str, dest: Path) -> ExportedFile:
    """One variant's original at ``dest`` (never overwritten), provenance embedded."""
    detail = space.variant_detail(variant_id)
    row = detail.row
    if row.status != "completed" or not row.media_path or not row.mime:
        raise InvalidStateError(f"the variant {variant_id} has no finished media to export")
    src = space.media_dir / row.media_path
    doc = provenance_doc(space, variant_id, now_ms=space.clock())
    size = (row.width, row.height) if row.width and row.height else None
    try:
        how = write_with_provenance(
            src,
            dest,
            row.mime,
            doc,
            generated=made_by_a_model(space, variant_id),
            size=size,
            c2pa=has_c2pa(src, row.mime),
        )
    except ProvenanceError as exc:
        raise StorageError(f"could not export {variant_id}: {exc}") from exc
    return ExportedFile(variant_id, dest, how)


def export_variants(
    space: Space,
    refs: Sequence[str],
    folder: Path,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> list[ExportedFile]:
    """Each variant of ``refs`` into ``folder`` (created) as ``<asset>-<variant>.<ext>``;
    ``progress(files done, files in all)`` after each."""
    if not refs:
        raise ValidationError("name at least one variant, asset or collection to export")
    ids = resolve_ids(space, refs)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {folder}: {exc.strerror or exc}") from exc
    out: list[ExportedFile] = []
    for vid in ids:
        out.append(export_variant(space, vid, folder / export_name(space, vid)))
        if progress is not None:
            progress(len(out), len(ids))
    return out
