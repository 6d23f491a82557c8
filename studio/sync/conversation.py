"""One admitted peer's connection on the host: the hello and welcome, the pull sender
of steps (or a snapshot), the peer's commands, undo/redo and media requests (see
:mod:`studio.sync.host`, which admits connections and wakes the senders)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import tempfile
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from websockets.exceptions import ConnectionClosed

from studio.core.actor import Actor, Role
from studio.core.commands import command_from_json
from studio.core.errors import ErrorCode, StudioError, ValidationError
from studio.core.protocol import PROTOCOL_VERSION
from studio.core.replica_host import StepSource, apply_once, travel_once
from studio.store.schema import SPACE_MIGRATIONS
from studio.sync import media, wire
from studio.sync.presence import Presence
from studio.sync.served import Admission, Peer, Served

if TYPE_CHECKING:
    from studio.sync.host import HostLimits

log = logging.getLogger(__name__)

MAX_FETCHES = 4
"""Files one connection may be receiving at once."""

SCHEMA_VERSION = SPACE_MIGRATIONS[-1].version


def snapshot_of(path: Path, dest: Path) -> int:
    """A consistent copy of the space file at ``path`` in ``dest``, on a connection of
    its own: a large space's snapshot never holds up the reads that feed live peers."""
    with StepSource(path) as source:
        return source.snapshot(dest)


@dataclass(frozen=True, slots=True)
class HostContext:
    """What a conversation needs of its host."""

    limits: HostLimits
    host_id: str
    space_name: Callable[[str], str]
    spawn: Callable[[Any], None]


class Conversation:
    def __init__(self, host: HostContext, peer: Peer, served: Served) -> None:
        self.host = host
        self.peer = peer
        self.served = served

    async def greet(self, admission: Admission, hello: dict[str, Any]) -> int | None:
        """Check the hello, send the welcome; return the seq to send steps after (None:
        the peer needs a snapshot)."""
        peer, served = self.peer, self.served
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
                name=self.host.space_name(served.space.id),
                host_id=self.host.host_id,
                device_id=admission.device.id,
                role=admission.device.role,
                credential=admission.credential,
                snapshot=start is None,
            )
        )
        return start

    # ------------------------------------------------------------------ sending
    async def send(self, frame: str | bytes) -> None:
        async with self.peer.send_lock:
            await self._send_locked(frame)

    async def send_quietly(self, frame: str) -> None:
        with contextlib.suppress(ConnectionClosed):
            await self.send(frame)

    async def _send_locked(self, frame: str | bytes) -> None:
        if isinstance(frame, str) and wire.write_now(self.peer.ws, frame):
            return
        try:
            async with asyncio.timeout(self.host.limits.send_timeout):  # no task per frame
                await self.peer.ws.send(frame)
        except TimeoutError:
            log.warning("dropped the slow peer %s", self.peer.device.name)
            self.peer.ws.transport.abort()
            raise ConnectionClosed(None, None) from None

    async def send_steps(self, start: int | None) -> None:
        """The pull sender: a snapshot when needed, then every step after the cursor,
        then ``live`` and each new step the watcher sees (written by the watcher
        itself while this sender is parked, see :meth:`_park`)."""
        peer, served = self.peer, self.served
        try:
            cursor = await self._send_snapshot() if start is None else start
            live = False
            while True:
                version = served.version
                read = await served.steps_after(cursor, live=live)
                if read is None:  # too far behind: a snapshot is cheaper
                    cursor = await self._send_snapshot()
                    continue
                newest, frame = read
                if frame:
                    await self.send(frame)
                    cursor = newest
                    if live:
                        # that read saw every commit the watcher had seen at ``version``:
                        # no need to ask the file again before the next one
                        cursor = await self._park(cursor, version)
                    continue
                if not live:
                    await self.send(wire.encode("live", seq=cursor))
                    live = peer.live = True
                    served.roster_changed.set()
                cursor = await self._park(cursor, version)
        except ConnectionClosed:
            pass
        except Exception:
            log.exception("sending to %s failed", peer.device.name)
            await peer.ws.close(wire.CLOSE_RESYNC, "the host could not send; resync")

    async def _park(self, cursor: int, version: int) -> int:
        """Wait for the next commit the watcher sees after ``version`` (at once if it
        saw one already); return the cursor then. While parked, the watcher itself
        writes each new step to this peer when it can (:meth:`Served.fan_out`) and
        wakes it only when it cannot."""
        peer, served = self.peer, self.served
        if served.version != version:
            return cursor
        peer.sent_seq = cursor
        peer.wake.clear()
        served.parked.add(peer)
        try:
            await peer.wake.wait()
        finally:
            served.parked.discard(peer)
        return peer.sent_seq

    async def _send_snapshot(self) -> int:
        path = self.served.space.file_path
        assert path is not None  # the host shares only spaces with files
        with tempfile.TemporaryDirectory(prefix="forge-snap-") as tmp:
            dest = Path(tmp) / "snapshot.db"
            seq = await asyncio.to_thread(snapshot_of, path, dest)
            data = await asyncio.to_thread(dest.read_bytes)
        digest = hashlib.sha256(data).hexdigest()
        chunks = [
            data[i : i + wire.SNAPSHOT_CHUNK] for i in range(0, len(data), wire.SNAPSHOT_CHUNK)
        ]
        head = wire.encode("snapshot", seq=seq, size=len(data), sha256=digest, chunks=len(chunks))
        async with self.peer.send_lock:  # nothing (a result, a roster) between the chunks
            await self._send_locked(head)
            for chunk in chunks:
                await self._send_locked(await asyncio.to_thread(zlib.compress, chunk, 6))
        return int(seq)

    # ------------------------------------------------------------------ receiving
    async def on_frame(self, frame: str | bytes) -> None:
        peer, served = self.peer, self.served
        msg = wire.decode(frame)
        if msg["type"] == "presence":
            peer.presence = Presence.from_message(msg)
            served.roster_changed.set()
            return
        if msg["type"] == "fetch":
            self._fetch(msg)
            return
        if msg["type"] not in ("command", "travel"):
            raise ValidationError(f"unknown message {str(msg['type'])[:40]!r}")
        mid = wire.check_id(msg.get("mid"), "the mutation id")
        raw = msg.get("commands")
        action = msg.get("action")
        if msg["type"] == "travel":
            if action not in ("undo", "redo"):
                raise ValidationError("a travel message is an undo or a redo")
        elif not isinstance(raw, list) or not raw:
            raise ValidationError("a command message needs a list of commands")
        if not self._take_token():
            await self.send(
                wire.encode(
                    "result",
                    mid=mid,
                    error={"code": "RATE_LIMITED", "message": "too many commands; slow down"},
                ),
            )
            return
        if isinstance(raw, list) and msg["type"] == "command" and len(raw) > wire.MAX_PEER_COMMANDS:
            # a valid message, refused: answered (rate-limited like any), not cut
            too_many = {
                "code": ErrorCode.VALIDATION_ERROR.value,
                "message": f"one change may hold at most {wire.MAX_PEER_COMMANDS:,} commands "
                f"on a shared space; this one holds {len(raw):,}",
            }
            await self.send(wire.encode("result", mid=mid, error=too_many))
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
        await self.send(reply)

    def _fetch(self, msg: dict[str, Any]) -> None:
        """Start sending a file the peer asked for (on its own task: the peer's commands
        and steps go on meanwhile)."""
        rid = wire.check_id(msg.get("rid"), "the media request id")
        variant_id = wire.check_id(msg.get("variant_id"), "the variant id")
        what, offset = msg.get("what"), msg.get("offset", 0)
        if len(rid) > media.RID_BYTES or what not in media.KINDS:
            raise ValidationError("a fetch names a request id and original, thumb or poster")
        if not isinstance(offset, int) or offset < 0:
            raise ValidationError("a fetch's offset is a whole number")
        if not self._take_token() or self.peer.fetching >= MAX_FETCHES:
            busy = {"code": "RATE_LIMITED", "message": "too many requests; slow down"}
            self.host.spawn(self.send_quietly(wire.encode("media", rid=rid, error=busy)))
            return
        self.host.spawn(self._send_media(rid, variant_id, str(what), offset))

    async def _send_media(self, rid: str, variant_id: str, what: str, offset: int) -> None:
        self.peer.fetching += 1
        try:
            await media.send_file(self.send, self.served.space, rid, variant_id, what, offset)
        except (ConnectionClosed, OSError):
            pass
        finally:
            self.peer.fetching -= 1

    def _take_token(self) -> bool:
        peer, limits = self.peer, self.host.limits
        now = time.monotonic()
        rate, burst = limits.commands_per_second, limits.command_burst
        peer.tokens = min(float(burst), peer.tokens + (now - peer.refilled) * rate)
        peer.refilled = now
        if peer.tokens < 1:
            return False
        peer.tokens -= 1
        return True
