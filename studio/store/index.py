"""The index of spaces in ``library.db``, read with ``sqlite3`` alone: what ``studio space
list`` needs, at a bare interpreter's start-up cost (the store's machinery — schema
checks, migrations, records — costs several times that to import and open).

Anything unusual (no file yet, another version, a damaged or locked file) answers
None: the caller then opens :class:`studio.store.library.Library`, which creates,
migrates, or says in one sentence what is wrong.
"""

from __future__ import annotations

import os
import sqlite3
import urllib.parse
from pathlib import Path

LIBRARY_APPLICATION_ID = 0x46534C42  # "FSLB", as studio.store.schema has it
LIBRARY_VERSION = 2
"""The library schema this reader knows: ``len(LIBRARY_MIGRATIONS)`` (a test holds them
equal); a file at any other version is left to :class:`Library`."""

SPACE_FIELDS = ("id", "slug", "name", "file", "created_at", "last_opened_at")
_SPACES = (
    f"SELECT {', '.join(SPACE_FIELDS)} FROM spaces "
    "ORDER BY COALESCE(last_opened_at, created_at) DESC, name"
)


def read_spaces(library_db: Path) -> list[tuple[object, ...]] | None:
    """The spaces (``SPACE_FIELDS`` per row) in :meth:`Library.spaces` order, or None
    when the file can't simply be read as it is."""
    if not library_db.is_file():
        return None
    uri = f"file:{urllib.parse.quote(os.fsencode(library_db.absolute()))}?mode=ro"
    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error:
        return None
    try:
        if conn.execute("PRAGMA application_id").fetchone()[0] != LIBRARY_APPLICATION_ID:
            return None
        if conn.execute("PRAGMA user_version").fetchone()[0] != LIBRARY_VERSION:
            return None
        rows: list[tuple[object, ...]] = conn.execute(_SPACES).fetchall()
        return rows
    except (sqlite3.Error, UnicodeDecodeError):
        return None
    finally:
        conn.close()
