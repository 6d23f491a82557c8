"""A host running in a thread of the test process (its own event loop), and helpers to
drive peers from the test thread. Everything started here is stopped by ``stop``."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Coroutine, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any, TypeVar

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.studio import Studio
from studio.sync import admin, peer
from studio.sync.host import Host, HostLimits, ProxyFront

T = TypeVar("T")


class HostThread:
    def __init__(
        self,
        home: Path,
        refs: Sequence[str],
        limits: HostLimits | None = None,
        *,
        jobs: bool = False,
        providers: bool | None = None,
        proxy: ProxyFront | None = None,
        port: int = 0,
    ) -> None:
        """``jobs``: the host runs the spaces' jobs; ``providers`` (default: ``jobs``):
        its studio has the provider registry (to plan generation requests)."""
        self.home = home
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        if jobs if providers is None else providers:  # as `studio serve` has them
            from studio.providers_setup import build_providers

            self.studio = Studio(home, providers=build_providers)
        else:
            self.studio = Studio(home)
        self.host = Host(self.studio, refs, limits=limits, jobs=jobs, proxy=proxy, port=port)
        self.run(self.host.start())

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        fut: Future[T] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    @property
    def port(self) -> int:
        return self.host.port

    def stop(self) -> None:
        try:
            self.run(self.host.close())
        finally:
            with contextlib.suppress(Exception):  # as asyncio.run ends: nothing left pending
                self.run(_cancel_the_rest(), timeout=10)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self._thread.join(10)
            self.loop.close()
            self.studio.close()


async def _cancel_the_rest() -> None:
    me = asyncio.current_task()
    rest = {t for t in asyncio.all_tasks() if t is not me and not t.done()}
    for task in rest:
        task.cancel()
    if rest:
        await asyncio.wait(rest, timeout=5)


def space_with_a_frame(home: Path, name: str, actor: Actor) -> str:
    """A new space ``name`` in ``home`` holding one frame (something to replicate); its slug."""
    with Studio(home) as s:
        entry = s.create_space(name)
        with s.open_space(entry.slug) as space:
            space.apply(c.CreateFrame("Act 1", 0, 0, 100, 100), actor)
        return entry.slug


def join_peer(host: HostThread, slug: str, home: Path, name: str, role: str = "editor") -> str:
    """Invite a device to the host's space ``slug`` and join it from ``home``; the local slug."""
    with Studio(host.home) as s:
        link = admin.make_invite(s, slug, role, 3_600_000).link()
    with Studio(home) as s:
        return asyncio.run(peer.join(s, link, name, timeout=20)).slug
