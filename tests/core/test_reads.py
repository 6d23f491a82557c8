"""The read API (``Space.read``): typed queries on read connections that never wait for
the writer, see their own thread's open transaction, and close with the space."""

from __future__ import annotations

import gc
import os
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.errors import StorageError
from studio.core.space import Space
from studio.store import records as r
from tests.conftest import OWNER, add_asset, add_variant

IMAGE = c.MediaKindName.IMAGE
NO_STYLE = c.GenerationOptions(no_style=True)


def _generate(space: Space, prompt: str, **kw: object) -> dict[str, str]:
    cmd = c.RequestGeneration(prompt, IMAGE, options=NO_STYLE, **kw)  # type: ignore[arg-type]
    return dict(space.apply(cmd, OWNER).created)


# --------------------------------------------------------------------------- connections


def _held_open(space: Space, started: threading.Event, release: threading.Event) -> None:
    """Hold the write transaction open with an uncommitted asset in it."""
    with space._db.write() as conn:
        conn.execute(
            "INSERT INTO assets (id, slug, name, type, media_kind, tags, x, y, created_at, "
            "updated_at, created_by) VALUES ('a-ghost', 'ghost', 'Ghost', '', 'image', '[]', "
            "0, 0, 0, 0, 'test')"
        )
        started.set()
        release.wait(10)


def test_a_read_never_waits_for_a_writer_holding_a_long_transaction(space: Space) -> None:
    add_asset(space, "Committed")
    started, release = threading.Event(), threading.Event()
    writer = threading.Thread(target=_held_open, args=(space, started, release))
    writer.start()
    try:
        assert started.wait(5)
        seen: list[object] = []

        def read() -> None:  # on its own thread, so a read that blocks can't hang the test
            t0 = time.perf_counter()
            seen.append([a.name for a in space.snapshot().assets])
            seen.append(space.read.asset_count())
            seen.append(space.last_seq())
            seen.append(time.perf_counter() - t0)

        reader = threading.Thread(target=read)
        reader.start()
        reader.join(2)
        assert not reader.is_alive(), "a read waited for the writer"
        names, count, seq, took = seen
        assert names == ["Committed"]  # the last committed state, not the open write
        assert count == 1 and seq == 1
        assert isinstance(took, float) and took < 0.5
    finally:
        release.set()
        writer.join(10)
    assert space.read.asset_count() == 2  # committed now: the next read sees it


def test_the_ui_thread_reads_while_another_thread_writes_without_taking_the_lock(
    space: Space,
) -> None:
    add_asset(space, "Hero")
    with space._db.lock:  # another thread could not write now; reading needs no lock
        done: list[int] = []
        t = threading.Thread(target=lambda: done.append(space.read.asset_count()))
        t.start()
        t.join(2)
        assert done == [1]


def test_a_thread_inside_its_write_transaction_reads_its_own_writes(space: Space) -> None:
    add_asset(space, "Before")
    with space._db.write() as conn:
        conn.execute("UPDATE assets SET name = 'Renamed' WHERE name = 'Before'")
        assert space.asset(space.snapshot().assets[0].id).name == "Renamed"
        assert [a.name for a in space.snapshot().assets] == ["Renamed"]
        assert space.read.search("Renamed")[0].name == "Renamed"
        # another thread still sees the committed state
        other: list[list[str]] = []
        t = threading.Thread(target=lambda: other.append([a.name for a in space.read.search("e")]))
        t.start()
        t.join(2)
        assert other == [["Before"]]


def test_read_connections_are_read_only(space: Space) -> None:
    add_asset(space, "Hero")
    with space.reading() as conn, pytest.raises(sqlite3.OperationalError, match="readonly"):
        conn.execute("DELETE FROM assets")
    assert space.read.asset_count() == 1


def _fds_on(path: Path) -> int:
    n = 0
    for fd in os.listdir("/proc/self/fd"):
        try:
            if os.readlink(f"/proc/self/fd/{fd}").startswith(str(path)):
                n += 1
        except OSError:
            pass
    return n


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs /proc")
def test_read_connections_close_with_the_space_and_with_their_thread(
    studio: object, tmp_path: Path
) -> None:
    from studio.core.studio import Studio

    assert isinstance(studio, Studio)
    entry = studio.create_space("Fds")
    path = studio.paths.space_db(entry.slug)
    baseline = _fds_on(path)
    space = studio.open_space(entry.slug)
    add_asset(space, "Hero")
    space.read.asset_count()  # this thread's reader
    barrier, done = threading.Barrier(4), threading.Event()

    def read() -> None:
        space.read.asset_count()
        barrier.wait(5)  # all four readers open at once
        done.wait(5)

    threads = [threading.Thread(target=read) for _ in range(3)]
    for t in threads:
        t.start()
    barrier.wait(5)
    assert space._db.reader_count == 4
    done.set()
    for t in threads:
        t.join(5)
    gc.collect()
    assert space._db.reader_count == 1  # a finished thread's reader closed with it
    assert _fds_on(path) > baseline
    space.close()
    assert _fds_on(path) == baseline
    with pytest.raises(StorageError, match="closed"):
        space.read.asset_count()


# --------------------------------------------------------------------------- queries


def test_prompts_operations_and_labels(space: Space) -> None:
    made = add_variant(space, name="Photo")
    gen = _generate(space, "a knight in the rain", name="Knight")
    vid = gen["variant_id"]
    assert space.read.prompts([vid, made.variant_id, "nope"]) == {
        vid: "a knight in the rain",
        made.variant_id: "Photo.bin",
    }
    assert space.read.operations([vid, made.variant_id]) == {
        vid: "generate",
        made.variant_id: "import",
    }
    space.apply(c.DeleteAsset(made.asset_id), OWNER)
    labels = space.read.variant_labels([vid, made.variant_id])
    assert labels[vid] == r.VariantLabel(
        vid, gen["asset_id"], "Knight", "pending", None, False, False
    )
    assert labels[made.variant_id].asset_deleted is True
    assert labels[made.variant_id].gone is True
    assert space.read.prompts([]) == {}


def test_many_ids_are_read_in_chunks(space: Space) -> None:
    made = add_variant(space)
    ids = [made.variant_id] + [f"v-missing-{i}" for i in range(1_200)]
    assert space.read.operations(ids) == {made.variant_id: "import"}


def test_live_links_are_one_join_for_snapshot_and_details(space: Space) -> None:
    src = add_variant(space, name="Source")
    fork = space.apply(c.ForkVariant(src.variant_id, name="Fork"), OWNER).created
    other = add_variant(space, name="Other")
    fork2 = space.apply(c.ForkVariant(other.variant_id, name="Fork 2"), OWNER).created
    links = space.read.live_links([src.variant_id])
    assert [(x.parent_variant_id, x.child_variant_id) for x in links] == [
        (src.variant_id, fork["variant_id"])
    ]
    assert len(space.read.live_links()) == 2
    assert space.snapshot().lineage == space.read.live_links()
    # severed: in the snapshot (flagged), not in the details' walk
    space.apply(c.SeverLineage(links[0].id), OWNER)
    assert space.read.live_links([src.variant_id], severed=False) == []
    assert space.read.live_links([src.variant_id])[0].severed_at is not None
    # a deleted end drops the link everywhere
    space.apply(c.DeleteAsset(fork2["asset_id"]), OWNER)
    assert [x.child_variant_id for x in space.snapshot().lineage] == [fork["variant_id"]]


def test_counts_styles_and_paused(space: Space) -> None:
    add_asset(space, "One")
    gone = add_asset(space, "Two")
    space.apply(c.DeleteAsset(gone), OWNER)
    assert space.read.asset_count() == 1
    space.apply(c.CreateStylePreset("Ink", "ink wash"), OWNER)
    assert [(s.name, s.prompt) for s in space.read.style_presets()] == [("Ink", "ink wash")]
    assert space.read.queue_paused() is False
    space.apply(c.PauseQueue(), OWNER)
    assert space.read.queue_paused() is True and space.queue_paused() is True


def test_queue_order_and_positions(space: Space) -> None:
    first = _generate(space, "first")
    second = _generate(space, "second")
    dropped = _generate(space, "dropped")
    space.apply(c.DeleteAsset(dropped["asset_id"]), OWNER)
    order = space.read.queue_order()
    assert order == [first["job_id"], second["job_id"]]
    assert space.read.queue_positions() == {first["job_id"]: 1, second["job_id"]: 2}
    assert space.read.any_ready() is True
    assert space.read.queued_providers() == ["scripted"]
    now = space.clock()
    ready = space.read.startable("scripted", now, 1)
    assert [j.job_id for j in ready] == [first["job_id"]]
    assert ready[0].media_kind == "image" and ready[0].attempts == 0
    assert space.read.next_due(now) == {}
    assert space.read.running_leases() == []


def test_search_by_name_tag_and_prompt(space: Space) -> None:
    fox = add_asset(space, "Red fox", tags=("forest", "animal"))
    add_asset(space, "Blue whale", tags=("sea",))
    knight = _generate(space, "a knight in the RAIN", name="Sir")["asset_id"]
    add_asset(space, "100% cotton")
    add_asset(space, "1000 cranes")
    gone = add_asset(space, "Red herring")
    space.apply(c.DeleteAsset(gone), OWNER)

    def names(text: str) -> list[str]:
        return [a.name for a in space.read.search(text)]

    assert names("red") == ["Red fox"]  # case-insensitive; the deleted one is not found
    assert names("fores") == ["Red fox"]  # a tag
    assert names("rain") == ["Sir"]  # a prompt
    assert names("100%") == ["100% cotton"]  # wildcards are literal
    assert names("_") == []
    assert names("  ") == []
    assert [a.id for a in space.read.search("o", limit=2)] == [fox, space.read.search("o")[1].id]
    assert knight in {a.id for a in space.read.search("knight")}


def test_a_read_inside_a_read_on_the_same_thread(space: Space) -> None:
    aid = add_asset(space, "Hero")
    out: list[str] = []

    def nested() -> None:
        with space.reading() as conn:
            (n,) = conn.execute("SELECT COUNT(*) FROM assets").fetchone()
            out.append(f"{n} {space.asset(aid).name} {len(space.snapshot().assets)}")

    t = threading.Thread(target=nested)
    t.start()
    t.join(5)
    assert not t.is_alive(), "a nested read deadlocked"
    assert out == ["1 Hero 1"]


def test_a_new_reader_never_opens_another_file_at_the_same_path(
    studio: object, tmp_path: Path
) -> None:
    from studio.core.studio import Studio

    assert isinstance(studio, Studio)
    entry = studio.create_space("Moved")
    path = studio.paths.space_db(entry.slug)
    space = studio.open_space(entry.slug)
    try:
        add_asset(space, "Hero")
        assert space.read.asset_count() == 1  # this thread's reader, on the space's file
        moved = tmp_path / "moved.db"
        for suffix in ("", "-wal", "-shm"):
            if Path(f"{path}{suffix}").exists():
                Path(f"{path}{suffix}").rename(f"{moved}{suffix}")
        # another file now sits at the space's path
        other = sqlite3.connect(path)
        other.execute("CREATE TABLE assets (id TEXT)")
        other.close()
        got: list[int] = []
        t = threading.Thread(target=lambda: got.append(space.read.asset_count()))
        t.start()  # a thread with no reader yet: it reads the space's own file
        t.join(5)
        assert got == [1]
        assert space.read.asset_count() == 1  # the reader it had: still the space's file
        assert space.gone() is True
    finally:
        space.close()


# --------------------------------------------------------------------------- collections


def test_collection_members_are_live_assets_in_order(space: Space) -> None:
    a, b, d = (add_asset(space, n) for n in ("Alpha", "Beta", "Delta"))
    v = add_variant(space, b, name="Beta")
    cid = space.apply(c.CreateCollection("Cast"), OWNER).created["collection_id"]
    gone = space.apply(c.CreateCollection("Gone"), OWNER).created["collection_id"]
    for ref in (dict(asset_id=d), dict(variant_id=v.variant_id), dict(asset_id=a)):
        space.apply(c.AddCollectionItem(cid, **ref), OWNER)  # type: ignore[arg-type]
    space.apply(c.AddCollectionItem(gone, asset_id=a), OWNER)
    space.apply(c.DeleteCollection(gone), OWNER)
    got = space.read.collection_members()
    assert list(got) == [cid]  # a deleted collection is left out
    assert [(m.asset_id, m.variant_id) for m in got[cid]] == [
        (d, None),
        (b, v.variant_id),  # a variant item shows as its asset
        (a, None),
    ]
    space.apply(c.DeleteAsset(d), OWNER)  # a deleted asset's item is left out (undo brings it)
    assert [m.asset_id for m in space.read.collection_members()[cid]] == [b, a]
