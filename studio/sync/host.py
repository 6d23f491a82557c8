"""The host: serves open spaces to peers over pinned TLS websockets (see docs/sharing.md).

Per shared space, one watcher notices commits from any process (``PRAGMA
data_version`` on a read connection of its own), reads each new step once and writes
it at once to every live peer waiting for it (:meth:`Served.fan_out`: no task woken
per peer); it wakes the others. Each peer has a *pull* sender: it reads the steps after
its own cursor (memoised per file version, so fifty peers at the same seq cost one
read) and sends them, so catch-up and live updates are one code path; a slow peer
never holds up the others — it only falls behind,
and is dropped (it resyncs on reconnect) when a frame waits longer than
``send_timeout`` for it. Nothing is queued per peer beyond websockets' write buffer.

Commands from a peer go through the door (:func:`studio.core.replica.apply_once`) with
the peer's actor and role, and are answered with their seqs or a typed error.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import time
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from studio.core import replica_wal
from studio.core.errors import StudioError, ValidationError
from studio.core.replica_host import StepSource, prune
from studio.core.studio import Studio
from studio.store.sharing import Device, InviteRefused, SharingStore
from studio.sync import wire
from studio.sync.conversation import Conversation, HostContext
from studio.sync.home import (
    FINGERPRINT_SETTING,
    allowed_hosts,
    host_allowed,
    lan_address,
    open_sharing,
    sharing_folder,
)
from studio.sync.jobs import JobRunner
from studio.sync.presence import INTERVAL_S, Member, roster
from studio.sync.served import Admission, Peer, Served
from studio.sync.tls import HostCertificate, check_fingerprint_text, host_certificate

log = logging.getLogger(__name__)

SEEN_EVERY_S = 10.0
"""How often a host records that its connected devices are still there."""
CLOSE_WAIT_S = 5.0
"""How long closing waits for the peers to answer the close; the connections of those
that do not (a frozen or unplugged machine) are then ended here."""


@dataclass(frozen=True, slots=True)
class ProxyFront:
    """A TLS-terminating reverse proxy in front of this host (docs/sharing.md): peers
    connect to ``address`` (its public HOST:PORT) and pin ``fingerprint`` (the SHA-256
    of the proxy's certificate); this host listens without TLS, on loopback only."""

    address: str
    fingerprint: str

    def __post_init__(self) -> None:
        host, _, port = self.address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValidationError(f"{self.address[:60]!r} is not the proxy's HOST:PORT")
        check_fingerprint_text(self.fingerprint)

    @property
    def name(self) -> str:
        return self.address.rpartition(":")[0].strip("[]").lower()

    @property
    def port(self) -> int:
        return int(self.address.rpartition(":")[2])


def _loopback(bind: str) -> bool:
    if bind == "localhost":
        return True
    try:
        return ipaddress.ip_address(bind).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class HostLimits:
    max_frame: int = wire.HOST_MAX_FRAME
    commands_per_second: float = 20.0
    command_burst: int = 40
    send_timeout: float = 10.0
    """A peer that does not take a frame within this long is dropped (it resyncs)."""
    hello_timeout: float = 10.0
    poll_interval: float = 0.02
    revoke_interval: float = 0.5


class Host:
    """Serve ``refs`` (slugs or ids of spaces in ``studio``) until :meth:`close`."""

    def __init__(
        self,
        studio: Studio,
        refs: Sequence[str],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_hosts: Sequence[str] = (),
        limits: HostLimits | None = None,
        jobs: bool = False,
        proxy: ProxyFront | None = None,
    ) -> None:
        """``jobs``: also run the shared spaces' generation jobs (``studio serve`` does;
        the app runs its own scheduler). ``proxy``: a TLS-terminating proxy in front;
        then this host listens without TLS and only on loopback."""
        if proxy is not None and not _loopback(host):
            raise ValidationError(
                "behind a TLS-terminating proxy the host listens without TLS, so only on "
                "this machine: use --host 127.0.0.1 (the proxy forwards to it)"
            )
        self.proxy = proxy
        self.studio = studio
        self._refs = list(refs)
        self._bind = host
        self._port = port
        self._allow_extra = [h.lower() for h in allow_hosts]
        self.limits = limits or HostLimits()
        self._served: dict[str, Served] = {}
        # admitted before the upgrade, picked up by the handler (gone with a failed one)
        self._admitted: weakref.WeakKeyDictionary[ServerConnection, Admission] = (
            weakref.WeakKeyDictionary()
        )
        self._tasks: set[asyncio.Task[None]] = set()
        self._server: Server | None = None
        self.store: SharingStore | None = None
        self.cert: HostCertificate | None = None
        self.host_id = ""
        self.port = 0
        self._allowed: set[str] = set()
        self._run_jobs = jobs
        self._runners: list[JobRunner] = []
        self._own: dict[str, Member] = {}  # space id -> the host's own person, in rosters

    # ------------------------------------------------------------------ lifecycle
    async def start(self) -> None:
        self.store = open_sharing(self.studio)
        self.host_id = self.store.host_id()
        self.cert = host_certificate(sharing_folder(self.studio))
        try:
            for ref in self._refs:
                if self.store.remote(self.studio.resolve(ref).slug) is not None:
                    raise ValidationError(f"{ref} is a replica: only its host can share it")
                space = self.studio.open_space(ref)
                if space.id in self._served:
                    space.close()
                    continue
                path = space.file_path
                if path is None:  # pragma: no cover - only tests make these
                    raise ValidationError("an in-memory space cannot be shared")
                prune(path, self.studio.clock())  # sharing's records stay bounded
                source = StepSource(path)
                source.changed()
                reader = ThreadPoolExecutor(1, thread_name_prefix=f"share-{space.slug}")
                self._served[space.id] = served = Served(space, source, reader)
                served.inline = StepSource(path, busy_ms=0)
                served.inline.changed()
                served.checkpoints = replica_wal.host_checkpoints(space)
            self._server = await serve(
                self._handle,
                self._bind,
                self._port,
                ssl=None if self.proxy else self.cert.server_context(),
                process_request=self._admit,
                max_size=self.limits.max_frame,
                compression=None,
                server_header=None,
            )
        except BaseException:
            await self.close()
            raise
        sock = next(iter(self._server.sockets))
        self.port = int(sock.getsockname()[1])
        self._allowed = allowed_hosts(self._bind, self._allow_extra)
        self.store.set_setting("serve_address", self.invite_address)
        self.store.set_setting(FINGERPRINT_SETTING, self.proxy.fingerprint if self.proxy else "")
        loop = asyncio.get_running_loop()
        for served in self._served.values():
            poke = served.poke

            def wake(_event: object, poke: asyncio.Event = poke) -> None:
                loop.call_soon_threadsafe(poke.set)

            served.space.subscribe(wake)
            self._spawn(self._watch(served))
            self._spawn(self._presence(served))
            if self._run_jobs:
                runner = JobRunner(self.studio, served.space)
                runner.start()
                self._runners.append(runner)
        self._spawn(self._revocations())

    @property
    def address_host(self) -> str:
        """The address to put in invites: the bound one, or for all interfaces the one
        this machine reaches its LAN by."""
        return lan_address() if self._bind in ("", "0.0.0.0", "::") else self._bind

    @property
    def invite_address(self) -> str:
        """Where peers connect: the proxy's public address, or this host's."""
        return self.proxy.address if self.proxy else f"{self.address_host}:{self.port}"

    @property
    def fingerprint(self) -> str:
        """The certificate peers pin: the proxy's, or this host's own."""
        if self.proxy is not None:
            return self.proxy.fingerprint
        assert self.cert is not None
        return self.cert.fingerprint

    def _host_ok(self, value: str | None) -> bool:
        if host_allowed(value, self._allowed, self.port):
            return True
        if self.proxy is None or not value:
            return False
        # a proxy forwards the public name, with its port or (the scheme's default) none
        name, _, port = value.rpartition(":")
        if not name or not port.isdigit() or "]" in port:
            name, port = value, str(self.proxy.port)
        return name.strip("[]").lower() == self.proxy.name and int(port) == self.proxy.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            try:
                await asyncio.wait_for(self._server.wait_closed(), CLOSE_WAIT_S)
            except TimeoutError:  # a peer that does not answer: its connection ends here
                # every connection, closing ones too (``connections`` leaves those out)
                for conn in getattr(self._server, "all_connections", self._server.connections):
                    conn.transport.abort()
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self._server.wait_closed(), CLOSE_WAIT_S)
            except Exception:  # closing anyway: nothing more to do for the listener
                log.debug("the server did not close cleanly", exc_info=True)
            self._server = None
        for runner in self._runners:  # jobs first: they commit through the spaces
            await asyncio.to_thread(runner.stop)
        self._runners.clear()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(BaseException):
                await task
        for served in self._served.values():
            for read in list(served.in_flight.values()):
                read.cancel()
            served.reader.submit(served.source.close).result()
            if served.inline is not None:
                served.inline.close()
            replica_wal.end_host_checkpoints(served.space, served.checkpoints)
            served.reader.shutdown()
            served.space.close()
        self._served.clear()
        if self.store is not None:
            self.store.close()
            self.store = None

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def peers(self, space_id: str) -> list[Device]:
        served = self._served.get(space_id)
        return [] if served is None else [p.device for p in served.peers]

    def members(self, space_id: str) -> list[Member]:
        """Who is connected and caught up, with what each is viewing and has selected."""
        served = self._served.get(space_id)
        return [] if served is None else [p.member() for p in served.peers if p.live]

    def set_own_presence(self, space_id: str, member: Member | None) -> None:
        """What the person at the host (the app) has selected in ``space_id``: part of
        the roster its peers get (None: not there)."""
        served = self._served.get(space_id)
        if served is None or self._own.get(space_id) == member:
            return
        if member is None:
            self._own.pop(space_id, None)
        else:
            self._own[space_id] = member
        served.roster_changed.set()

    # ------------------------------------------------------------------ watching
    async def _watch(self, served: Served) -> None:
        """Wake the peers of ``served`` whenever anything commits to its file: at once
        for this process's commits (a peer's command), within ``poll_interval`` for
        another process's (the host's CLI, a worker)."""
        while True:
            # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that
            # arrives as the poke fires, and this loop would outlive close()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.limits.poll_interval):
                    await served.poke.wait()
            # this process committed (a peer's command): no need to ask the file
            changed = served.poke.is_set()
            served.poke.clear()
            if not changed:
                try:  # PRAGMA data_version: never waits, so asked here, on the loop
                    changed = (
                        served.inline.changed()
                        if served.inline is not None
                        else await served.read(served.source.changed)
                    )
                except Exception:  # a busy file: try again next tick
                    log.warning("could not poll %s", served.space.slug, exc_info=True)
            if changed:
                if served.checkpoints is not None:  # off the door's commits
                    served.checkpoints.wrote(replica_wal.PAGES_PER_STEP)
                served.version += 1
                served.memo.clear()
                served.fan_out()

    async def _revocations(self) -> None:
        """Close, at once, the connections of devices revoked (by any process); say
        every ``SEEN_EVERY_S`` which devices are still connected (``studio peers``)."""
        assert self.store is not None
        last_seen = time.monotonic()
        while True:
            await asyncio.sleep(self.limits.revoke_interval)
            peers = [p for s in self._served.values() for p in s.peers]
            if peers and time.monotonic() - last_seen > SEEN_EVERY_S:
                last_seen = time.monotonic()
                with contextlib.suppress(StudioError):
                    self.store.seen([p.device.id for p in peers], self.studio.clock())
            try:
                gone = self.store.revoked([p.device.id for p in peers])
            except StudioError:
                continue
            for peer in peers:
                if peer.device.id in gone:
                    await peer.ws.close(wire.CLOSE_REVOKED, "this device was revoked")

    async def _presence(self, served: Served) -> None:
        """Send the roster to every live peer when it changed, at most every
        ``presence.INTERVAL_S``; each send on its own, so a slow peer delays no one."""
        while True:
            await served.roster_changed.wait()
            await asyncio.sleep(INTERVAL_S)
            served.roster_changed.clear()
            live = [p for p in served.peers if p.live]
            own = [m for m in [self._own.get(served.space.id)] if m is not None]
            frame = wire.encode("presence", peers=roster([*own, *(p.member() for p in live)]))
            context = self._context()
            for peer in live:
                self._spawn(Conversation(context, peer, served).send_quietly(frame))

    # ------------------------------------------------------------------ admission
    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Before the upgrade, before any state: Host allow-list (DNS rebinding), no
        browser Origin, a served space, then a device credential or an invite token."""
        headers = request.headers
        if not self._host_ok(headers.get("Host")):
            return connection.respond(HTTPStatus.FORBIDDEN, "Host not allowed\n")
        if "Origin" in headers:
            return connection.respond(HTTPStatus.FORBIDDEN, "browsers may not connect\n")
        served = self._served.get(request.path.lstrip("/").partition("?")[0])
        if served is None:
            return connection.respond(HTTPStatus.NOT_FOUND, "no such shared space\n")
        assert self.store is not None
        now = self.studio.clock()
        auth = headers.get(wire.AUTHORIZATION, "")
        token = headers.get(wire.INVITE_HEADER)
        credential: str | None = None
        if auth.startswith("Bearer ") and token is None:
            device = await asyncio.to_thread(self.store.device_for, auth[7:], served.space.id)
        elif token is not None and not auth:
            raw_name = headers.get(wire.DEVICE_NAME_HEADER) or ""
            name = "".join(ch for ch in raw_name if ch.isprintable()).strip()[:64] or "peer"
            try:
                device, credential = await asyncio.to_thread(
                    self.store.redeem, token, served.space.id, name, now
                )
            except InviteRefused as why:
                log.warning("refused an invite for %s: %s", served.space.slug, why)
                device = None
        else:
            device = None
        if device is None:
            return connection.respond(HTTPStatus.UNAUTHORIZED, "not allowed\n")
        self._admitted[connection] = Admission(served, device, credential)
        return None

    # ------------------------------------------------------------------ a connection
    async def _handle(self, ws: ServerConnection) -> None:
        admission = self._admitted.pop(ws, None)
        if admission is None:  # pragma: no cover - process_request always runs first
            await ws.close(wire.CLOSE_MALFORMED, "not admitted")
            return
        served, device = admission.served, admission.device
        peer = Peer(ws, device, tokens=float(self.limits.command_burst))
        peer.refilled = time.monotonic()
        talk = Conversation(self._context(), peer, served)
        sender: asyncio.Task[None] | None = None
        counted = False
        try:
            hello = wire.decode(await asyncio.wait_for(ws.recv(), self.limits.hello_timeout))
            start = await talk.greet(admission, hello)
            served.peers.add(peer)
            assert self.store is not None
            await asyncio.to_thread(
                self.store.seen, [device.id], self.studio.clock(), connections=1
            )
            counted = True
            sender = asyncio.get_running_loop().create_task(talk.send_steps(start))
            async for frame in ws:
                await talk.on_frame(frame)
        except ValidationError as exc:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(wire.encode("error", code="MALFORMED", message=exc.message))
            await ws.close(wire.CLOSE_MALFORMED, exc.message[:100])
        except (ConnectionClosed, TimeoutError):
            pass
        finally:
            served.peers.discard(peer)
            served.parked.discard(peer)
            served.roster_changed.set()
            if counted and self.store is not None:
                with contextlib.suppress(StudioError):
                    self.store.seen([device.id], self.studio.clock(), connections=-1)
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(BaseException):
                    await sender

    def _context(self) -> HostContext:
        return HostContext(
            self.limits,
            self.host_id,
            lambda space_id: self.studio.resolve(space_id).name,
            self._spawn,
        )
