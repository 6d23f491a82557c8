"""The app's lasting link to a host (studio.sync.link): live state, steps sent on the
live connection, offline steps queued and sent on reconnect with refusals reported,
revocation ending it. Real TLS websockets on 127.0.0.1; the link runs on a loop thread
of its own, as in the app."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

import pytest

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.commands import command_to_json
from studio.core.studio import Studio
from studio.sync import admin, peer
from studio.sync.link import LinkState, LiveLink, Sent
from studio.sync.peer import Delivery
from tests.sync.harness import HostThread

ME = Actor("local:host", "Hana", Role.OWNER)
T = TypeVar("T")


class LinkThread:
    """A LiveLink on a loop thread, recording what it reports."""

    def __init__(self, home: Path, slug: str) -> None:
        self.studio = Studio(home)
        self.states: list[LinkState] = []
        self.refused: list[Delivery] = []
        self.rosters: list[list[dict[str, Any]]] = []
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self.link = LiveLink(
            self.studio,
            slug,
            on_state=self.states.append,
            on_refused=self.refused.extend,
            on_roster=self.rosters.append,
        )
        self._running = asyncio.run_coroutine_threadsafe(self.link.run(), self.loop)

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def wait_for(self, test: Callable[[], bool], timeout: float = 20) -> None:
        end = time.monotonic() + timeout
        while not test():
            assert time.monotonic() < end, f"timed out; states: {self.states[-3:]}"
            time.sleep(0.02)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.link.stop)
        try:
            self._running.result(20)
        finally:
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
            self.studio.close()


@pytest.fixture
def host_home(tmp_path: Path) -> Path:
    home = tmp_path / "host"
    with Studio(home) as s:
        entry = s.create_space("Live Board")
        with s.open_space(entry.slug) as space:
            space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), ME)
    return home


def _joined(host: HostThread, home: Path, role: str = "editor") -> str:
    with Studio(host.home) as s:
        link = admin.make_invite(s, "live-board", role, 3_600_000).link()
    with Studio(home) as s:
        return asyncio.run(peer.join(s, link, "Pia", timeout=20)).slug


@pytest.fixture
def joined(host_home: Path, tmp_path: Path) -> Iterator[tuple[HostThread, LinkThread]]:
    host = HostThread(host_home, ["live-board"])
    slug = _joined(host, tmp_path / "pia")
    link = LinkThread(tmp_path / "pia", slug)
    try:
        yield host, link
    finally:
        link.stop()
        host.stop()


def _frames(home: Path, slug: str) -> set[str]:
    with Studio(home) as s, s.open_space(slug) as space:
        return {f.title for f in space.snapshot().frames}


def test_the_link_goes_live_and_keeps_the_replica_current(
    joined: tuple[HostThread, LinkThread],
) -> None:
    host, link = joined
    link.wait_for(lambda: link.link.state.state == "live")
    assert link.link.state.role == "editor"
    with Studio(host.home) as s, s.open_space("live-board") as space:
        space.apply(c.CreateFrame("Made on the host", 0, 0, 5, 5), ME)
    link.wait_for(lambda: "Made on the host" in _frames(link.studio.paths.home, link.link.slug))


def test_a_step_goes_over_the_live_connection_and_comes_back(
    joined: tuple[HostThread, LinkThread],
) -> None:
    host, link = joined
    link.wait_for(lambda: link.link.state.state == "live")
    sent: Sent = link.run(link.link.send([command_to_json(c.CreateFrame("From Pia", 1, 1, 2, 2))]))
    assert sent.error is None and not sent.queued and sent.result is not None
    assert "From Pia" in _frames(host.home, "live-board")
    # the result returns once this replica holds the step
    assert "From Pia" in _frames(link.studio.paths.home, link.link.slug)


def test_offline_steps_wait_in_the_outbox_and_go_on_reconnect_refusals_reported(
    host_home: Path, tmp_path: Path
) -> None:
    host: HostThread | None = HostThread(host_home, ["live-board"])
    assert host is not None
    port = host.port
    slug = _joined(host, tmp_path / "pia")
    link = LinkThread(tmp_path / "pia", slug)
    try:
        link.wait_for(lambda: link.link.state.state == "live")
        host.stop()
        host = None
        link.wait_for(lambda: link.link.state.state == "offline")
        cut = link.link.state.offline_since
        assert cut is not None and "closed" in link.link.state.detail
        kept = link.run(link.link.send([command_to_json(c.CreateFrame("Offline", 0, 0, 1, 1))]))
        assert kept.queued
        bad = link.run(link.link.send([command_to_json(c.UpdateAsset("no-such-asset", name="X"))]))
        assert bad.queued
        assert link.link.state.pending == 2
        assert link.link.state.offline_since == cut  # still counting from the cut
        host = HostThread(host_home, ["live-board"], port=port)
        link.wait_for(lambda: link.link.state.state == "live" and link.link.state.pending == 0)
        assert "Offline" in _frames(host_home, "live-board")
        assert [d.mutation_id for d in link.refused] == [bad.mutation_id]
        assert link.refused[0].error is not None and "no-such-asset" in str(link.refused[0].error)
    finally:
        link.stop()
        if host is not None:
            host.stop()


def test_a_revoked_device_ends_the_link(joined: tuple[HostThread, LinkThread]) -> None:
    host, link = joined
    link.wait_for(lambda: link.link.state.state == "live")
    with Studio(host.home) as s:
        device = admin.devices(s, "live-board")[0]
        admin.revoke(s, "live-board", device.id)
    link.wait_for(lambda: link.link.state.state == "ended")
    assert "revoked" in link.link.state.detail
