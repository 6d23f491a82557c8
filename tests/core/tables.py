"""The whole state of a space, every table, as plain data to compare in tests.

"The same state" means: every live row is equal in every column except the ones that
must move with time (``updated_at``, job timing; ``created_at`` must not); a tombstone (deleted
asset, variant, collection, frame, style; parked job; severed lineage) keeps all its
columns but its deletion time, which becomes a flag; and a row that is dead on one side
may be missing on the other (undoing a create leaves a tombstone where there was
nothing). The change log and the migration book are not state.
"""

from __future__ import annotations

from typing import Any

from studio.core.space import Space
from tests.sql import query

Row = dict[str, Any]
Tables = dict[str, dict[Any, Row]]

# the change log and the undo history record the undo itself: they grow, by design
# (and so does change_rows, the log's filing of touched rows; sync_state and
# peer_mutations are sharing's bookkeeping, see docs/sharing.md)
SKIPPED_TABLES = frozenset(
    {
        "changes",
        "history",
        "schema_migrations",
        "sqlite_sequence",
        "change_rows",
        "sync_state",
        "peer_mutations",
    }
)
DERIVED_PREFIX = "asset_search"
"""The search index (migration 8) and its FTS5 shadow tables: derived from the assets
and variants by triggers, their bytes depend on the order of writes (tests/core/
test_search_index.py checks what they find)."""
TIME_COLUMNS = frozenset({"updated_at", "started_at", "finished_at"})
FLAG_COLUMNS = frozenset({"deleted_at", "severed_at"})
JOB_TIME_COLUMNS = frozenset({"not_before", "lease_expires_at"})


def tables(space: Space) -> Tables:
    names = [
        row[0]
        for row in query(space, "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        if row[0] not in SKIPPED_TABLES and not row[0].startswith(DERIVED_PREFIX)
    ]
    out: Tables = {}
    for name in names:
        cols = [row[1] for row in query(space, f"PRAGMA table_info({name})")]
        key = "key" if name in ("meta", "assistant_rules") else "id"
        rows: dict[Any, Row] = {}
        for raw in query(space, f"SELECT * FROM {name}"):
            row = dict(zip(cols, raw, strict=True))
            clean: Row = {}
            for col, value in row.items():
                if col in TIME_COLUMNS or (name == "jobs" and col in JOB_TIME_COLUMNS):
                    continue
                clean[col] = value is not None if col in FLAG_COLUMNS else value
            rows[row[key]] = clean
        out[name] = rows
    return out


def _dead(t: Tables) -> dict[str, set[Any]]:
    """The ids of the rows that are tombstones (or hang off one)."""
    assets = {k for k, r in t["assets"].items() if r["deleted_at"]}
    variants = {k for k, r in t["variants"].items() if r["deleted_at"] or r["asset_id"] in assets}
    jobs = {
        k
        for k, r in t["jobs"].items()
        if r["status"] == "parked"
        or (r["variant_id"] in variants and r["status"] not in ("queued", "running"))
    }
    lineage = {
        k
        for k, r in t["lineage"].items()
        if r["severed_at"]
        or r["parent_variant_id"] in variants
        or r["child_variant_id"] in variants
    }
    dead = {"assets": assets, "variants": variants, "jobs": jobs, "lineage": lineage}
    for name in ("collections", "frames", "style_presets"):
        dead[name] = {k for k, r in t[name].items() if r["deleted_at"]}
    return dead


def differences(before: Tables, after: Tables) -> list[str]:
    """What differs between two states, one line each (empty: the same state)."""
    out: list[str] = []
    dead_before, dead_after = _dead(before), _dead(after)
    for name in sorted(set(before) | set(after)):
        a, b = before.get(name, {}), after.get(name, {})
        for key in sorted(set(a) | set(b), key=str):
            if key in a and key in b:
                if a[key] != b[key]:
                    changed = {
                        col: (a[key].get(col), b[key].get(col))
                        for col in sorted(set(a[key]) | set(b[key]))
                        if a[key].get(col) != b[key].get(col)
                    }
                    out.append(f"{name} {key}: {changed}")
            elif key in a and key not in dead_before.get(name, set()):
                out.append(f"{name} {key}: gone ({a[key]})")
            elif key in b and key not in dead_after.get(name, set()):
                out.append(f"{name} {key}: new ({b[key]})")
    return out
