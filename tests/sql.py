"""Raw SQL reads for tests only: production code reads through ``Space.read`` (and
tests/test_layering.py proves views, jobs and the CLI hold no SQL)."""

from __future__ import annotations

from typing import Any

from studio.core.space import Space


def query(space: Space, sql: str, args: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows of read-only ``sql`` on the space's read connection for this thread."""
    with space.reading() as conn:
        return conn.execute(sql, args).fetchall()


def write(space: Space, sql: str, args: tuple[Any, ...] = ()) -> None:
    """Run ``sql`` in a write transaction of its own, behind the door's back (tests that
    damage or seed a space on purpose)."""
    with space._db.write() as conn:
        conn.execute(sql, args)


def write_many(space: Space, sql: str, rows: list[tuple[Any, ...]]) -> None:
    """``executemany`` in one write transaction, behind the door's back (seeding big
    spaces fast)."""
    with space._db.write() as conn:
        conn.executemany(sql, rows)
