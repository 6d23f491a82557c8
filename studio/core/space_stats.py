"""What the spaces list shows of spaces that are not open: how many assets each holds.

Read straight from each space file on a read-only connection (no holder, no recovery,
never a write), so the counts are there after a restart and follow what the CLI did.
A file that cannot be read is left out: its count is unknown, not zero."""

from __future__ import annotations

import logging
import sqlite3

from studio.core.studio import Studio
from studio.store.db import connect

log = logging.getLogger(__name__)


def asset_counts(studio: Studio) -> dict[str, int]:
    """Space id -> live assets, for every listed space whose file reads."""
    out: dict[str, int] = {}
    for entry in studio.spaces():
        path = studio.paths.home / entry.file
        if not path.is_file():
            continue
        try:
            conn = connect(path, mode="ro", wal=False)
        except sqlite3.Error as exc:
            log.debug("could not count the assets of %s: %s", entry.slug, exc)
            continue
        try:
            conn.execute("PRAGMA busy_timeout = 200")
            row = conn.execute("SELECT COUNT(*) FROM assets WHERE deleted_at IS NULL").fetchone()
            out[entry.id] = int(row[0])
        except sqlite3.Error as exc:
            log.debug("could not count the assets of %s: %s", entry.slug, exc)
        finally:
            conn.close()
    return out
