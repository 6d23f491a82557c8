"""The live path's costs, counted rather than timed (timing drifts on shared machines):
the host reads and encodes each new step once for all its live peers, and a replica's
apply stays exact on its fast paths."""

from __future__ import annotations

import asyncio
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.commands import command_to_json
from studio.core.replica_host import StepSource
from studio.core.studio import Studio
from studio.sync import peer
from studio.sync.home import open_sharing
from tests.sync.compare import differences
from tests.sync.harness import HostThread, join_peer, space_with_a_frame

ME = Actor("local:host", "Hana", Role.OWNER)
PEERS = 4
ROUNDS = 8


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostThread]:
    home = tmp_path / "host"
    h = HostThread(home, [space_with_a_frame(home, "Fan Out", ME)])
    try:
        yield h
    finally:
        h.stop()


def _join_all(host: HostThread, tmp_path: Path, n: int) -> list[tuple[Path, str]]:
    return [
        (tmp_path / f"p{i}", join_peer(host, "fan-out", tmp_path / f"p{i}", f"P{i}"))
        for i in range(n)
    ]


async def _rounds(joined: list[tuple[Path, str]], start: object = None) -> list[int]:
    """Each round one peer sends a command and every peer waits until its replica has
    it (as bench/bench_sharing.py measures); returns the seqs."""
    studios = [Studio(home) for home, _slug in joined]
    stores = [open_sharing(s) for s in studios]
    cms = [
        peer.session_for(s, slug, st)
        for s, (_h, slug), st in zip(studios, joined, stores, strict=True)
    ]
    sessions = [await cm.__aenter__() for cm in cms]
    try:
        for s in sessions:
            await s.wait_live(20)
        await asyncio.sleep(0.1)  # the watcher's own poll of the joins is done
        if callable(start):
            start()
        seqs = []
        for i in range(ROUNDS):
            frame = command_to_json(c.CreateFrame(f"r{i}", i, 0, 1, 1))
            result = await sessions[i % len(sessions)].command([frame], secrets.token_hex(8), 20)
            await asyncio.gather(*(s.wait_seq(max(result["seqs"]), 20) for s in sessions))
            seqs.append(max(result["seqs"]))
        return seqs
    finally:
        for cm in cms:
            await cm.__aexit__(None, None, None)
        for st in stores:
            st.close()
        for s in studios:
            s.close()


def test_live_peers_share_one_read_of_each_new_step(
    host: HostThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Woken by one commit, the live peers join one read (and one encoded frame) of
    the host's file instead of each making its own, and none asks the file again
    before the next commit. Before: about two reads per peer per step."""
    joined = _join_all(host, tmp_path, PEERS)
    reads: list[int] = []
    lock = threading.Lock()
    real = StepSource.steps_after

    def counted(self: StepSource, seq: int, cap: int = 50_000, **kw: Any) -> object:
        with lock:
            reads.append(seq)
        return real(self, seq, cap, **kw)

    monkeypatch.setattr(StepSource, "steps_after", counted)
    seqs = asyncio.run(_rounds(joined, start=reads.clear))
    assert len(seqs) == ROUNDS
    # per step: the shared read of it, and at most one more when the watcher's poll
    # sees the same commit again; never one (or two) per peer
    assert ROUNDS <= len(reads) <= 2 * ROUNDS + 1, reads
    for home, slug in joined:
        with Studio(home) as s:
            path = s.paths.home / s.resolve(slug).file
        assert differences(host.home / "spaces" / "fan-out.db", path) == []


def test_live_steps_are_read_on_the_loop_and_big_ones_on_the_reader_thread(
    host: HostThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A live step is read on the host's event loop (a hop to the reader thread and
    back waited for the GIL while the loop was sending); a read touching more rows than
    the loop may spend time on goes to the reader thread, and both reach every peer."""
    from studio.sync import served

    joined = _join_all(host, tmp_path, 2)
    threads: list[str] = []
    real = StepSource.steps_after

    def where(self: StepSource, seq: int, cap: int = 50_000, **kw: Any) -> object:
        threads.append(threading.current_thread().name)
        return real(self, seq, cap, **kw)

    monkeypatch.setattr(StepSource, "steps_after", where)
    asyncio.run(_rounds(joined, start=threads.clear))
    loop_thread = host._thread.name
    assert threads.count(loop_thread) >= ROUNDS
    assert not [t for t in threads if t.startswith("share-")], threads
    monkeypatch.setattr(served, "INLINE_ROWS", 0)  # every step is "big" now
    asyncio.run(_rounds(joined, start=threads.clear))
    assert len([t for t in threads if t.startswith("share-")]) >= ROUNDS
    for home, slug in joined:
        with Studio(home) as s:
            path = s.paths.home / s.resolve(slug).file
        assert differences(host.home / "spaces" / "fan-out.db", path) == []


def test_live_frames_are_written_without_waiting(
    host: HostThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A frame that fits the peer's write buffer is written at once: no ``await
    ws.send`` (its context manager, a timer and a drain, per frame and per peer). The
    waiting send is left for what does not fit (a slow peer, a snapshot's chunks)."""
    from websockets.asyncio.server import ServerConnection

    joined = _join_all(host, tmp_path, PEERS)
    waited: list[object] = []
    real = ServerConnection.send

    async def counted(self: ServerConnection, message: Any, **kw: Any) -> None:
        waited.append(type(message))
        await real(self, message, **kw)

    monkeypatch.setattr(ServerConnection, "send", counted)
    seqs = asyncio.run(_rounds(joined, start=waited.clear))
    assert len(seqs) == ROUNDS
    assert waited == []  # before: one per peer per step, and one per result
    for home, slug in joined:
        with Studio(home) as s:
            path = s.paths.home / s.resolve(slug).file
        assert differences(host.home / "spaces" / "fan-out.db", path) == []


def test_a_shared_space_checkpoints_off_the_doors_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """While a space is shared, SQLite's automatic checkpoint (the log copied back and
    fsynced twice, 5–25 ms, on the commit that passes 1000 pages) is off on the door's
    connection — each peer's command waits for that commit — and a thread of the host's
    makes it; when sharing ends, the door checkpoints as before."""
    from studio.core import replica_wal

    monkeypatch.setattr(replica_wal, "CHECKPOINT_PAGES", 24)
    after: list[int] = []
    real_end = replica_wal.end_host_checkpoints

    def end(space: Any, checkpoints: Any) -> None:
        real_end(space, checkpoints)
        after.append(space._db.conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0])

    monkeypatch.setattr(replica_wal, "end_host_checkpoints", end)
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Fan Out")
    h = HostThread(home, ["fan-out"])
    try:
        (served,) = h.host._served.values()
        door = served.space._db.conn
        assert door.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == 0
        joined = _join_all(h, tmp_path, 2)
        asyncio.run(_rounds(joined))
        assert served.checkpoints is not None
        deadline = time.monotonic() + 10
        while served.checkpoints.done < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert served.checkpoints.done >= 1
    finally:
        h.stop()
    assert after == [24]  # the door's own checkpoints again (SQLite's default: 1000)
    with Studio(home) as s, s.open_space("fan-out") as space:
        assert space.last_seq() >= ROUNDS


def test_the_watcher_writes_each_new_step_to_the_waiting_peers_itself(
    host: HostThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A commit wakes no live peer's sender: the watcher reads the step once and writes
    the one frame to every peer waiting for it. Before: every sender woke, joined the
    shared read (a shielded future each) and sent for itself: a task switch or two per
    peer per step."""
    from studio.sync.served import Served

    joined = _join_all(host, tmp_path, PEERS)
    woken: list[int] = []
    real = Served.steps_after

    async def counted(self: Served, seq: int, *, live: bool = False) -> object:
        woken.append(seq)
        return await real(self, seq, live=live)

    monkeypatch.setattr(Served, "steps_after", counted)
    seqs = asyncio.run(_rounds(joined, start=woken.clear))
    assert len(seqs) == ROUNDS
    # before: at least one per peer per step (PEERS * ROUNDS); now only a sender woken
    # because its peer was busy (a result being written) reads for itself
    assert len(woken) < ROUNDS, woken
    for home, slug in joined:
        with Studio(home) as s:
            path = s.paths.home / s.resolve(slug).file
        assert differences(host.home / "spaces" / "fan-out.db", path) == []
