"""The host: serves open spaces to peers over pinned TLS websockets (see docs/sharing.md).

Per shared space, one watcher notices commits from any process (``PRAGMA
data_version`` on a read connection of its own) and wakes the peers. Each peer has a
*pull* sender: it reads the steps after its own cursor (memoised per file version, so
fifty peers at the same seq cost one read) and sends them, so catch-up and live updates
are one code path, and a slow peer never holds up the others — it only falls behind,
and is dropped (it resyncs on reconnect) when a frame waits longer than
``send_timeout`` for it. Nothing is queued per peer beyond websockets' write buffer.

Commands from a peer go through the door (:func:`studio.core.replica.apply_once`) with
the peer's actor and role, and are answered with their seqs or a typed error.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import tempfile
import time
import weakref
import zlib
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from studio.core.actor import Actor, Role
from studio.core.commands import command_from_json
from studio.core.errors import StudioError, ValidationError
from studio.core.protocol import PROTOCOL_VERSION
from studio.core.replica_host import StepSource, apply_once, prune, travel_once
from studio.core.space import MAX_STEP_COMMANDS
from studio.core.studio import Studio
from studio.store.schema import SPACE_MIGRATIONS
from studio.store.sharing import Device, InviteRefused, SharingStore
from studio.sync import media, wire
from studio.sync.home import (
    allowed_hosts,
    host_allowed,
    lan_address,
    open_sharing,
    sharing_folder,
)
from studio.sync.jobs import JobRunner
from studio.sync.presence import INTERVAL_S, Presence, roster
from studio.sync.served import Admission, Peer, Served
from studio.sync.tls import HostCertificate, host_certificate

log = logging.getLogger(__name__)

SEEN_EVERY_S = 10.0
"""How often a host records that its connected devices are still there."""

MAX_FETCHES = 4
"""Files one connection may be receiving at once."""

SCHEMA_VERSION = SPACE_MIGRATIONS[-1].version


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
    ) -> None:
        """``jobs``: also run the shared spaces' generation jobs (``studio serve`` does;
        the app runs its own scheduler)."""
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
                self._served[space.id] = Served(space, source, reader)
            self._server = await serve(
                self._handle,
                self._bind,
                self._port,
                ssl=self.cert.server_context(),
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
        address = f"{self.address_host}:{self.port}"
        self.store.set_setting("serve_address", address)
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

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)
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
            served.reader.submit(served.source.close).result()
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
            served.poke.clear()
            try:
                changed = await served.read(served.source.changed)
            except Exception:  # a busy file: try again next tick
                log.warning("could not poll %s", served.space.slug, exc_info=True)
                changed = False
            if changed:
                served.version += 1
                served.memo.clear()
                tick, served.tick = served.tick, asyncio.Event()
                tick.set()

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
            frame = wire.encode("presence", peers=roster(p.member() for p in live))
            for peer in live:
                self._spawn(self._send_quietly(peer, frame))

    async def _send_quietly(self, peer: Peer, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self._send(peer, frame)

    # ------------------------------------------------------------------ admission
    async def _admit(self, connection: ServerConnection, request: Request) -> Response | None:
        """Before the upgrade, before any state: Host allow-list (DNS rebinding), no
        browser Origin, a served space, then a device credential or an invite token."""
        headers = request.headers
        if not host_allowed(headers.get("Host"), self._allowed, self.port):
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
        sender: asyncio.Task[None] | None = None
        counted = False
        try:
            hello = wire.decode(await asyncio.wait_for(ws.recv(), self.limits.hello_timeout))
            start = await self._greet(peer, served, admission, hello)
            served.peers.add(peer)
            assert self.store is not None
            await asyncio.to_thread(
                self.store.seen, [device.id], self.studio.clock(), connections=1
            )
            counted = True
            sender = asyncio.get_running_loop().create_task(self._send_steps(peer, served, start))
            async for frame in ws:
                await self._on_frame(peer, served, frame)
        except ValidationError as exc:
            with contextlib.suppress(ConnectionClosed):
                await ws.send(wire.encode("error", code="MALFORMED", message=exc.message))
            await ws.close(wire.CLOSE_MALFORMED, exc.message[:100])
        except (ConnectionClosed, TimeoutError):
            pass
        finally:
            served.peers.discard(peer)
            served.roster_changed.set()
            if counted and self.store is not None:
                with contextlib.suppress(StudioError):
                    self.store.seen([device.id], self.studio.clock(), connections=-1)
            if sender is not None:
                sender.cancel()
                with contextlib.suppress(BaseException):
                    await sender

    async def _greet(
        self, peer: Peer, served: Served, admission: Admission, hello: dict[str, Any]
    ) -> int | None:
        """Check the hello, send the welcome; return the seq to send steps after (None:
        the peer needs a snapshot)."""
        if hello.get("type") != "hello":
            raise ValidationError("the first message must be a hello")
        versions = (hello.get("protocol"), hello.get("schema"), hello.get("events"))
        if versions != (wire.SYNC_PROTOCOL, SCHEMA_VERSION, PROTOCOL_VERSION):
            await peer.ws.send(
                wire.encode(
                    "error",
                    code="VERSION",
                    message="this host runs another version of Forge Studio: update both",
                )
            )
            await peer.ws.close(wire.CLOSE_MALFORMED, "version mismatch")
            raise ConnectionClosed(None, None)
        peer.client_id = wire.check_id(hello.get("client_id"), "the client id")
        last = hello.get("last_seq")
        mark = hello.get("last_mark")
        if not isinstance(last, int) or last < -1 or not (mark is None or isinstance(mark, str)):
            raise ValidationError("the hello's last seq is not a number")
        start: int | None = None
        if hello.get("space_id") == served.space.id and last >= 0:
            covered = await served.read(served.source.covers, last)
            same = last == 0 or await served.read(served.source.mark, last) == mark
            start = last if covered and same else None
        await peer.ws.send(
            wire.encode(
                "welcome",
                protocol=wire.SYNC_PROTOCOL,
                space_id=served.space.id,
                slug=served.space.slug,
                name=self.studio.resolve(served.space.id).name,
                host_id=self.host_id,
                device_id=admission.device.id,
                role=admission.device.role,
                credential=admission.credential,
                snapshot=start is None,
            )
        )
        return start

    async def _send(self, peer: Peer, frame: str | bytes) -> None:
        async with peer.send_lock:
            await self._send_locked(peer, frame)

    async def _send_locked(self, peer: Peer, frame: str | bytes) -> None:
        try:
            await asyncio.wait_for(peer.ws.send(frame), self.limits.send_timeout)
        except TimeoutError:
            log.warning("dropped the slow peer %s", peer.device.name)
            peer.ws.transport.abort()
            raise ConnectionClosed(None, None) from None

    async def _send_steps(self, peer: Peer, served: Served, start: int | None) -> None:
        try:
            cursor = await self._send_snapshot(peer, served) if start is None else start
            live = False
            while True:
                tick = served.tick
                read = await served.steps_after(cursor)
                if read is None:  # too far behind: a snapshot is cheaper
                    cursor = await self._send_snapshot(peer, served)
                    continue
                newest, frame = read
                if frame:
                    await self._send(peer, frame)
                    cursor = newest
                    continue
                if not live:
                    await self._send(peer, wire.encode("live", seq=cursor))
                    live = peer.live = True
                    served.roster_changed.set()
                await tick.wait()
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("sending to %s failed", peer.device.name)
            await peer.ws.close(wire.CLOSE_RESYNC, "the host could not send; resync")

    async def _send_snapshot(self, peer: Peer, served: Served) -> int:
        with tempfile.TemporaryDirectory(prefix="forge-snap-") as tmp:
            path = Path(tmp) / "snapshot.db"
            seq = await served.read(served.source.snapshot, path)
            data = await asyncio.to_thread(path.read_bytes)
        digest = hashlib.sha256(data).hexdigest()
        chunks = [
            data[i : i + wire.SNAPSHOT_CHUNK] for i in range(0, len(data), wire.SNAPSHOT_CHUNK)
        ]
        head = wire.encode("snapshot", seq=seq, size=len(data), sha256=digest, chunks=len(chunks))
        async with peer.send_lock:  # nothing (a result, a roster) between the chunks
            await self._send_locked(peer, head)
            for chunk in chunks:
                await self._send_locked(peer, await asyncio.to_thread(zlib.compress, chunk, 6))
        return int(seq)

    async def _on_frame(self, peer: Peer, served: Served, frame: str | bytes) -> None:
        msg = wire.decode(frame)
        if msg["type"] == "presence":
            peer.presence = Presence.from_message(msg)
            served.roster_changed.set()
            return
        if msg["type"] == "fetch":
            self._fetch(peer, served, msg)
            return
        if msg["type"] not in ("command", "travel"):
            raise ValidationError(f"unknown message {str(msg['type'])[:40]!r}")
        mid = wire.check_id(msg.get("mid"), "the mutation id")
        raw = msg.get("commands")
        action = msg.get("action")
        if msg["type"] == "travel":
            if action not in ("undo", "redo"):
                raise ValidationError("a travel message is an undo or a redo")
        elif not isinstance(raw, list) or not raw or len(raw) > MAX_STEP_COMMANDS:
            raise ValidationError("a command message needs a list of commands")
        if not self._take_token(peer):
            await self._send(
                peer,
                wire.encode(
                    "result",
                    mid=mid,
                    error={"code": "RATE_LIMITED", "message": "too many commands; slow down"},
                ),
            )
            return
        device = peer.device
        actor = Actor(f"peer:{device.id}", device.name, Role(device.role))
        client = f"{device.id}.{peer.client_id}"
        try:
            if msg["type"] == "travel":
                result, _fresh = await asyncio.to_thread(
                    travel_once,
                    served.space,
                    actor,
                    undo=action == "undo",
                    client_id=client,
                    mutation_id=mid,
                )
            else:
                assert isinstance(raw, list)
                cmds = [command_from_json(item) for item in raw]
                result, _fresh = await asyncio.to_thread(
                    apply_once, served.space, cmds, actor, client_id=client, mutation_id=mid
                )
            reply = wire.encode("result", mid=mid, **result)
        except StudioError as exc:
            reply = wire.encode("result", mid=mid, error=exc.to_json())
        await self._send(peer, reply)

    def _fetch(self, peer: Peer, served: Served, msg: dict[str, Any]) -> None:
        """Start sending a file a peer asked for (on its own task: the peer's commands
        and steps go on meanwhile)."""
        rid = wire.check_id(msg.get("rid"), "the media request id")
        variant_id = wire.check_id(msg.get("variant_id"), "the variant id")
        what, offset = msg.get("what"), msg.get("offset", 0)
        if len(rid) > media.RID_BYTES or what not in media.KINDS:
            raise ValidationError("a fetch names a request id and original, thumb or poster")
        if not isinstance(offset, int) or offset < 0:
            raise ValidationError("a fetch's offset is a whole number")
        if not self._take_token(peer) or peer.fetching >= MAX_FETCHES:
            busy = {"code": "RATE_LIMITED", "message": "too many requests; slow down"}
            self._spawn(self._send_quietly(peer, wire.encode("media", rid=rid, error=busy)))
            return
        self._spawn(self._send_media(peer, served, rid, variant_id, str(what), offset))

    async def _send_media(
        self, peer: Peer, served: Served, rid: str, variant_id: str, what: str, offset: int
    ) -> None:
        peer.fetching += 1
        try:

            async def send(frame: str | bytes) -> None:
                await self._send(peer, frame)

            await media.send_file(send, served.space, rid, variant_id, what, offset)
        except (ConnectionClosed, OSError):
            pass
        finally:
            peer.fetching -= 1

    def _take_token(self, peer: Peer) -> bool:
        now = time.monotonic()
        rate, burst = self.limits.commands_per_second, self.limits.command_burst
        peer.tokens = min(float(burst), peer.tokens + (now - peer.refilled) * rate)
        peer.refilled = now
        if peer.tokens < 1:
            return False
        peer.tokens -= 1
        return True
