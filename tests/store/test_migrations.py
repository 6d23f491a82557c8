"""Schema migrations: fresh files, upgrades from every earlier version, refusals."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from studio.core.errors import StorageError
from studio.core.space import Space
from studio.store.db import connect, migrate, schema_version
from studio.store.schema import SPACE_APPLICATION_ID, SPACE_MIGRATIONS
from tests.sql import query, write

LATEST = SPACE_MIGRATIONS[-1].version
VERSIONS = [m.version for m in SPACE_MIGRATIONS]

# Rows each schema version can hold, so an upgrade is checked with real data in place.
SEED = {
    1: [
        "INSERT INTO assets (id, slug, name, media_kind, created_at, updated_at, active_variant_id)"
        " VALUES ('a1', 'hero', 'Hero', 'image', 1, 1, 'v1')",
        "INSERT INTO variants (id, asset_id, status, created_at, updated_at, recipe)"
        " VALUES ('v1', 'a1', 'failed', 1, 1, '{\"prompt\": \"a hero\"}')",
        "INSERT INTO changes (at, actor_id, actor_name, actor_role, command, payload, events)"
        " VALUES (1, 'u', 'U', 'owner', 'asset:create', '{}', '[]')",
        "INSERT INTO meta (key, value) VALUES ('space_id', 'sp'), ('slug', 's')",
    ],
    2: [
        "INSERT INTO collections (id, name, created_at, updated_at) VALUES ('c1', 'Cast', 1, 1)",
        "INSERT INTO collection_items (id, collection_id, asset_id, position, created_at)"
        " VALUES ('i1', 'c1', 'a1', 0, 1)",
        "INSERT INTO frames (id, title, x, y, width, height, created_at, updated_at)"
        " VALUES ('f1', 'Act', 0, 0, 10, 10, 1, 1)",
    ],
    3: [
        "INSERT INTO jobs (id, variant_id, provider, status, created_at, updated_at)"
        " VALUES ('j1', 'v1', 'local', 'failed', 1, 1)",
    ],
    4: [
        "INSERT INTO variants (id, asset_id, status, created_at, updated_at, recipe, upload_owner)"
        " VALUES ('v4', 'a1', 'uploading', 1, 1, '{}', 'holder-1-0123456789ab')",
    ],
    5: [
        "INSERT INTO changes (at, actor_id, actor_name, actor_role, command, payload, events,"
        " step_id) VALUES (2, 'u', 'U', 'owner', 'asset:move', '{}', '[]', 'st1')",
        "INSERT INTO history (actor_id, step_id, undo, state, created_at, updated_at)"
        " VALUES ('u', 'st1', '[]', 'done', 2, 2)",
    ],
    6: [
        "INSERT INTO jobs (id, variant_id, provider, status, created_at, updated_at)"
        " VALUES ('j6', 'v1', 'local', 'parked', 1, 1)",
    ],
    7: [
        "INSERT INTO peer_mutations (client_id, mutation_id, step_id, result, at)"
        " VALUES ('d1', 'm1', 'st1', '{}', 3)",
    ],
}


def test_versions_are_ordered_and_contiguous() -> None:
    assert list(range(1, LATEST + 1)) == VERSIONS


def test_fresh_file_gets_latest_schema(tmp_path: Path) -> None:
    conn = connect(tmp_path / "s.db")
    assert migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID) == LATEST
    assert schema_version(conn) == LATEST
    assert conn.execute("PRAGMA application_id").fetchone()[0] == SPACE_APPLICATION_ID
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000
    names = [r[0] for r in conn.execute("SELECT name FROM schema_migrations ORDER BY version")]
    assert names == [m.name for m in SPACE_MIGRATIONS]


@pytest.mark.parametrize("start", VERSIONS[:-1])
def test_upgrade_from_every_earlier_version_keeps_data(tmp_path: Path, start: int) -> None:
    path = tmp_path / "s.db"
    conn = connect(path)
    migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID, target=start)
    assert schema_version(conn) == start
    for version in VERSIONS:
        for sql in SEED.get(version, []) if version <= start else []:
            conn.execute(sql)
    conn.close()

    space = Space.open(path, tmp_path / "media", space_id="sp", slug="s")
    assert query(space, "PRAGMA user_version")[0][0] == LATEST
    snap = space.snapshot()
    assert [a.name for a in snap.assets] == ["Hero"]
    assert space.variant_detail("v1").recipe == {"prompt": "a hero"}
    if start >= 2:
        assert [c.name for c in snap.collections] == ["Cast"]
    # the newest tables work after the upgrade
    for version in VERSIONS:
        for sql in SEED.get(version, []) if version > start else []:
            write(space, sql)
    assert query(space, "SELECT COUNT(*) FROM schema_migrations")[0][0] == len(VERSIONS)
    space.close()


def test_a_failing_migration_rolls_back_whole(tmp_path: Path) -> None:
    from studio.store.schema import Migration

    conn = connect(tmp_path / "s.db")
    broken = (
        *SPACE_MIGRATIONS[:1],
        Migration(2, "broken", "CREATE TABLE ok_table (x); SELEC nonsense;"),
    )
    with pytest.raises(sqlite3.OperationalError):
        migrate(conn, broken, SPACE_APPLICATION_ID)
    assert schema_version(conn) == 1
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert "ok_table" not in tables


def test_refuses_a_foreign_sqlite_file(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("PRAGMA user_version = 7")
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="not a Forge Studio file"):
        Space.open(path, tmp_path / "m", space_id="x", slug="x")


def test_refuses_a_newer_schema(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    conn = connect(path)
    migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID)
    conn.execute(f"PRAGMA user_version = {LATEST + 1}")
    conn.close()
    with pytest.raises(StorageError, match="newer Forge Studio"):
        Space.open(path, tmp_path / "m", space_id="x", slug="x")


def test_refuses_garbage_instead_of_a_database(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="could not open the space file"):
        Space.open(path, tmp_path / "m", space_id="x", slug="x")


def test_refuses_another_spaces_file(tmp_path: Path) -> None:
    Space.create(tmp_path / "s.db", tmp_path / "m", space_id="one", slug="s").close()
    with pytest.raises(StorageError, match="belongs to another space"):
        Space.open(tmp_path / "s.db", tmp_path / "m", space_id="two", slug="s")


def test_queued_jobs_of_deleted_variants_are_parked_by_the_upgrade(tmp_path: Path) -> None:
    """Before version 6 they stayed queued forever, hidden only by joins."""
    path = tmp_path / "s.db"
    conn = connect(path)
    migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID, target=4)
    for sql in SEED[1]:
        conn.execute(sql)
    conn.execute(
        "INSERT INTO assets (id, slug, name, media_kind, created_at, updated_at, deleted_at)"
        " VALUES ('a2', 'gone', 'Gone', 'image', 1, 1, 5)"
    )
    conn.execute(
        "INSERT INTO variants (id, asset_id, status, created_at, updated_at)"
        " VALUES ('v2', 'a2', 'pending', 1, 1), ('v3', 'a1', 'pending', 1, 1)"
    )
    conn.execute("UPDATE variants SET deleted_at = 5 WHERE id = 'v1'")
    conn.executemany(
        "INSERT INTO jobs (id, variant_id, provider, status, created_at, updated_at)"
        " VALUES (?, ?, 'local', ?, 1, 1)",
        [
            ("j1", "v1", "running"),
            ("j2", "v2", "queued"),
            ("j3", "v3", "queued"),
            ("j4", "v2", "failed"),
        ],
    )
    conn.close()
    space = Space.open(path, tmp_path / "media", space_id="sp", slug="s")
    try:
        rows = query(space, "SELECT id, status FROM jobs ORDER BY id")
    finally:
        space.close()
    assert rows == [("j1", "parked"), ("j2", "parked"), ("j3", "queued"), ("j4", "failed")]


def test_migration_7_files_rows_from_the_seq_it_found(tmp_path: Path) -> None:
    """Upgrading keeps the log; touched rows are filed from then on, under their seq."""
    path = tmp_path / "s.db"
    conn = connect(path)
    migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID, target=6)
    for sql in SEED[1]:
        conn.execute(sql)
    migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID)
    assert conn.execute("SELECT key, value FROM sync_state").fetchall() == [
        ("rows_logged_after", "1")
    ]
    assert conn.execute("SELECT COUNT(*) FROM change_rows").fetchone()[0] == 0
    conn.execute("UPDATE assets SET name = 'Renamed' WHERE id = 'a1'")
    assert conn.execute("SELECT seq, tbl, pk FROM change_rows").fetchall() == [(2, "assets", "a1")]
    conn.close()


def test_a_file_missing_a_trigger_is_refused(tmp_path: Path) -> None:
    """A replica silently missing a change would drift: a dropped trigger is damage."""
    path = tmp_path / "s.db"
    conn = connect(path)
    migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID)
    conn.execute("INSERT INTO meta (key, value) VALUES ('space_id', 'sp'), ('slug', 's')")
    conn.execute("DROP TRIGGER change_rows_assets_update")
    conn.close()
    with pytest.raises(StorageError, match="change_rows_assets_update"):
        Space.open(path, tmp_path / "media", space_id="sp", slug="s")
