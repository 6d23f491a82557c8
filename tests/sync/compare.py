"""Every table of a host space and a replica, compared exactly (convergence checks).

A replica equals its host in every table, every column, the change log and its
``change_rows`` included, except the per-file tables documented in docs/sharing.md:
``history`` (undo lives on the host), ``peer_mutations`` (the host's de-duplication),
``sync_state`` (each file's own replication state) and ``sqlite_sequence``. The search
index (migration 8) is compared by what it holds for each asset, not by its tables'
bytes (document numbers and FTS5 segments depend on the order of writes).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

SEARCH_DOCUMENTS = (
    "SELECT d.asset_id, s.name, s.type, s.tags, s.prompts FROM asset_search s "
    "JOIN asset_search_docs d ON d.doc = s.rowid"
)
PER_FILE = frozenset({"history", "peer_mutations", "sync_state", "sqlite_sequence"})


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
            if r[0] not in PER_FILE and not r[0].startswith("asset_search")
        ]
        out = {n: sorted(conn.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
        out["search documents"] = sorted(conn.execute(SEARCH_DOCUMENTS).fetchall(), key=repr)
        return out
    finally:
        conn.close()


def differences(host: Path, replica: Path) -> list[str]:
    a, b = dump(host), dump(replica)
    out = []
    for name in sorted(set(a) | set(b)):
        ra, rb = set(a.get(name, [])), set(b.get(name, []))
        for row in sorted(ra - rb, key=repr)[:3]:
            out.append(f"{name}: only on the host: {row}")
        for row in sorted(rb - ra, key=repr)[:3]:
            out.append(f"{name}: only on the replica: {row}")
    return out
