"""The app's sharing engine: live links on one asyncio loop in a thread of its own (not
qasync on the UI thread: TLS, JSON and replica commits then never take UI time; the UI
gets results as queued Qt signals — see README "Sharing in the app"). Hosting runs in a
child process per shared space (:mod:`studio.ui.sharing.host_child`: ten busy peers'
work would otherwise contend with the UI thread for the GIL), managed from this loop.

Qt-free: everything here returns :class:`concurrent.futures.Future` objects that the
controller turns into signals on the UI thread. The engine has a ``Studio`` of its own
(its own library connection), so it never shares a SQLite connection with the UI."""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from studio.core.errors import StudioError, ValidationError
from studio.core.studio import Studio
from studio.store.library import SpaceEntry
from studio.store.sharing import Device
from studio.sync import admin, peer
from studio.sync.discovery import Announcement, Browse
from studio.sync.home import open_sharing
from studio.sync.link import LinkState, LiveLink, Sent
from studio.sync.peer import Delivery
from studio.sync.presence import Member
from studio.sync.wire import Invite
from studio.ui.sharing.host_child import HostChild, HostStartError

T = TypeVar("T")
log = logging.getLogger(__name__)

RESTART_S = 30.0
"""A shared space's host process that died is started again at most this often."""
LINK_GRACE_S = 1.0
"""How long a stopped link may take to end on its own (it notices the stop between
connections) before it is cancelled: one caught connecting or closing a connection
would otherwise keep the app waiting up to a connect or close timeout."""


async def _end(task: asyncio.Task[Any], grace: float = LINK_GRACE_S) -> None:
    """Let ``task`` end within ``grace`` seconds, else cancel it, and once more if its
    cleanup waits on a connection too; never waits longer than three graces."""
    for attempt in range(3):
        await asyncio.wait({task}, timeout=grace)
        if task.done():
            if not task.cancelled():
                task.exception()  # seen: an error it ended with is not "never retrieved"
            return
        if attempt < 2:
            task.cancel()


async def _cancel_the_rest() -> None:
    """Cancel every task of this loop but the running one and wait (bounded) until they
    end: a task left pending when the loop closes is destroyed later, its coroutine
    closed on a closed loop (an error about a closed loop, a connection never closed)."""
    me = asyncio.current_task()
    rest = {t for t in asyncio.all_tasks() if t is not me and not t.done()}
    for task in rest:
        task.cancel()
    if rest:
        await asyncio.wait(rest, timeout=LINK_GRACE_S)


@dataclass(frozen=True, slots=True)
class ShareInfo:
    space_id: str
    address: str
    fingerprint: str


@dataclass(frozen=True, slots=True)
class Person:
    """A device a shared space was opened to, as the People panel shows it."""

    device: Device
    online: bool
    viewing: str | None
    selection: tuple[str, ...]


class SharingEngine:
    def __init__(
        self,
        home: Path,
        *,
        bind: str = "0.0.0.0",
        providers: Any = None,
        announce: bool = True,
    ) -> None:
        """``bind``: where hosts listen (tests: 127.0.0.1). ``providers``: the registry
        factory the engine's studio works with. ``announce``: hosts say where they are
        on the LAN (mDNS, on the interface they listen on)."""
        self.home = home
        self.bind = bind
        self.announce = announce
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, name="sharing", daemon=True)
        self._thread.start()
        self.studio: Studio = self.call(self._make_studio(providers)).result(30)
        self.hosts: dict[str, HostChild] = {}
        self.links: dict[str, tuple[LiveLink, asyncio.Task[None]]] = {}
        self._browses: set[Browse] = set()
        self._restarted: dict[str, float] = {}  # space id -> when its host was last restarted
        self._starting: dict[str, asyncio.Task[HostChild]] = {}  # one start per space at a time
        self._down: set[str] = set()  # shared spaces whose host died and did not start again
        self._restarting: dict[str, asyncio.Task[Any]] = {}  # one restart per space at a time

    async def _make_studio(self, providers: Any) -> Studio:
        return Studio(self.home, providers=providers) if providers else Studio(self.home)

    def call(self, coro: Coroutine[Any, Any, T]) -> Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def close(self, timeout: float = 15.0) -> None:
        async def shut() -> None:
            try:
                for browse in list(self._browses):
                    browse.stop()
                for link, _task in self.links.values():
                    link.stop()
                await asyncio.gather(*(_end(task) for _link, task in self.links.values()))
                self.links.clear()
                for starting in [*self._starting.values(), *self._restarting.values()]:
                    await asyncio.wait({starting}, timeout=5)
                hosts = [host.close() for host in list(self.hosts.values())]
                await asyncio.wait_for(asyncio.gather(*hosts), timeout=max(1.0, timeout - 8))
                self.hosts.clear()
            finally:
                try:
                    await _cancel_the_rest()
                finally:
                    self.studio.close()

        if self.loop.is_closed():  # closed already: nothing left to stop
            return
        try:
            self.call(shut()).result(timeout)
        except TimeoutError:  # a slow machine: stop the loop anyway, the children end
            log.warning("sharing took over %.0f s to stop; stopping it now", timeout)
        finally:
            if not self.loop.is_closed():
                self.loop.call_soon_threadsafe(self.loop.stop)
                self._thread.join(timeout)
                if not self._thread.is_alive():
                    self.loop.close()

    # ------------------------------------------------------------------ hosting
    async def share(self, space_id: str, port: int = 0) -> ShareInfo:
        space_id = self.studio.resolve(space_id).id  # a missing space: one clear line
        starting = self._starting.get(space_id)
        if starting is not None:  # a start under way (resume, a click): the same host
            started = await asyncio.shield(starting)
            return ShareInfo(space_id, started.address, started.fingerprint)
        host = self.hosts.get(space_id)
        if host is not None and (host.closing or not host.alive):  # ended (killed?): again
            await host.close()
            host = None
        if host is None:
            task = self.loop.create_task(self._start_listed(space_id, port))
            self._starting[space_id] = task
            host = await asyncio.shield(task)
        return ShareInfo(space_id, host.address, host.fingerprint)

    async def _start_listed(self, space_id: str, port: int) -> HostChild:
        """Start the host of ``space_id`` and list it (one at a time per space)."""
        try:
            host = await self._start_host(space_id, port)
            self.hosts[space_id] = host
            self._down.discard(space_id)
            return host
        finally:
            self._starting.pop(space_id, None)

    async def _start_host(self, space_id: str, port: int) -> HostChild:
        host = HostChild(self.home, space_id, bind=self.bind, port=port, announce=self.announce)
        try:
            await host.start()
        except HostStartError as exc:
            if not port or exc.timed_out:  # a slow machine: another port won't be faster
                raise
            # the remembered port is taken (or refused): any free one
            host = HostChild(self.home, space_id, bind=self.bind, port=0, announce=self.announce)
            await host.start()
        return host

    async def stop_sharing(self, space_id: str) -> None:
        self._down.discard(space_id)
        starting = self._starting.get(space_id)
        if starting is not None:  # stopped while starting: wait for it, then stop it
            await asyncio.wait({starting})
        host = self.hosts.get(space_id)
        if host is not None:
            await host.close()  # kept listed meanwhile: closing the engine waits for it
            if self.hosts.get(space_id) is host:
                del self.hosts[space_id]

    async def invite(self, space_id: str, role: str, expires_ms: int) -> Invite:
        host = self.hosts.get(space_id)
        if host is None:
            raise ValidationError("share the space first")
        return admin.make_invite(self.studio, space_id, role, expires_ms, host.address)

    async def people(self, space_id: str) -> list[Person]:
        """The devices, online or not (asked every second while sharing: a host process
        that died is started again here, on its port, at most every RESTART_S)."""
        host = self.hosts.get(space_id)
        live: dict[str, Member] = {}
        if host is not None and not host.alive and (not host.closing or space_id in self._down):
            await self._restart(space_id, host)
            host = self.hosts.get(space_id)
        if host is not None:
            live = {m.device_id: m for m in host.members()}
        devices = admin.devices(self.studio, space_id)  # small reads, on this loop's thread
        out = []
        for d in devices:
            m = live.get(d.id)
            out.append(
                Person(
                    d,
                    m is not None,
                    m.presence.viewing if m else None,
                    m.presence.selection if m else (),
                )
            )
        return out

    async def _restart(self, space_id: str, dead: HostChild) -> None:
        now = self.loop.time()
        if space_id in self._restarting:  # a slow start outlasts RESTART_S: not a second one
            return
        if now - self._restarted.get(space_id, -RESTART_S) < RESTART_S:
            return
        self._restarted[space_id] = now
        task = asyncio.current_task()
        assert task is not None
        self._restarting[space_id] = task
        try:
            await self._restart_now(space_id, dead)
        finally:
            self._restarting.pop(space_id, None)

    async def _restart_now(self, space_id: str, dead: HostChild) -> None:
        log.warning("the sharing process of %s ended; starting it again", space_id)
        await dead.close()
        try:
            host = await self._start_host(space_id, dead.port)
        except (StudioError, OSError) as exc:  # tried again at the next poll, RESTART_S on
            log.warning("could not start sharing %s again: %s", space_id, exc)
            if self.hosts.get(space_id) is dead:
                self._down.add(space_id)
            return
        if self.hosts.get(space_id) is dead:
            self.hosts[space_id] = host
            self._down.discard(space_id)
        else:  # stopped (or started anew) meanwhile
            await host.close()

    async def revoke(self, space_id: str, device_id: str) -> Device:
        return admin.revoke(self.studio, space_id, device_id)

    # ------------------------------------------------------------------ the LAN
    def browse(
        self, on_change: Callable[[list[Announcement]], None], interfaces: list[str] | None
    ) -> tuple[Browse, Future[None]]:
        """Look for hosts on the LAN (mDNS) on this loop, bounded in time;
        ``on_change`` is called from this loop's thread. Stop with :meth:`stop_browse`."""
        browse = Browse(on_change, interfaces)
        self._browses.add(browse)
        fut = self.call(browse.run())
        fut.add_done_callback(lambda _f: self._browses.discard(browse))
        return browse, fut

    def stop_browse(self, browse: Browse) -> None:
        if not self.loop.is_closed():
            self.loop.call_soon_threadsafe(browse.stop)

    # ------------------------------------------------------------------ joining
    async def join(self, link: str, name: str) -> SpaceEntry:
        return await peer.join(self.studio, link, name, timeout=30)

    async def open_link(
        self,
        slug: str,
        on_state: Callable[[LinkState], None],
        on_refused: Callable[[list[Delivery]], None],
        on_roster: Callable[[list[dict[str, Any]]], None],
        on_media: Callable[[list[Path]], None],
    ) -> None:
        if slug in self.links:
            return
        link = LiveLink(
            self.studio,
            slug,
            on_state=on_state,
            on_refused=on_refused,
            on_roster=on_roster,
            on_media=on_media,
        )
        self.links[slug] = (link, self.loop.create_task(link.run()))

    async def close_link(self, slug: str) -> None:
        got = self.links.pop(slug, None)
        if got is not None:
            got[0].stop()
            await _end(got[1])

    async def send(self, slug: str, commands: list[dict[str, Any]]) -> Sent:
        got = self.links.get(slug)
        if got is None:
            raise ValidationError("this space is not connected to its host")
        return await got[0].send(commands)

    async def travel(self, slug: str, action: str) -> dict[str, Any]:
        got = self.links.get(slug)
        if got is None:
            raise ValidationError("this space is not connected to its host")
        return await got[0].travel(action)

    async def fetch(self, slug: str, variant_id: str) -> Path:
        got = self.links.get(slug)
        if got is None:
            raise ValidationError("this space is not connected to its host")
        return await got[0].fetch(variant_id)

    async def set_presence(self, slug: str, viewing: str | None, selection: list[str]) -> None:
        got = self.links.get(slug)
        if got is not None:
            await got[0].set_presence(viewing, selection)

    async def set_own_presence(self, space_id: str, member: Member | None) -> None:
        """What the app's user selects in a space it hosts: in its peers' rosters."""
        host = self.hosts.get(space_id)
        if host is not None:
            host.set_own_presence(space_id, member)


def remotes(studio: Studio) -> dict[str, tuple[str, str]]:
    """{slug: ("host:port", role)} of the joined spaces (a small read of ``sharing.db``)."""
    folder = studio.paths.home / "sharing"
    if not (folder / "sharing.db").exists():
        return {}
    store = open_sharing(studio)
    try:
        out = {}
        for entry in studio.spaces():
            remote = store.remote(entry.slug)
            if remote is not None:
                out[entry.slug] = (f"{remote.host}:{remote.port}", remote.role)
        return out
    finally:
        store.close()
