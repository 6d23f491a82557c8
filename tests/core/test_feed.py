"""The change feed: one ordered source of events for every follower, in this process or
another; events are published after the write lock is released."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.errors import StorageError
from studio.core.events import Event
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.executor import ThreadExecutor
from studio.jobs.scheduler import Scheduler
from studio.store.db import Database
from tests.conftest import OWNER, add_asset
from tests.sql import query

ROOT = Path(__file__).resolve().parents[2]


def cli(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )


def _db_path(space: Space) -> Path:
    return space.media_dir.parents[1] / "spaces" / f"{space.slug}.db"


def test_feed_sees_a_change_made_by_another_process(studio: Studio, space: Space) -> None:
    feed = space.feed()
    assert feed.poll() == []
    home = studio.paths.home
    made = cli(
        home,
        "apply",
        space.slug,
        json.dumps({"command": "asset:create", "name": "From afar", "media_kind": "image"}),
        "--json",
    )
    assert made.returncode == 0, made.stderr
    changes = feed.poll()
    assert [ch.command for ch in changes] == ["asset:create"]
    (event,) = changes[0].to_events()
    assert event.type == "asset:created" and event.seq == changes[0].seq
    assert event.data["name"] == "From afar" and event.data["media_kind"] == "image"
    assert {"id", "x", "y", "active_variant_id", "tags"} <= set(event.data)
    assert feed.poll() == []  # handed out once
    feed.close()


def test_feed_events_are_the_bus_events(space: Space) -> None:
    """A view fed by the feed sees exactly what a bus subscriber sees."""
    feed = space.feed()
    seen: list[Event] = []
    space.subscribe(seen.append)
    aid = add_asset(space, "Hero", tags=("a", "b"))
    space.apply(c.MoveAssets((c.Position(aid, 10.5, -3.0),)), OWNER)
    space.apply(c.UpdateAsset(aid, name="Heroine"), OWNER)
    space.apply(c.CreateFrame("Cast", 0, 0, 300, 200), OWNER)
    space.apply(c.RequestGeneration("a red fox", c.MediaKindName.IMAGE), OWNER)
    space.apply(c.DeleteAsset(aid), OWNER)
    fed = feed.events()
    assert len(fed) >= 7
    assert [e.to_json() for e in fed] == [json.loads(json.dumps(e.to_json())) for e in seen]
    assert [e.seq for e in fed] == sorted(e.seq for e in fed)
    feed.close()


def test_feed_starts_after_since_and_never_hands_out_twice(space: Space) -> None:
    first = add_asset(space, "One")
    feed = space.feed()  # from now on
    assert feed.last_seq == space.last_seq()
    add_asset(space, "Two")
    (change,) = feed.poll()
    assert change.events[0]["data"]["name"] == "Two"
    assert feed.poll() == [] and not feed.changed()
    feed.skip_to(feed.last_seq + 1)  # a follower that already has the next change
    space.apply(c.UpdateAsset(first, name="Uno"), OWNER)
    assert feed.poll() == []
    space.apply(c.UpdateAsset(first, name="Ein"), OWNER)
    assert [ch.events[0]["data"]["name"] for ch in feed.poll()] == ["Ein"]
    with space.feed(since=0) as everything:
        assert [ch.seq for ch in everything.poll()] == list(range(1, space.last_seq() + 1))


def test_a_follower_far_behind_catches_up_in_bounded_polls(space: Space) -> None:
    feed = space.feed(since=space.last_seq())
    for i in range(10):
        add_asset(space, f"A{i}")
    with space.feed(since=0, batch=4) as small:
        sizes = []
        while batch := small.poll():
            sizes.append(len(batch))
            assert len(sizes) < 10
        assert sizes == [4, 4, 2] and not small.behind
    assert len(feed.poll()) == 10
    feed.close()


def test_a_cut_batch_never_splits_a_step(space: Space) -> None:
    """Where the log groups consecutive seqs into one step (``step_id``), a poll cut by
    its batch size ends at a step boundary."""
    for i in range(6):
        add_asset(space, f"A{i}")
    path = _db_path(space)
    raw = sqlite3.connect(path, isolation_level=None)
    try:
        cols = {row[1] for row in raw.execute("PRAGMA table_info(changes)")}
        if "step_id" not in cols:
            raw.execute("ALTER TABLE changes ADD COLUMN step_id TEXT")
        # seqs 2, 3, 4 are one step; 5 and 6 are each their own
        raw.execute("UPDATE changes SET step_id = 'step-a' WHERE seq IN (2, 3, 4)")
        raw.execute("UPDATE changes SET step_id = 's' || seq WHERE seq NOT IN (2, 3, 4)")
    finally:
        raw.close()
    with space.feed(since=0, batch=2) as feed:
        polls = [feed.poll() for _ in range(4)]
    assert [[ch.seq for ch in p] for p in polls] == [[1, 2, 3, 4], [5, 6], [], []]
    assert [ch.step_id for ch in polls[0]] == ["s1", "step-a", "step-a", "step-a"]


def test_a_damaged_change_is_reported_once_and_the_feed_goes_on(space: Space) -> None:
    feed = space.feed()
    for name in ("A", "B", "C"):
        add_asset(space, name)
    bad = feed.last_seq + 2
    raw = sqlite3.connect(_db_path(space), isolation_level=None)
    try:
        raw.execute("UPDATE changes SET events = '[{' WHERE seq = ?", (bad,))
    finally:
        raw.close()
    assert [ch.events[0]["data"]["name"] for ch in feed.poll()] == ["A"]
    with pytest.raises(StorageError, match=f"change {bad} events is not valid JSON"):
        feed.poll()
    assert [ch.events[0]["data"]["name"] for ch in feed.poll()] == ["C"]
    assert feed.poll() == []
    feed.close()


def test_events_are_published_after_the_write_lock_is_released(space: Space) -> None:
    """A subscriber that takes its time holds up no writer: another thread's command
    commits while the subscriber is still running (before the fix it waited for the
    subscriber, which held the write lock)."""
    aid = add_asset(space, "Hero")
    order: list[int] = []
    committed_meanwhile: list[bool] = []
    other: list[threading.Thread] = []

    def slow_subscriber(event: Event) -> None:
        order.append(event.seq)
        if other:
            return
        before = event.seq
        t = threading.Thread(
            target=space.apply, args=(c.UpdateAsset(aid, name="Other"), OWNER), daemon=True
        )
        other.append(t)
        t.start()
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and space.last_seq() == before:
            time.sleep(0.01)
        committed_meanwhile.append(space.last_seq() > before)

    space.subscribe(slow_subscriber)
    first = space.apply(c.UpdateAsset(aid, name="First"), OWNER)
    other[0].join(10)
    assert not other[0].is_alive()
    assert committed_meanwhile == [True]
    assert order == [first.seq, first.seq + 1]  # still published in seq order


def test_threads_writing_at_once_publish_in_seq_order(space: Space) -> None:
    aid = add_asset(space, "Hero")
    seen: list[int] = []
    space.subscribe(lambda e: seen.append(e.seq))

    def writer(n: int) -> None:
        for i in range(25):
            space.apply(c.MoveAssets((c.Position(aid, float(n), float(i)),)), OWNER)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(seen) == 100
    assert seen == sorted(seen)


def test_an_in_memory_space_has_no_feed() -> None:
    db = Database(sqlite3.connect(":memory:", check_same_thread=False))
    sp = Space(db, Path("/nonexistent"), space_id="m", slug="m")
    with pytest.raises(StorageError, match="no change feed"):
        sp.feed()
    db.close()


def test_log_follow_prints_each_change_of_another_process(studio: Studio, space: Space) -> None:
    """``studio log --follow`` reads the same feed: it prints changes made by other
    processes (here, this test's) as they commit, each once."""
    aid = add_asset(space, "Hero")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    follow = ["log", space.slug, "--follow", "--json", "--since", str(space.last_seq())]
    proc = subprocess.Popen(
        [sys.executable, "-m", "studio", "--home", str(studio.paths.home), *follow],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        # the first change is printed once the follower is up (it starts at --since);
        # the next two are committed only after that line came: they arrive live
        space.apply(c.UpdateAsset(aid, name="One"), OWNER)
        lines = [json.loads(proc.stdout.readline())]
        for name in ("Two", "Three"):
            space.apply(c.UpdateAsset(aid, name=name), OWNER)
        lines += [json.loads(proc.stdout.readline()) for _ in range(2)]
    finally:
        proc.kill()
        proc.wait(10)
    assert [ln["command"]["name"] for ln in lines] == ["One", "Two", "Three"]
    assert [ln["seq"] for ln in lines] == list(range(space.last_seq() - 2, space.last_seq() + 1))
    assert all(ln["events"][0]["type"] == "asset:updated" for ln in lines)


def test_a_job_running_here_stops_when_another_process_cancels_it(
    studio: Studio, space: Space
) -> None:
    """The queue follows the feed too: a cancel committed elsewhere (``studio cancel``, an
    undo there) stops the provider call running here, not just its result."""
    assert space.providers is not None
    (provider,) = [space.providers.get(n) for n in space.providers.names()]
    provider.latency_s = 30.0  # type: ignore[attr-defined]
    made = space.apply(c.RequestGeneration("a slow fox", c.MediaKindName.IMAGE), OWNER)
    job_id = made.created["job_id"]
    executor = ThreadExecutor(2)
    sched = Scheduler(space, executor)
    try:
        sched.pump()
        assert sched.busy() == 1
        with studio.open_space(space.slug) as elsewhere:  # its own connection and bus
            elsewhere.apply(c.CancelJob(job_id), OWNER)
        deadline = time.monotonic() + 5
        while sched.busy() and time.monotonic() < deadline:
            sched.pump()
            time.sleep(0.05)
        assert sched.busy() == 0
        (status,) = query(space, "SELECT status FROM jobs WHERE id = ?", (job_id,))[0]
        assert status == "cancelled"
    finally:
        sched.stop()
        executor.shutdown()
        sched.close()


def test_events_wait_for_the_outermost_hold_of_the_lock(space: Space) -> None:
    """A path that holds the space's lock around several commits (undo/redo does) still
    publishes nothing until the lock is free: every subscriber call finds it free."""
    aid = add_asset(space, "Hero")
    free_in_subscriber: list[bool] = []

    def try_lock(got: list[bool]) -> None:
        ok = space._db.lock.acquire(timeout=2)
        if ok:
            space._db.lock.release()
        got.append(ok)

    def probe(_event: Event) -> None:
        got: list[bool] = []
        t = threading.Thread(target=try_lock, args=(got,))
        t.start()
        t.join(5)
        free_in_subscriber.append(got == [True])

    space.subscribe(probe)
    with space._db.lock:
        space.apply(c.UpdateAsset(aid, name="One"), OWNER)
        space.apply(c.UpdateAsset(aid, name="Two"), OWNER)
        assert free_in_subscriber == []  # nothing published under the lock
    assert free_in_subscriber == [True, True]
