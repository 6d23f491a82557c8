"""The replica writer's fast paths (studio.core.replica): a live step is applied with
immediate foreign-key checks and without rewriting ``change_rows``; whenever that is
not exact it falls back, and the replica still equals its host table by table."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core import replica_wal
from studio.core.errors import StorageError, ValidationError
from studio.core.replica import ReplicaWriter, StepImage, install_snapshot
from studio.core.replica_host import StepSource
from studio.core.space import Space
from tests.conftest import OWNER, add_variant
from tests.sync.compare import differences


def _replica(space: Space, tmp_path: Path) -> Path:
    assert space.file_path is not None
    with StepSource(space.file_path) as src:
        src.snapshot(tmp_path / "snap.db")
    install_snapshot(tmp_path / "snap.db", tmp_path / "replica.db", space_id=space.id, host="h")
    return tmp_path / "replica.db"


class Traced:
    """A writer on ``replica`` whose statements are recorded (as run, triggers too)."""

    def __init__(self, replica: Path) -> None:
        self.writer = ReplicaWriter(replica)
        self.sql: list[str] = []
        self.writer._conn.set_trace_callback(self.sql.append)

    def take(self) -> list[str]:
        out, self.sql[:] = list(self.sql), []
        return out


@pytest.fixture
def traced(space: Space, tmp_path: Path) -> Iterator[Traced]:
    t = Traced(_replica(space, tmp_path))
    try:
        yield t
    finally:
        t.writer.close()


def _next_read(space: Space, writer: ReplicaWriter) -> list[StepImage]:
    """The host's read after the replica's seq, as it crosses the wire (JSON)."""
    assert space.file_path is not None
    with StepSource(space.file_path) as src:
        steps = src.steps_after(writer.last_seq())
    assert steps is not None
    return [StepImage.from_json(json.loads(json.dumps(s.to_json()))) for s in steps]


def _deferred(sql: list[str]) -> bool:
    return any("defer_foreign_keys" in s for s in sql)


def _rewrote_filing(sql: list[str]) -> bool:
    return any(s.startswith("DELETE FROM change_rows") for s in sql)


def test_live_steps_keep_their_prepared_statements_and_the_triggers_filing(
    space: Space, traced: Traced
) -> None:
    """A live step of one command — a generation request writes an asset, its variant
    and the job that points at the variant — is written parents first with immediate
    foreign-key checks: no ``PRAGMA defer_foreign_keys``, which expires every prepared
    statement of the connection (each was compiled again, triggers and all, every
    step). And the triggers filed its rows as the host did: no rewrite."""
    assert space.file_path is not None
    tables: list[list[str]] = []
    for cmd in (
        c.RequestGeneration("a smoking ruin", c.MediaKindName.IMAGE, name="Ruin"),
        c.CreateFrame("Act 1", 0, 0, 10, 10),
        c.CreateCollection("Cast"),
    ):
        space.apply(cmd, OWNER)
        read = _next_read(space, traced.writer)
        assert len(read) == 1 and len(read[0].changes) == 1
        tables.append([r.table for r in read[0].rows])
        traced.take()
        assert traced.writer.apply_batch(read) == 1
        sql = traced.take()
        assert not _deferred(sql), sql
        assert not _rewrote_filing(sql), sql
    # the host sends them in filing order (table names): the job before its variant
    assert tables[0].index("jobs") < tables[0].index("variants")
    assert differences(space.file_path, traced.writer.path) == []


def test_rows_pointing_at_a_later_step_fall_back_to_deferred_checks(
    space: Space, traced: Traced
) -> None:
    """An item's row arrives in a step before its asset's row (carried by the asset's
    last change): the immediate checks refuse that order, so the read is applied again
    with the checks deferred, in one transaction, and ends exact."""
    assert space.file_path is not None
    hero = space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), OWNER)
    cast = space.apply(c.CreateCollection("Cast"), OWNER)
    aid, cid = hero.created["asset_id"], cast.created["collection_id"]
    space.apply(c.AddCollectionItem(cid, asset_id=aid), OWNER)
    space.apply(c.UpdateAsset(aid, name="Hero 2"), OWNER)
    read = _next_read(space, traced.writer)
    assert len(read) == 4
    traced.take()
    assert traced.writer.apply_batch(read) == 4
    assert _deferred(traced.take())
    assert differences(space.file_path, traced.writer.path) == []


def test_a_filing_the_triggers_cannot_make_is_rewritten_exactly(
    space: Space, traced: Traced
) -> None:
    """Where the replica's triggers file differently from the host — a step of several
    commands (the host files each under its own seq, the replica all under the first),
    a row made and deleted within one read (nothing left to write, the host still
    filed it) — ``change_rows`` is rewritten to the host's; skipping that would leave
    a wrong filing, and a peer catching up from this replica's seq would miss rows."""
    assert space.file_path is not None
    hero = space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), OWNER)
    cast = space.apply(c.CreateCollection("Cast"), OWNER)
    traced.writer.apply_batch(_next_read(space, traced.writer))
    item = space.apply(
        c.AddCollectionItem(cast.created["collection_id"], asset_id=hero.created["asset_id"]),
        OWNER,
    )
    space.apply(c.RemoveCollectionItem(item.created["item_id"]), OWNER)  # a real delete
    traced.take()
    traced.writer.apply_batch(_next_read(space, traced.writer))
    assert _rewrote_filing(traced.take())
    assert differences(space.file_path, traced.writer.path) == []

    space.apply_step(
        [
            c.CreateFrame("One", 0, 0, 1, 1),
            c.CreateCollection("Two"),
            c.CreateFrame("Three", 1, 1, 1, 1),
        ],
        OWNER,
    )
    read = _next_read(space, traced.writer)
    assert len(read) == 1 and len(read[0].changes) == 3
    traced.take()
    traced.writer.apply_batch(read)
    assert _rewrote_filing(traced.take())
    assert differences(space.file_path, traced.writer.path) == []


def test_a_bad_row_is_still_refused_whole_on_the_fast_path(space: Space, traced: Traced) -> None:
    """A variant of no asset (a host that lost its mind): refused by the immediate
    checks, then by the deferred ones at the commit; the replica stays as it was."""
    assert space.file_path is not None
    space.apply(c.CreateFrame("one", 0, 0, 1, 1), OWNER)
    (step,) = _next_read(space, traced.writer)
    before = traced.writer.last_seq()
    orphan = {"id": "nope", "asset_id": "missing", "status": "failed", "created_at": 1}
    bad = StepImage(
        step.changes,
        (
            *step.rows,
            type(step.rows[0])(step.last_seq, "variants", "nope", {**orphan, "updated_at": 1}),
        ),
    )
    with pytest.raises(StorageError, match="FOREIGN KEY"):
        traced.writer.apply_batch([bad])
    assert traced.writer.last_seq() == before
    assert traced.writer.apply_batch([step]) == 1
    assert differences(space.file_path, traced.writer.path) == []


@pytest.mark.parametrize(
    "payload",
    [
        {
            "changes": [[1, 2, "a", "b", "owner", "x", "{}", "[]", None]],
            "rows": [[1, ["assets"], "x", None]],
        },
        {
            "changes": [[1, 2, "a", "b", "owner", "x", "{}", "[]", None]],
            "rows": [],
            "filed": [[1, ["assets"], "x"]],
        },
        {"changes": [[1, 2, "a", "b", "owner", "x", "{}", "[]", True]], "rows": []},
        {"changes": [[True, 2, "a", "b", "owner", "x", "{}", "[]", None]], "rows": []},
    ],
)
def test_a_table_name_that_is_not_text_is_a_malformed_step(payload: object) -> None:
    """Refused as malformed (one clear error), not a TypeError from a dict lookup."""
    with pytest.raises(ValidationError):
        StepImage.from_json(payload)


def test_the_writer_never_checkpoints_on_its_own_thread(
    space: Space, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite checkpoints on the commit that takes the log past its limit, fsyncs and
    all, on the committing thread — the peer's event loop. The writer turns that off
    and checkpoints on a thread of its own instead."""
    assert space.file_path is not None
    replica = _replica(space, tmp_path)
    monkeypatch.setattr(replica_wal, "CHECKPOINT_PAGES", 40)
    with ReplicaWriter(replica) as writer:
        assert writer._conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        seen: list[str] = []
        writer._conn.set_trace_callback(seen.append)
        for i in range(60):
            space.apply(c.CreateFrame(f"F{i}", i, 0, 1, 1), OWNER)
            writer.apply_batch(_next_read(space, writer))
        deadline = time.monotonic() + 10
        while writer.checkpoints.done < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert writer.checkpoints.done >= 2
        assert seen and not [s for s in seen if "checkpoint" in s]
    assert differences(space.file_path, replica) == []


def test_made_variants_replicate_exactly(space: Space, traced: Traced) -> None:
    """Uploads (asset, variant, media columns) go through the same fast path."""
    assert space.file_path is not None
    for name in ("Hero", "Villain"):
        add_variant(space, name=name)
        traced.writer.apply_batch(_next_read(space, traced.writer))
    assert differences(space.file_path, traced.writer.path) == []


def test_a_small_read_is_read_only_when_it_is_small(space: Space) -> None:
    """What the host reads on its event loop: the steps after a seq when at most so
    many changes touched at most so many rows; otherwise None (the reader thread reads
    it), never a part of it."""
    assert space.file_path is not None
    start = space.last_seq()
    space.apply(c.RequestGeneration("a smoking ruin", c.MediaKindName.IMAGE, name="Ruin"), OWNER)
    space.apply(c.CreateFrame("Act 1", 0, 0, 10, 10), OWNER)
    with StepSource(space.file_path, busy_ms=0) as src:
        full = src.steps_after(start)
        assert full is not None and len(full) == 2
        rows = sum(len(s.rows) for s in full)
        assert rows >= 4  # an asset, its variant, its job; a frame
        assert src.small_steps_after(start, 2, rows) == full
        assert src.small_steps_after(start, 1, rows) is None  # two changes wait
        assert src.small_steps_after(start, 2, rows - 1) is None  # too many rows
        assert src.small_steps_after(start + 1, 1, 1) == full[1:]
