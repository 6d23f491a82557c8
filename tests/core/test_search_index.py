"""The FTS5 search index (space migration 8): kept right by triggers through every
command and its undo, on a replica, across the migration of an older file, and in an
imported archive."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import zipfile
from pathlib import Path
from typing import Any

import pytest

from studio.core import commands as c
from studio.core.archive import export_space, import_space
from studio.core.facets import match_expression
from studio.core.replica import ReplicaWriter, StepImage, install_snapshot
from studio.core.replica_host import StepSource
from studio.core.space import Space
from studio.core.studio import Studio
from studio.store.db import connect, migrate
from studio.store.schema import SPACE_APPLICATION_ID, SPACE_MIGRATIONS
from tests.conftest import OWNER, add_asset, add_variant
from tests.sql import query, write


def found(space: Space, *words: str) -> set[str]:
    """The ids of the assets the index finds for ``words`` (each a prefix)."""
    docs = space.read.search_docs(match_expression(words))
    by_doc = dict(query(space, "SELECT doc, asset_id FROM asset_search_docs"))
    return {by_doc[d] for d in docs}


def documents(path: Path) -> dict[str, tuple[str, str, str, str]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        return {
            str(r[0]): tuple(r[1:])
            for r in conn.execute(
                "SELECT d.asset_id, s.name, s.type, s.tags, s.prompts FROM asset_search s "
                "JOIN asset_search_docs d ON d.doc = s.rowid"
            )
        }
    finally:
        conn.close()


def test_create_rename_tag_untag_delete_and_undo(space: Space) -> None:
    hero = add_asset(space, "Red Hero", type="character")
    other = add_asset(space, "Blue bottle")
    assert found(space, "her") == {hero}
    assert found(space, "charac") == {hero}  # the type
    assert found(space, "b") == {other}

    space.apply(c.UpdateAsset(hero, name="Green Knight"), OWNER)
    assert found(space, "her") == set() and found(space, "knig") == {hero}
    space.undo(OWNER)
    assert found(space, "her") == {hero} and found(space, "knig") == set()

    space.apply(c.UpdateAsset(other, tags=("sci-fi", "glass")), OWNER)
    assert found(space, "glas") == {other}
    assert found(space, "sci-fi") == {other}  # split as the tokenizer splits
    space.apply(c.UpdateAsset(other, tags=("sci-fi",)), OWNER)
    assert found(space, "glass") == set()
    space.undo(OWNER)
    assert found(space, "glass") == {other}

    space.apply(c.DeleteAsset(hero), OWNER)
    assert found(space, "red") == set()
    space.undo(OWNER)
    assert found(space, "red", "hero") == {hero}


def test_prompts_of_live_variants_only(space: Space) -> None:
    made = space.apply(
        c.RequestGeneration("a lighthouse in fog", c.MediaKindName.IMAGE, name="Coast"), OWNER
    )
    aid, vid = made.created["asset_id"], made.created["variant_id"]
    assert found(space, "lightho", "fog") == {aid}
    assert found(space, "coast", "fog") == {aid}  # words may sit in different fields
    second = add_variant(space, aid, name="shore")  # an import: its file name is found
    assert found(space, "shore") == {aid}
    space.apply(c.SetActiveVariant(aid, second.variant_id), OWNER)
    space.apply(c.DeleteVariant(vid), OWNER)
    assert found(space, "fog") == set() and found(space, "coast") == {aid}
    space.undo(OWNER)
    assert found(space, "fog") == {aid}


def test_a_recipe_that_does_not_parse_blocks_nothing(space: Space) -> None:
    made = add_variant(space, name="Crate")
    write(space, "UPDATE variants SET recipe = '{not json' WHERE id = ?", (made.variant_id,))
    space.apply(c.UpdateAsset(made.asset_id, name="Old crate"), OWNER)  # triggers still run
    assert found(space, "old", "crate") == {made.asset_id}


def test_user_text_is_never_fts_syntax(space: Space) -> None:
    aid = add_asset(space, 'He said "NEAR" AND OR *')
    assert (
        match_expression(['"near"', "AND", "or*", "(x"]) == '"near"* AND "and"* AND "or"* AND "x"*'
    )
    assert found(space, '"near"', "AND") == {aid}
    assert match_expression(["*", "()"]) == ""  # nothing left to look for


def test_migration_builds_the_index_for_existing_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = connect(path)
    migrate(conn, SPACE_MIGRATIONS[:7], SPACE_APPLICATION_ID)
    conn.execute("BEGIN")
    conn.execute("INSERT INTO meta (key, value) VALUES ('space_id', 'old'), ('slug', 'old')")
    conn.execute(
        "INSERT INTO assets (id, slug, name, type, media_kind, tags, created_at, updated_at) "
        "VALUES ('a1', 'a1', 'Old Lantern', 'prop', 'image', '[\"brass\"]', 1, 1), "
        "('a2', 'a2', 'Gone', '', 'image', '[]', 1, 1)"
    )
    conn.execute("UPDATE assets SET deleted_at = 2 WHERE id = 'a2'")
    conn.execute(
        "INSERT INTO variants (id, asset_id, status, recipe, created_at, updated_at) "
        "VALUES ('v1', 'a1', 'completed', ?, 1, 1)",
        (json.dumps({"prompt": "glowing at dusk"}),),
    )
    conn.execute("COMMIT")
    conn.close()
    with Space.open(path, tmp_path / "m", space_id="old", slug="old") as space:
        assert found(space, "lant", "bras", "dusk") == {"a1"}
        assert found(space, "gone") == set()
        space.apply(c.RestoreAsset("a2"), OWNER)
        assert found(space, "gone") == {"a2"}


def _replica(space: Space, tmp_path: Path) -> Path:
    assert space._db.path is not None
    dest = tmp_path / "replica.db"
    with StepSource(space._db.path) as src:
        src.snapshot(tmp_path / "snap.db")
    install_snapshot(tmp_path / "snap.db", dest, space_id=space.id, host="host-1")
    return dest


def _catch_up(space: Space, replica: Path) -> None:
    assert space._db.path is not None
    with StepSource(space._db.path) as src, ReplicaWriter(replica) as w:
        steps = src.steps_after(w.last_seq())
        assert steps is not None
        w.apply_batch([StepImage.from_json(s.to_json()) for s in steps])


def test_the_index_stays_right_on_a_replica(space: Space, tmp_path: Path) -> None:
    hero = add_asset(space, "Hero")
    made = add_variant(space, name="Barrel")
    replica = _replica(space, tmp_path)
    assert space._db.path is not None
    # the replica applies rows with INSERT OR REPLACE, whose deletes fire no trigger
    space.apply(c.UpdateAsset(hero, name="Villain", tags=("dark",)), OWNER)
    space.apply(c.RequestGeneration("a smoking ruin", c.MediaKindName.IMAGE, name="Ruin"), OWNER)
    space.apply(c.DeleteAsset(made.asset_id), OWNER)
    _catch_up(space, replica)
    host = documents(space._db.path)
    assert documents(replica) == host
    assert {v[0] for v in host.values()} == {"Villain", "Ruin"}
    conn = sqlite3.connect(replica)
    try:  # one document per live asset, none left behind by a replaced row
        assert conn.execute("SELECT COUNT(*) FROM asset_search").fetchone()[0] == 2
        hits = conn.execute(
            "SELECT COUNT(*) FROM asset_search WHERE asset_search MATCH '\"hero\"*'"
        ).fetchone()[0]
        assert hits == 0
    finally:
        conn.close()
    space.undo(OWNER)  # the delete
    space.undo(OWNER)  # the generation
    _catch_up(space, replica)
    assert documents(replica) == documents(space._db.path)
    assert {v[0] for v in documents(replica).values()} == {"Villain", "Barrel"}


def test_an_archive_with_the_index_imports_and_its_index_is_made_again(
    studio: Studio, tmp_path: Path
) -> None:
    entry = studio.create_space("Shelf")
    with studio.open_space(entry.slug) as space:
        aid = add_asset(space, "Copper kettle", tags=("kitchen",))
        assert space._db.path is not None
        # an index that lies (as a hand-made archive could): import must not trust it
        write(space, "UPDATE asset_search SET name = 'decoy' WHERE name = 'Copper kettle'")
        assert found(space, "decoy") == {aid}
    archive = export_space(studio, entry.slug, tmp_path / "shelf.forgespace").path
    imported = import_space(studio, archive).entry
    with studio.open_space(imported.slug) as copy:
        assert found(copy, "copp", "kitch") == {aid}
        assert found(copy, "decoy") == set()


def test_an_archive_with_another_fts_table_is_refused(studio: Studio, tmp_path: Path) -> None:
    """FTS5 shadow tables are accepted only as migration 8 builds them: one more virtual
    table (its shadow tables agreeing with the manifest) is refused."""
    from studio.store.archive_manifest import ArchiveError
    from tests.archive.test_space_archive import Entries, rewrite

    entry = studio.create_space("Evil")
    with studio.open_space(entry.slug) as space:
        add_asset(space, "Thing")
    good = export_space(studio, entry.slug, tmp_path / "good.forgespace").path
    with zipfile.ZipFile(good) as zf:
        (tmp_path / "t.db").write_bytes(zf.read("space.db"))
    conn = sqlite3.connect(tmp_path / "t.db")
    conn.execute("CREATE VIRTUAL TABLE evil USING fts5(x)")
    conn.commit()
    conn.close()
    db = (tmp_path / "t.db").read_bytes()

    def fix(m: dict[str, Any]) -> None:
        m["database"].update(sha256=hashlib.sha256(db).hexdigest(), size=len(db))

    def swap(items: Entries) -> Entries:
        return [(i, db if i.filename == "space.db" else d) for i, d in items]

    bad = rewrite(good, tmp_path / "bad.forgespace", manifest=fix, entries=swap)
    with pytest.raises(ArchiveError, match="not ours"):
        import_space(studio, bad)
    assert [e.slug for e in studio.spaces()] == [entry.slug]


def test_a_backup_with_the_index_restores_and_finds(studio: Studio) -> None:
    """Backups copy the FTS5 shadow tables page for page; a restored space opens (its
    schema checked table by table) and its index finds what it held."""
    from studio.store.backup import make_backup

    entry = studio.create_space("Kept")
    with studio.open_space(entry.slug) as space:
        aid = add_asset(space, "Brass lantern", tags=("light",))
    make_backup(
        studio.paths.space_db(entry.slug),
        studio.paths.space_backups(entry.slug),
        space_id=entry.id,
        now_ms=1_800_000_000_000,
    )
    with studio.open_space(entry.slug) as space:
        space.apply(c.UpdateAsset(aid, name="Tin cup"), OWNER)
    studio.restore_space(entry.slug)
    with studio.open_space(entry.slug) as space:
        assert found(space, "bras", "lig") == {aid}
        assert found(space, "tin") == set()
