"""Presence: who is connected with which role, viewing and selecting what; sent to every
live peer, never written to the space."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

from studio.core.studio import Studio
from studio.sync import admin, peer
from studio.sync.home import open_sharing
from studio.sync.presence import MAX_SELECTION
from tests.sync.harness import HostThread


async def _until(session: peer.Session, test: Any, timeout: float = 5) -> list[dict[str, Any]]:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not test(session.presence):
        left = end - loop.time()
        assert left > 0, f"the roster never became right: {session.presence}"
        session.roster_changed.clear()
        try:
            await asyncio.wait_for(session.roster_changed.wait(), left)
        except TimeoutError:
            pass
    return session.presence


@pytest.fixture
def board(tmp_path: Path) -> Any:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"])
    homes = []
    try:
        for name, role in (("Ann", "editor"), ("Bob", "viewer")):
            with Studio(home) as s:
                link = admin.make_invite(s, "board", role, 60_000).link()
            with Studio(tmp_path / name) as s:
                asyncio.run(peer.join(s, link, name))
            homes.append(tmp_path / name)
        yield host, homes
    finally:
        host.stop()


def test_the_roster_follows_connections_and_what_each_peer_views(board: Any) -> None:
    host, (ann_home, bob_home) = board
    with Studio(host.home) as s, s.open_space("board") as space:
        seq_before = space.last_seq()

    async def run() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        with Studio(ann_home) as sa, Studio(bob_home) as sb:
            sta, stb = open_sharing(sa), open_sharing(sb)
            try:
                async with peer.session_for(sb, "board", stb) as bob:
                    await bob.wait_live(10)
                    async with peer.session_for(sa, "board", sta) as ann:
                        await ann.wait_live(10)
                        await ann.set_presence("asset-1", ["v-1", "v-2"])
                        both = await _until(
                            bob,
                            lambda r: (
                                [(p["name"], p["role"], p["viewing"]) for p in r]
                                == [("Ann", "editor", "asset-1"), ("Bob", "viewer", None)]
                            ),
                        )
                    alone = await _until(bob, lambda r: [p["name"] for p in r] == ["Bob"])
                    return both, alone
            finally:
                sta.close()
                stb.close()

    both, alone = asyncio.run(run())
    assert both[0]["selection"] == ["v-1", "v-2"]
    assert alone[0]["viewing"] is None
    with Studio(host.home) as s, s.open_space("board") as space:
        assert space.last_seq() == seq_before  # nothing of it in the change log


def test_an_oversized_selection_closes_that_connection_only(board: Any) -> None:
    _host, (ann_home, _bob) = board

    async def run() -> int | None:
        with Studio(ann_home) as sa:
            sta = open_sharing(sa)
            try:
                async with peer.session_for(sa, "board", sta) as ann:
                    await ann.wait_live(10)
                    await ann.set_presence(None, [f"v{i}" for i in range(MAX_SELECTION + 1)])
                    assert ann._task is not None
                    await asyncio.wait_for(ann._task, 5)
                    return ann.ws.close_code
            finally:
                sta.close()

    assert asyncio.run(run()) == 1008
