"""A randomized run over real sockets: several peers issue random commands through
long-lived sessions, drop their connections at random and come back, while the host's
own processes write too. Afterwards every replica equals the host, table by table."""

from __future__ import annotations

import asyncio
import contextlib
import random
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.commands import command_to_json
from studio.core.studio import Studio
from studio.sync import admin, peer
from studio.sync.home import open_sharing
from tests.sync import workload
from tests.sync.compare import differences
from tests.sync.harness import HostThread

ME = Actor("local:host", "Hana", Role.OWNER)


class _ReadOnly:
    """``workload.random_command`` reads through ``tests.sql.query`` (``.reading()``); a
    replica file is enough."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
        try:
            yield conn
        finally:
            conn.close()


async def _peer_run(studio: Studio, slug: str, replica: Path, rng: random.Random, n: int) -> int:
    """Issue ``n`` random steps; after each, maybe drop the connection (abruptly or
    politely) and reconnect. Returns how many the host applied."""
    store = open_sharing(studio)
    applied = 0
    try:
        i = 0
        while i < n:
            async with peer.session_for(studio, slug, store) as session:
                await session.wait_live(20)
                while i < n:
                    i += 1
                    cmds = [workload.random_command(_ReadOnly(replica), rng)]  # type: ignore[arg-type]
                    try:
                        await session.command([command_to_json(x) for x in cmds], f"m{i}", 20)
                        applied += 1
                    except peer.HostError:
                        pass  # refused (e.g. the asset was deleted meanwhile): nothing applied
                    roll = rng.random()
                    if roll < 0.1:
                        session.ws.transport.abort()  # a cut, mid-stream
                        break
                    if roll < 0.2:
                        break  # a polite disconnect
    finally:
        store.close()
    return applied


def _run(host: HostThread, peers: list[tuple[Path, str]], seed: int, steps: int) -> None:
    rng = random.Random(seed)

    async def main() -> list[int]:
        studios = [Studio(home) for home, _ in peers]
        try:
            replicas = [
                s.paths.home / s.resolve(slug).file
                for s, (_, slug) in zip(studios, peers, strict=True)
            ]
            tasks = [
                _peer_run(s, slug, r, random.Random(rng.random()), steps)
                for s, (_, slug), r in zip(studios, peers, replicas, strict=True)
            ]

            async def host_writes() -> int:
                def write() -> None:
                    with Studio(host.home) as hs, hs.open_space("board") as space:
                        workload.run(space, ME, random.Random(rng.random()), steps // 2)

                await asyncio.to_thread(write)
                return 0

            return list(await asyncio.gather(*tasks, host_writes()))
        finally:
            for s in studios:
                s.close()

    applied = asyncio.run(main())
    assert sum(applied) >= steps  # most commands went through
    for home, slug in peers:  # a last catch-up, then every table is the host's
        with Studio(home) as s:
            asyncio.run(peer.sync(s, slug, timeout=20))
            replica = s.paths.home / s.resolve(slug).file
        assert differences(host.home / "spaces" / "board.db", replica) == []


def _setup(tmp_path: Path, n_peers: int) -> tuple[HostThread, list[tuple[Path, str]]]:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
        with s.open_space("board") as space:
            space.apply(c.CreateAsset(name="Seed", media_kind=c.MediaKindName.IMAGE), ME)
    host = HostThread(home, ["board"])
    peers = []
    try:
        for i in range(n_peers):
            with Studio(home) as s:
                link = admin.make_invite(s, "board", "editor", 60_000).link()
            with Studio(tmp_path / f"p{i}") as s:
                peers.append((tmp_path / f"p{i}", asyncio.run(peer.join(s, link, f"P{i}")).slug))
    except BaseException:
        host.stop()
        raise
    return host, peers


def test_random_run_with_cuts_converges_on_every_replica(tmp_path: Path) -> None:
    host, peers = _setup(tmp_path, 3)
    try:
        _run(host, peers, seed=11, steps=15)
    finally:
        host.stop()


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(5))
def test_random_run_with_cuts_converges_long(tmp_path: Path, seed: int) -> None:
    host, peers = _setup(tmp_path, 5)
    try:
        _run(host, peers, seed=seed, steps=80)
    finally:
        host.stop()
