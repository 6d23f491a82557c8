"""The host window's UI thread and its peers' work: a shared space is served by a child
process (``studio serve --app``) at background priority, so peers' commands — TLS,
JSON, the door — never run in the app's process, where they held the GIL against the
UI thread (the host window's long stalls with busy peers; bench/bench_share_ui.py).
The child ends when the app's end closes its stdin, and is started again if it died."""

from __future__ import annotations

import asyncio
import os
import secrets
import signal
import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.core import commands as c
from studio.core import replica_host
from studio.core.actor import Actor, Role
from studio.core.studio import Studio
from studio.jobs.pump import BACKGROUND_NICE
from studio.providers_setup import build_providers
from studio.sync import conversation, peer
from studio.sync.home import open_sharing
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER

ME = Actor("local:hana", "Hana", Role.OWNER)
WAIT_MS = 30_000
MOVES = 30


@pytest.fixture
def host_window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    home = tmp_path / "hana"
    with Studio(home) as s:
        entry = s.create_space("Team Board")
        with s.open_space(entry.slug) as space:
            for i in range(3):
                space.apply(c.CreateAsset(f"a{i}", c.MediaKindName.IMAGE, x=i * 300.0), ME)
    studio = Studio(home, providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    w.open_space(entry.id)
    qtbot.waitUntil(lambda: len(w.scene.cards()) == 3, timeout=WAIT_MS)
    w.sharing.share(entry.id)
    qtbot.waitUntil(lambda: entry.id in w.sharing.shared, timeout=WAIT_MS)
    yield w
    w.sharing.close()
    w.close()
    studio.close()


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
    except OSError:
        return False


def _kill_and_wait_for_the_next(engine: Any, space_id: str, qtbot) -> None:  # type: ignore[no-untyped-def]
    """SIGKILL the space's host process (the OOM killer, a crash); the window's People
    poll starts a new one: wait until it is alive."""
    host = engine.hosts[space_id]
    os.kill(host.pid, signal.SIGKILL)
    qtbot.waitUntil(
        lambda: engine.hosts[space_id] is not host and engine.hosts[space_id].alive,
        timeout=WAIT_MS,
    )


def test_peers_commands_are_applied_by_a_child_process_not_in_the_app(
    host_window: MainWindow, tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    w = host_window
    assert w.space is not None
    space_id = w.space.id
    applied_here: list[object] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        applied_here.append(args)
        return real(*args, **kwargs)

    real = replica_host.apply_once
    monkeypatch.setattr(replica_host, "apply_once", counting)
    monkeypatch.setattr(conversation, "apply_once", counting)
    engine = w.sharing.engine
    link = engine.call(engine.invite(space_id, "editor", 600_000)).result(30).link()
    ids = sorted(card.asset.id for card in w.scene.cards())

    async def moves() -> None:
        with Studio(tmp_path / "pia") as s:
            entry = await peer.join(s, link, "Pia", timeout=20)
            store = open_sharing(s)
            try:
                async with peer.session_for(s, entry.slug, store) as session:
                    await session.wait_live(20)
                    for k in range(MOVES):
                        pos = {"asset_id": ids[k % 3], "x": 1000.0 + k, "y": 40.0 * (k % 3)}
                        cmd = {"command": "asset:move", "positions": [pos]}
                        await session.command([cmd], secrets.token_hex(8), 20)
            finally:
                store.close()

    asyncio.run(moves())
    last = {ids[k % 3]: 1000.0 + k for k in range(MOVES)}

    def arrived() -> bool:
        return all(card.asset.x == last[card.asset.id] for card in w.scene.cards())

    qtbot.waitUntil(arrived, timeout=WAIT_MS)  # the window follows the child's commits
    assert applied_here == []  # none of the peer's 30 steps was applied in this process
    host = engine.hosts[space_id]
    assert host.pid and host.pid != os.getpid() and host.alive
    # who is connected comes from the child too
    qtbot.waitUntil(lambda: bool(w.sharing.people.get(space_id)), timeout=WAIT_MS)
    assert [p.device.name for p in w.sharing.people[space_id]] == ["Pia"]


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-process nice, /proc")
def test_the_host_process_runs_at_background_priority_and_ends_with_the_app(
    host_window: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    w = host_window
    assert w.space is not None
    space_id = w.space.id
    engine = w.sharing.engine
    host = engine.hosts[space_id]
    pid, port = host.pid, host.port
    stat = Path(f"/proc/{pid}/stat").read_text()
    nice = int(stat[stat.rindex(")") + 2 :].split()[16])
    assert nice >= BACKGROUND_NICE > os.nice(0)  # the window's threads run first
    assert _port_open(port)

    # the app ends without a word (killed): the kernel closes the child's stdin
    async def app_gone() -> None:
        assert host._proc is not None and host._proc.stdin is not None
        host._proc.stdin.close()

    engine.call(app_gone()).result(10)
    qtbot.waitUntil(
        lambda: not Path(f"/proc/{pid}").exists() or "Z" in _state(pid), timeout=WAIT_MS
    )
    qtbot.waitUntil(lambda: not _port_open(port), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: not host.alive, timeout=WAIT_MS)

    # sharing again notices and starts a new one, on the same port (invites still lead there)
    w.sharing.share(space_id)
    qtbot.waitUntil(
        lambda: engine.hosts[space_id] is not host and engine.hosts[space_id].alive,
        timeout=WAIT_MS,
    )
    assert engine.hosts[space_id].port == port
    assert _port_open(port)


def _state(pid: int) -> str:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return "Z"
    return stat[stat.rindex(")") + 2]


def test_a_burst_of_steps_reaches_the_views_a_frame_budget_at_a_time_never_half_a_step(
    tmp_path: Path, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """Ten busy peers' steps (or a catch-up) are handed to the views a few per turn of
    the event loop — frames and input go between — not a hundred in one go; a step's
    changes always arrive in one turn, and file_changed once they all did."""
    from studio.core.protocol import TypedEvent
    from studio.ui import feed_follower
    from studio.ui.feed_follower import FeedFollower

    monkeypatch.setattr(feed_follower, "FRAME_BUDGET_S", 0.0, raising=False)  # a step a turn
    home = tmp_path / "hana"
    with Studio(home) as s:
        entry = s.create_space("Board")
    with Studio(home) as mine, Studio(home) as theirs:
        here = mine.open_space(entry.slug)
        there = theirs.open_space(entry.slug)
        try:
            ids = [
                str(
                    there.apply(c.CreateAsset(f"a{i}", c.MediaKindName.IMAGE), ME).created[
                        "asset_id"
                    ]
                )
                for i in range(3)
            ]
            follower = FeedFollower(here)
            seen: list[TypedEvent] = []
            files: list[int] = []
            follower.changed.connect(seen.append)
            follower.file_changed.connect(lambda: files.append(len(seen)))
            for k in range(40):  # 40 one-move steps, then one step of three moves
                there.apply(c.MoveAssets((c.Position(ids[k % 3], float(k), 0.0),)), ME)
            three = [c.MoveAssets((c.Position(a, 500.0, 500.0),)) for a in ids]
            there.apply_step(three, ME)
            start = len(seen)
            follower.poll()  # one turn
            assert len(seen) - start == 1  # not the whole burst at once
            assert files == []  # not yet: more is waiting
            qtbot.waitUntil(lambda: len(seen) - start == 43, timeout=WAIT_MS)
            moved = [e for e in seen[start:] if e.kind == "asset:moved"]
            assert len(moved) == 43
            assert [e.seq for e in moved] == sorted(e.seq for e in moved)  # in order
            # once, at the end (a fresh clone's CI run under load timed out here once;
            # the message says what came instead)
            qtbot.waitUntil(lambda: bool(files), timeout=WAIT_MS)
            assert files == [len(seen)], (files, len(seen), start)
            assert follower.last_seq == there.last_seq()
            follower.close()
        finally:
            here.close()
            there.close()


def test_a_steps_changes_arrive_in_one_turn(tmp_path: Path, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from studio.ui import feed_follower
    from studio.ui.feed_follower import FeedFollower

    monkeypatch.setattr(feed_follower, "FRAME_BUDGET_S", 0.0, raising=False)
    home = tmp_path / "hana"
    with Studio(home) as s:
        entry = s.create_space("Board")
    with Studio(home) as mine, Studio(home) as theirs:
        here, there = mine.open_space(entry.slug), theirs.open_space(entry.slug)
        try:
            follower = FeedFollower(here)
            seen: list[str] = []
            follower.changed.connect(lambda e: seen.append(e.kind))
            made = there.apply_step(
                [c.CreateAsset(f"s{i}", c.MediaKindName.IMAGE) for i in range(4)], ME
            )
            follower.poll()
            assert seen.count("asset:created") == 4  # the whole step in this one turn
            assert made is not None
            follower.close()
        finally:
            here.close()
            there.close()


def test_a_huge_steps_changes_arrive_over_several_turns(tmp_path: Path, qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A step of more than HUGE_STEP changes (a select-all's delete: 50,000) is handed
    out a frame budget at a time like a backlog: in one turn it froze the window ~10 s."""
    from studio.ui import feed_follower
    from studio.ui.feed_follower import FeedFollower

    monkeypatch.setattr(feed_follower, "HUGE_STEP", 50)
    monkeypatch.setattr(feed_follower, "FRAME_BUDGET_S", 0.0, raising=False)
    home = tmp_path / "hana"
    with Studio(home) as s:
        entry = s.create_space("Board")
    with Studio(home) as mine, Studio(home) as theirs:
        here, there = mine.open_space(entry.slug), theirs.open_space(entry.slug)
        try:
            follower = FeedFollower(here)
            seen: list[str] = []
            follower.changed.connect(lambda e: seen.append(e.kind))
            there.apply_step(
                [c.CreateAsset(f"s{i}", c.MediaKindName.IMAGE) for i in range(120)], ME
            )
            follower.poll()
            assert 0 < seen.count("asset:created") < 120  # part of it this turn
            qtbot.waitUntil(lambda: seen.count("asset:created") == 120, timeout=WAIT_MS)
            assert follower.last_seq == there.last_seq()
            follower.close()
        finally:
            here.close()
            there.close()


def test_the_host_process_lines_are_read_strictly(monkeypatch: pytest.MonkeyPatch) -> None:
    from studio.ui.sharing.host_child import members_from, serve_command

    people = {
        "S1": [
            {
                "device_id": "d1",
                "name": "Pia",
                "role": "editor",
                "viewing": "a1",
                "selection": ["a1"],
            },
            {"device_id": "d2", "name": "Bo", "role": "viewer", "selection": "not a list"},
            {"device_id": 3, "name": "bad", "role": "editor"},
            "nonsense",
        ],
        "S2": [{"device_id": "d9", "name": "Other", "role": "editor"}],
    }
    got = members_from(people, "S1")
    assert [(m.device_id, m.name, m.role) for m in got] == [
        ("d1", "Pia", "editor"),
        ("d2", "Bo", "viewer"),
    ]
    assert got[0].presence.viewing == "a1" and got[1].presence.selection == ()
    assert members_from("nonsense", "S1") == [] and members_from({"S1": 5}, "S1") == []
    cmd = serve_command(Path("/h"), "S1", "127.0.0.1", 0, announce=False)
    assert cmd[:3] == [sys.executable, "-m", "studio"]
    assert cmd[3:] == ["--home", "/h", "serve", "S1", "--host", "127.0.0.1", "--port", "0",
                       "--no-jobs", "--json", "--app", "--no-announce"]  # fmt: skip
    monkeypatch.setattr(sys, "frozen", True, raising=False)  # the bundle is the CLI itself
    assert serve_command(Path("/h"), "S1", "0.0.0.0", 5, announce=True)[:2] == [
        sys.executable,
        "--home",
    ]


def test_a_host_process_that_dies_is_started_again_on_its_port(
    host_window: MainWindow, qtbot
) -> None:  # type: ignore[no-untyped-def]
    w = host_window
    assert w.space is not None
    space_id = w.space.id
    engine = w.sharing.engine
    host = engine.hosts[space_id]
    port = host.port
    _kill_and_wait_for_the_next(engine, space_id, qtbot)  # again on the same port
    assert engine.hosts[space_id].port == port
    qtbot.waitUntil(lambda: _port_open(port), timeout=WAIT_MS)


def test_two_shares_at_once_start_one_host_process(tmp_path: Path) -> None:
    """Sharing resumed at start and a click on Share at the same moment: one child, both
    told its address (a second one would serve on another port out of anyone's reach)."""
    from studio.ui.sharing.engine import SharingEngine

    home = tmp_path / "hana"
    with Studio(home) as s:
        entry = s.create_space("Team Board")
    engine = SharingEngine(home, bind="127.0.0.1", announce=False)
    try:

        async def both() -> list[Any]:
            return list(await asyncio.gather(engine.share(entry.id), engine.share(entry.id)))

        first, second = engine.call(both()).result(120)
        assert first.address == second.address and first.fingerprint == second.fingerprint
        assert list(engine.hosts) == [entry.id]
        children = [p for p in os.listdir("/proc") if p.isdigit() and _serves(int(p), str(home))]
        assert len(children) == 1, children
    finally:
        engine.close(30)


def _serves(pid: int, home: str) -> bool:
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return False
    return b"serve" in argv and b"--app" in argv and home.encode() in argv


def test_a_host_that_could_not_start_again_is_tried_again_later(
    host_window: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.sharing import engine as engine_mod
    from studio.ui.sharing.host_child import HostStartError

    w = host_window
    assert w.space is not None
    space_id = w.space.id
    engine = w.sharing.engine
    monkeypatch.setattr(engine_mod, "RESTART_S", 0.5)
    real = engine._start_host
    tries: list[int] = []

    async def flaky(sid: str, port: int) -> Any:
        tries.append(port)
        if len(tries) == 1:
            raise HostStartError("the port is still taken")
        return await real(sid, port)

    monkeypatch.setattr(engine, "_start_host", flaky)
    _kill_and_wait_for_the_next(engine, space_id, qtbot)
    assert len(tries) >= 2 and space_id not in engine._down


def test_a_slow_restart_is_not_started_twice_and_closing_twice_is_quiet(
    host_window: MainWindow, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    """A start that outlasts RESTART_S (a loaded machine) is not joined by a second one at
    a later People poll, and closing the engine again after it closed is a no-op (a loaded
    full run failed a teardown with "Event loop is closed")."""
    from studio.ui.sharing import engine as engine_mod

    w = host_window
    assert w.space is not None
    space_id = w.space.id
    engine = w.sharing.engine
    monkeypatch.setattr(engine_mod, "RESTART_S", 0.05)
    real = engine._start_host
    running: list[int] = []
    most: list[int] = [0]
    tries: list[int] = []

    async def slow(sid: str, port: int) -> Any:
        tries.append(port)
        running.append(1)
        most[0] = max(most[0], len(running))
        try:
            await asyncio.sleep(2.5)  # two or three People polls come meanwhile
            return await real(sid, port)
        finally:
            running.pop()

    monkeypatch.setattr(engine, "_start_host", slow)
    _kill_and_wait_for_the_next(engine, space_id, qtbot)
    qtbot.wait(1500)  # more polls: the new host is alive, nothing more is started
    assert most[0] == 1 and len(tries) == 1
    w.sharing.close()
    engine.close()  # a second close of a closed engine: nothing to do, nothing raised
    w.sharing.close()  # the fixture's close comes after this: also quiet
