"""A host closes promptly even while commits keep waking its watcher: on Python 3.11,
``asyncio.wait_for`` loses a cancellation that arrives as the awaited event fires, and
a watcher looping on it never ended (``Host.close`` then waited forever)."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from pathlib import Path

import pytest

from studio.core.studio import Studio
from tests.sync.harness import HostThread


def test_close_ends_the_watcher_while_it_is_being_woken(tmp_path: Path) -> None:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    for _ in range(5):  # bounded: each round is one close under a storm of wake-ups
        host = HostThread(home, ["board"])
        served = next(iter(host.host._served.values()))
        stop = threading.Event()

        def storm(
            loop: asyncio.AbstractEventLoop = host.loop,
            poke: asyncio.Event = served.poke,
            stop: threading.Event = stop,
        ) -> None:
            deadline = time.monotonic() + 20
            while not stop.is_set() and time.monotonic() < deadline:
                try:
                    loop.call_soon_threadsafe(poke.set)
                except RuntimeError:  # the loop closed
                    return
                time.sleep(0)

        waker = threading.Thread(target=storm, daemon=True)
        waker.start()
        time.sleep(0.2)
        started = time.monotonic()
        try:
            host.run(host.host.close(), timeout=10)
        finally:
            stop.set()
            waker.join(5)
            host.stop()
        assert time.monotonic() - started < 5


def test_close_ends_the_connection_of_a_peer_that_does_not_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A peer whose machine froze never answers the close: after the wait the host ends
    its connection itself, so no connection handler is left pending (one was, and was
    destroyed on a closed loop: "Event loop is closed", seen in CI)."""
    from studio.sync import host as host_mod
    from studio.sync import peer
    from studio.sync.home import open_sharing
    from tests.conftest import OWNER
    from tests.sync.harness import join_peer, space_with_a_frame

    monkeypatch.setattr(host_mod, "CLOSE_WAIT_S", 0.5)
    home = tmp_path / "host"
    slug = space_with_a_frame(home, "Board", OWNER)
    host = HostThread(home, [slug])
    frozen = threading.Event()
    local = join_peer(host, slug, tmp_path / "pia", "Pia")
    peer_loop = asyncio.new_event_loop()
    runner = threading.Thread(target=peer_loop.run_forever, daemon=True)
    runner.start()
    studio = Studio(tmp_path / "pia")
    store = open_sharing(studio)
    cm = peer.session_for(studio, local, store)
    try:

        async def live() -> None:
            session = await cm.__aenter__()
            await session.wait_live(20)

        asyncio.run_coroutine_threadsafe(live(), peer_loop).result(30)
        assert len(host.host.peers(next(iter(host.host._served)))) == 1
        # the peer's machine freezes: its loop answers nothing for a while
        peer_loop.call_soon_threadsafe(lambda: frozen.wait(10))
        t0 = time.monotonic()
        host.run(host.host.close(), timeout=20)
        took = time.monotonic() - t0
        pending = asyncio.run_coroutine_threadsafe(_pending(), host.loop).result(5)
        assert pending == []
        assert took < 5  # not the websocket's 10 s close timeout
    finally:
        frozen.set()
        host.stop()
        # the peer's machine wakes up to a closed connection: its session ends
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(cm.__aexit__(None, None, None), peer_loop).result(20)
        peer_loop.call_soon_threadsafe(peer_loop.stop)
        runner.join(10)
        peer_loop.close()
        store.close()
        studio.close()


async def _pending() -> list[str]:
    me = asyncio.current_task()
    return [repr(t) for t in asyncio.all_tasks() if t is not me and not t.done()]
