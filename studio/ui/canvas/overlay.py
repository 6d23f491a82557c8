"""The effect of a joined space's edits that the host has not answered yet, laid over
the replica's rows for showing only (issue 13): a card stays where it was dropped, a
rename / tags / star / rating shows at once. Nothing here is ever written: the replica
changes only from the host's events, and the overlay is rebuilt (or emptied) when the
host answers — an applied step's real row replaces it, a refused one disappears.

Pure Python (no Qt): the scene and the details ask :meth:`PendingOverlay.asset` /
:meth:`PendingOverlay.variant` for the row to show. Commands not covered here (create,
delete, generate…) are only marked as waiting (the card's clock)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from studio.store.records import AssetRow, VariantRow, dump_tags

Patch = dict[str, Any]


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class PendingOverlay:
    def __init__(self) -> None:
        self.assets: dict[str, Patch] = {}  # asset id -> the fields shown instead
        self.variants: dict[str, Patch] = {}  # variant id -> the fields shown instead

    def __bool__(self) -> bool:
        return bool(self.assets or self.variants)

    def rebuild(self, steps: Iterable[Sequence[Mapping[str, Any]]]) -> tuple[set[str], set[str]]:
        """Lay ``steps`` (each a step's commands in JSON form, oldest first) over the rows;
        returns the asset ids and variant ids whose shown rows may have changed."""
        before_a, before_v = self.assets, self.variants
        self.assets, self.variants = {}, {}
        for step in steps:
            for cmd in step:
                if isinstance(cmd, Mapping):
                    self._lay(cmd)
        changed_a = {
            k for k in before_a.keys() | self.assets.keys() if before_a.get(k) != self.assets.get(k)
        }
        changed_v = {
            k
            for k in before_v.keys() | self.variants.keys()
            if before_v.get(k) != self.variants.get(k)
        }
        return changed_a, changed_v

    def _lay(self, cmd: Mapping[str, Any]) -> None:
        kind = cmd.get("command")
        aid, vid = cmd.get("asset_id"), cmd.get("variant_id")
        if kind == "asset:move":
            for p in cmd.get("positions") or ():
                if not isinstance(p, Mapping) or not isinstance(p.get("asset_id"), str):
                    continue
                x, y = _number(p.get("x")), _number(p.get("y"))
                if x is not None and y is not None:
                    self.assets.setdefault(p["asset_id"], {}).update(x=x, y=y)
        elif kind == "asset:update" and isinstance(aid, str):
            patch = self.assets.setdefault(aid, {})
            for key in ("name", "type"):
                if isinstance(cmd.get(key), str):
                    patch[key] = cmd[key]
            tags = cmd.get("tags")
            if isinstance(tags, list) and all(isinstance(t, str) for t in tags):
                patch["tags_json"] = dump_tags(tuple(tags))
            if not patch:
                del self.assets[aid]
        elif kind == "asset:set-active" and isinstance(aid, str) and isinstance(vid, str):
            self.assets.setdefault(aid, {})["active_variant_id"] = vid
        elif kind == "variant:star" and isinstance(vid, str):
            self.variants.setdefault(vid, {})["starred"] = int(cmd.get("starred") is not False)
        elif kind == "variant:rate" and isinstance(vid, str) and isinstance(cmd.get("rating"), str):
            rating = cmd["rating"]
            self.variants.setdefault(vid, {})["rating"] = None if rating == "none" else rating

    # ------------------------------------------------------------------ reading
    def asset(self, row: AssetRow) -> AssetRow:
        """``row`` as shown: with the waiting steps' changes."""
        patch = self.assets.get(row.id)
        return row._replace(**patch) if patch else row

    def variant(self, row: VariantRow) -> VariantRow:
        patch = self.variants.get(row.id)
        return row._replace(**patch) if patch else row

    def variant_rows(self, rows: Sequence[VariantRow]) -> list[VariantRow]:
        return [self.variant(r) for r in rows] if self.variants else list(rows)

    def changes(self, asset_id: str, variant_ids: Iterable[str] = ()) -> bool:
        """Does a waiting step change this asset (or one of these variants of it)?"""
        return asset_id in self.assets or any(v in self.variants for v in variant_ids)
