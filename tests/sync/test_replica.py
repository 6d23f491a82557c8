"""State-based replication in the core: steps with current row images, applied to a
replica file, converge to the host table by table (studio.core.replica)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.errors import PermissionDeniedError, StorageError, ValidationError
from studio.core.replica import ReplicaWriter, StepImage, install_snapshot
from studio.core.replica_host import StepSource, apply_once
from studio.core.space import Space
from studio.core.studio import Studio
from studio.store.schema import REPLICATED_TABLES
from tests.conftest import EDITOR, OWNER, add_variant
from tests.sql import query
from tests.sync import workload
from tests.sync.compare import PER_FILE, differences


def _replica(space: Space, tmp_path: Path, name: str = "replica.db") -> Path:
    """A replica born from a snapshot of ``space``, as a peer's first sync makes it."""
    assert space._db.path is not None
    dest = tmp_path / name
    with StepSource(space._db.path) as src:
        src.snapshot(tmp_path / "snap.db")
    install_snapshot(tmp_path / "snap.db", dest, space_id=space.id, host="host-1")
    return dest


def _catch_up(space: Space, replica: Path) -> int:
    assert space._db.path is not None
    with StepSource(space._db.path) as src, ReplicaWriter(replica) as w:
        steps = src.steps_after(w.last_seq())
        assert steps is not None
        # every step crosses the wire as JSON
        return w.apply_batch([StepImage.from_json(s.to_json()) for s in steps])


def test_every_table_is_replicated_or_documented_per_file(space: Space) -> None:
    """A table added later must be replicated (triggers) or named as per-file."""
    tables = {r[0] for r in query(space, "SELECT name FROM sqlite_master WHERE type = 'table'")}
    replicated = {t for t, _ in REPLICATED_TABLES}
    shipped_as_is = {"changes", "change_rows", "schema_migrations"}
    # the search index (migration 8): derived from assets and variants by triggers,
    # which run on a replica as its rows are applied
    derived = {t for t in tables if t.startswith("asset_search")}
    assert tables == replicated | shipped_as_is | PER_FILE | derived
    triggers = {
        r[0] for r in query(space, "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger'")
    }
    assert triggers == replicated


def test_every_write_is_filed_under_the_seq_of_its_change(space: Space) -> None:
    made = add_variant(space, name="Hero")
    applied = space.apply(c.StarVariant(made.variant_id), OWNER)
    rows = query(space, "SELECT tbl, pk FROM change_rows WHERE seq = ?", (applied.seq,))
    assert rows == [("variants", made.variant_id)]


def test_random_run_converges_exactly_and_steps_apply_once(space: Space, tmp_path: Path) -> None:
    rng = random.Random(7)
    add_variant(space, name="Hero")
    replica = _replica(space, tmp_path)
    assert differences(space._db.path, replica) == []  # type: ignore[arg-type]
    for round_ in range(4):
        workload.run(space, OWNER if round_ % 2 else EDITOR, rng, 40)
        _catch_up(space, replica)
        assert differences(space._db.path, replica) == []  # type: ignore[arg-type]
    # the same steps again change nothing (idempotent)
    assert space._db.path is not None
    with StepSource(space._db.path) as src, ReplicaWriter(replica) as w:
        everything = src.steps_after(0)
        assert everything
        assert w.apply_batch(everything) == 0
    assert differences(space._db.path, replica) == []


def test_a_replica_refuses_writes_through_the_door(studio: Studio, tmp_path: Path) -> None:
    entry = studio.create_space("Shared")
    with studio.open_space(entry.slug) as host:
        replica = _replica(host, tmp_path)
        media = tmp_path / "media"
        with Space.open(replica, media, space_id=host.id, slug="copy") as copy:
            assert copy.last_seq() == host.last_seq()
            with pytest.raises(PermissionDeniedError, match="copy of a space shared by host-1"):
                copy.apply(c.CreateFrame("F", 0, 0, 1, 1), OWNER)


def test_a_step_with_a_gap_is_refused_and_leaves_the_replica_as_it_was(
    space: Space, tmp_path: Path
) -> None:
    replica = _replica(space, tmp_path)
    space.apply(c.CreateFrame("one", 0, 0, 1, 1), OWNER)
    space.apply(c.CreateFrame("two", 0, 0, 1, 1), OWNER)
    assert space._db.path is not None
    with StepSource(space._db.path) as src, ReplicaWriter(replica) as w:
        first, second = src.steps_after(w.last_seq()) or ()
        before = w.last_seq()
        bad = StepImage(
            second.changes,
            (
                *second.rows,
                first.rows[0].__class__(
                    second.last_seq,
                    "variants",
                    "nope",
                    {
                        "id": "nope",
                        "asset_id": "missing",
                        "status": "failed",
                        "created_at": 1,
                        "updated_at": 1,
                    },
                ),
            ),
        )
        with pytest.raises(StorageError, match="does not fit"):
            w.apply(bad)  # a variant of no asset: the deferred foreign key refuses it
        assert w.last_seq() == before
        assert w.apply(first) and w.apply(second)
    assert differences(space._db.path, replica) == []


@pytest.mark.parametrize(
    "payload",
    [
        {"changes": [], "rows": []},
        {
            "changes": [[1, 2, "a", "b", "owner", "x", "{}", "[]", None]],
            "rows": [[1, "sqlite_master", "x", None]],
        },
        {
            "changes": [[1, 2, "a", "b", "owner", "x", "{}", "[]", None]],
            "rows": [[1, "assets", "x", {"id": "y"}]],
        },
        {"changes": [[1, 2, "a", "b", "owner", "x", {"nested": 1}, "[]", None]], "rows": []},
        {
            "changes": [
                [2, 2, "a", "b", "owner", "x", "{}", "[]", None],
                [1, 2, "a", "b", "owner", "x", "{}", "[]", None],
            ],
            "rows": [],
        },
    ],
)
def test_malformed_steps_are_refused(payload: object) -> None:
    with pytest.raises(ValidationError):
        StepImage.from_json(payload)


def test_unknown_column_is_refused(space: Space, tmp_path: Path) -> None:
    replica = _replica(space, tmp_path)
    space.apply(c.CreateFrame("one", 0, 0, 1, 1), OWNER)
    assert space._db.path is not None
    with StepSource(space._db.path) as src, ReplicaWriter(replica) as w:
        (step,) = src.steps_after(w.last_seq()) or ()
        img = step.rows[0]
        assert img.values is not None
        evil = StepImage(
            step.changes,
            (img.__class__(img.seq, img.table, img.pk, {**img.values, "x; DROP TABLE assets": 1}),),
        )
        with pytest.raises(StorageError, match="does not know"):
            w.apply(evil)


def test_a_mutation_is_applied_once(space: Space) -> None:
    cmd = [c.CreateFrame("once", 0, 0, 1, 1)]
    first, fresh = apply_once(space, cmd, EDITOR, client_id="dev-1", mutation_id="m1")
    again, fresh2 = apply_once(space, cmd, EDITOR, client_id="dev-1", mutation_id="m1")
    other, fresh3 = apply_once(space, cmd, EDITOR, client_id="dev-2", mutation_id="m1")
    assert fresh and not fresh2 and fresh3
    assert again == first and other["seqs"] != first["seqs"]
    assert query(space, "SELECT COUNT(*) FROM frames WHERE title = 'once'") == [(2,)]


def test_coverage_starts_where_rows_were_first_filed(tmp_path: Path) -> None:
    """A file upgraded to migration 7 can serve steps only after the seq it had then."""
    from studio.store.db import connect, migrate
    from studio.store.schema import SPACE_APPLICATION_ID, SPACE_MIGRATIONS

    path = tmp_path / "old.db"
    conn = connect(path)
    migrate(conn, SPACE_MIGRATIONS, SPACE_APPLICATION_ID, target=6)
    conn.execute("INSERT INTO meta (key, value) VALUES ('space_id', 'sp'), ('slug', 's')")
    for i in range(3):
        conn.execute(
            "INSERT INTO changes (at, actor_id, actor_name, actor_role, command, payload, events)"
            " VALUES (?, 'u', 'U', 'owner', 'frame:create', '{}', '[]')",
            (i,),
        )
    conn.close()
    with Space.open(path, tmp_path / "m", space_id="sp", slug="s") as space:
        space.apply(c.CreateFrame("new", 0, 0, 1, 1), OWNER)
        with StepSource(path) as src:
            assert [src.covers(s) for s in (0, 2, 3, 4, 5)] == [False, False, True, True, False]
    with sqlite3.connect(path) as raw:
        assert raw.execute("SELECT value FROM sync_state").fetchall() == [("3",)]


def test_a_read_applies_as_one_transaction_whatever_its_row_images_point_at(
    space: Space, tmp_path: Path
) -> None:
    """A row touched by several steps of one read is carried by the last of them, so an
    earlier step's rows may point at a row that only arrives later: a read is consistent
    as a whole only, and a replica applies it in one transaction."""
    replica = _replica(space, tmp_path)
    hero = space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), OWNER)
    cast = space.apply(c.CreateCollection("Cast"), OWNER)
    aid, cid = hero.created["asset_id"], cast.created["collection_id"]
    space.apply(c.AddCollectionItem(cid, asset_id=aid), OWNER)
    space.apply(c.UpdateAsset(aid, name="Hero 2"), OWNER)
    assert space._db.path is not None
    with StepSource(space._db.path) as src, ReplicaWriter(replica) as w:
        steps = src.steps_after(w.last_seq())
        assert steps is not None and len(steps) == 4
        carried = [[r.pk for r in s.rows if r.table == "assets"] for s in steps]
        assert carried == [[], [], [], [aid]]  # the asset rides with its last change
        assert w.apply(steps[0]) and w.apply(steps[1])
        with pytest.raises(StorageError, match="FOREIGN KEY"):
            w.apply(steps[2])  # alone, its item points at an asset not here yet
        assert w.apply_batch(steps) == 2
    assert differences(space._db.path, replica) == []


def test_a_replica_too_far_behind_gets_no_steps(space: Space) -> None:
    for i in range(5):
        space.apply(c.CreateFrame(f"F{i}", 0, 0, 1, 1), OWNER)
    assert space._db.path is not None
    with StepSource(space._db.path) as src:
        last = src.last_seq()
        assert src.steps_after(last - 3, cap=3) is not None
        assert src.steps_after(last - 4, cap=3) is None


def test_pruning_bounds_the_filing_and_old_peers_then_need_a_snapshot(space: Space) -> None:
    from studio.core.replica_host import KEEP_MUTATIONS_MS, prune

    for i in range(20):
        space.apply(c.CreateFrame(f"F{i}", 0, 0, 1, 1), OWNER)
    apply_once(space, [c.CreateFrame("old", 0, 0, 1, 1)], EDITOR, client_id="d", mutation_id="m")
    assert space._db.path is not None
    last = space.last_seq()
    now = query(space, "SELECT MAX(at) FROM peer_mutations")[0][0] + KEEP_MUTATIONS_MS + 1
    removed = prune(space._db.path, now, keep_changes=5)
    assert removed > 0
    assert query(space, "SELECT MIN(seq) FROM change_rows") == [(last - 4,)]
    assert query(space, "SELECT COUNT(*) FROM peer_mutations") == [(0,)]
    with StepSource(space._db.path) as src:
        assert src.covers(last - 5) and not src.covers(last - 6)
        steps = src.steps_after(last - 5)
        assert steps is not None and [s.first_seq for s in steps] == list(range(last - 4, last + 1))
    assert prune(space._db.path, now, keep_changes=5) == 0  # nothing more to take
