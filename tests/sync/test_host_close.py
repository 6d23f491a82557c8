"""A host closes promptly even while commits keep waking its watcher: on Python 3.11,
``asyncio.wait_for`` loses a cancellation that arrives as the awaited event fires, and
a watcher looping on it never ended (``Host.close`` then waited forever)."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

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
