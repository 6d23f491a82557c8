"""Every table of a host space and a replica, compared exactly (convergence checks).

A replica equals its host in every table, every column, the change log and its
``change_rows`` included, except the per-file tables documented in docs/sharing.md:
``history`` (undo lives on the host), ``peer_mutations`` (the host's de-duplication),
``sync_state`` (each file's own replication state) and ``sqlite_sequence``.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

PER_FILE = frozenset({"history", "peer_mutations", "sync_state", "sqlite_sequence"})


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        names = [
            r[0]
            for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY 1")
            if r[0] not in PER_FILE
        ]
        return {n: sorted(conn.execute(f"SELECT * FROM {n}").fetchall(), key=repr) for n in names}
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
