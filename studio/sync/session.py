"""One connection of a peer to its host, for one space: the hello, the welcome, the
host's frames applied to the replica, commands answered (see docs/sharing.md)."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import secrets
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from studio.core.errors import (
    ErrorCode,
    PermissionDeniedError,
    StorageError,
    StudioError,
    ValidationError,
)
from studio.core.protocol import PROTOCOL_VERSION
from studio.core.replica import ReplicaOutdated, ReplicaWriter, StepImage, install_snapshot
from studio.store.schema import SPACE_MIGRATIONS
from studio.sync import media, wire
from studio.sync.media import Download
from studio.sync.tls import pinned_context

CONNECT_TIMEOUT = 5.0
MAX_SNAPSHOT_BYTES = 64 << 30

log = logging.getLogger(__name__)


INLINE_STEPS = 4
INLINE_ROWS = 64
"""Steps a session applies on its own loop (live updates); bigger batches go to a thread."""


class HostError(StudioError):
    """The host refused or answered with an error (its code kept)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.remote_code = code


_CODES = {c.value: c for c in ErrorCode}


def _error_from(data: Any) -> StudioError:
    if not isinstance(data, dict):
        return HostError("UNKNOWN", "the host refused the command")
    code = str(data.get("code", "UNKNOWN"))
    message = str(data.get("message", "the host refused the command"))[:2000]
    err = HostError(code, message)
    if code in _CODES:
        err.code = _CODES[code]
    return err


async def _open(
    host: str,
    port: int,
    space_id: str,
    cert_der: bytes,
    headers: dict[str, str],
    timeout: float = CONNECT_TIMEOUT,
) -> ClientConnection:
    try:
        return await connect(
            f"wss://{host}:{port}/{space_id}"
            if ":" not in host
            else f"wss://[{host}]:{port}/{space_id}",
            ssl=pinned_context(cert_der),
            additional_headers=headers,
            max_size=wire.PEER_MAX_FRAME,
            compression=None,
            proxy=None,
            open_timeout=timeout,
            user_agent_header=None,
        )
    except InvalidStatus as exc:
        status = exc.response.status_code
        if status in (401, 403):
            raise PermissionDeniedError(
                f"the host refused this device (HTTP {status}): the invite is used or expired, "
                "or the device was revoked"
            ) from None
        if status == 404:
            raise StorageError("the host does not share that space (any more)") from None
        raise StorageError(f"the host refused the connection (HTTP {status})") from None
    except (OSError, TimeoutError, InvalidURI) as exc:
        raise StorageError(f"could not reach the host {host}:{port}: {exc}") from exc
    except Exception as exc:  # a TLS failure is an ssl.SSLError (an OSError) or wrapped
        raise StorageError(f"could not connect to the host {host}:{port}: {exc}") from exc


@dataclass(eq=False)
class Session:
    """One connection of a peer to its host, for one space."""

    ws: ClientConnection
    welcome: dict[str, Any]
    writer: ReplicaWriter | None
    make_replica: Callable[[dict[str, Any]], Path]
    space_id: str
    seq: int = -1
    live: asyncio.Event = field(default_factory=asyncio.Event)
    advanced: asyncio.Event = field(default_factory=asyncio.Event)
    results: dict[str, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    failure: StudioError | None = None
    presence: list[dict[str, Any]] = field(default_factory=list)
    """The latest roster: who is connected, viewing and selecting what (ephemeral)."""
    roster_changed: asyncio.Event = field(default_factory=asyncio.Event)
    downloads: dict[str, tuple[Download, asyncio.Future[Download]]] = field(default_factory=dict)
    _task: asyncio.Task[None] | None = None

    @classmethod
    async def open(
        cls,
        *,
        host: str,
        port: int,
        space_id: str,
        cert_der: bytes,
        headers: dict[str, str],
        client: str,
        replica: Path | None,
        make_replica: Callable[[dict[str, Any]], Path],
        timeout: float = CONNECT_TIMEOUT,
    ) -> Session:
        writer = None
        if replica is not None and replica.exists():
            try:
                writer = ReplicaWriter(replica)
            except ReplicaOutdated:  # an older version's copy: joined again from a snapshot
                log.info(
                    "the copy %s is from an older version: a new snapshot replaces it", replica.name
                )
        last, mark = (writer.last_seq(), writer.last_mark()) if writer else (-1, None)
        try:
            ws = await _open(host, port, space_id, cert_der, headers, timeout)
        except BaseException:
            if writer is not None:
                writer.close()
            raise
        try:
            await ws.send(
                wire.encode(
                    "hello",
                    protocol=wire.SYNC_PROTOCOL,
                    schema=SPACE_MIGRATIONS[-1].version,
                    events=PROTOCOL_VERSION,
                    space_id=space_id,
                    last_seq=last,
                    last_mark=mark,
                    client_id=client,
                )
            )
            welcome = wire.decode(await asyncio.wait_for(ws.recv(), timeout))
        except BaseException:
            if writer is not None:
                writer.close()
            await ws.close()
            raise
        if welcome.get("type") == "error":
            await ws.close()
            raise HostError(str(welcome.get("code")), str(welcome.get("message"))[:2000])
        if welcome.get("type") != "welcome" or welcome.get("space_id") != space_id:
            await ws.close()
            raise ValidationError("the host answered with something other than a welcome")
        session = cls(ws, welcome, writer, make_replica, space_id, seq=last)
        session._task = asyncio.get_running_loop().create_task(session._receive())
        return session

    async def close(self) -> None:
        await self.ws.close()
        if self._task is not None:
            with contextlib.suppress(BaseException):
                await self._task
        if self.writer is not None:
            self.writer.close()
            self.writer = None

    async def _receive(self) -> None:
        try:
            while True:
                frame = await self.ws.recv()
                if isinstance(frame, bytes):  # a tagged media chunk
                    rid, data = media.untag(frame)
                    got = self.downloads.get(rid)
                    if got is None:
                        raise ValidationError("the host sent media nobody asked for")
                    await asyncio.to_thread(got[0].write, data)
                    continue
                msg = wire.decode(frame)
                kind = msg["type"]
                if kind == "steps":
                    raw = msg.get("steps")
                    if not isinstance(raw, list) or not raw:
                        raise ValidationError("the host sent an empty list of steps")
                    await self._apply([StepImage.from_json(s) for s in raw])
                elif kind == "snapshot":
                    await self._snapshot(msg)
                elif kind == "live":
                    self.live.set()
                elif kind == "presence":
                    peers = msg.get("peers")
                    if not isinstance(peers, list) or not all(isinstance(p, dict) for p in peers):
                        raise ValidationError("the host sent a roster that is not a list")
                    self.presence = peers
                    self.roster_changed.set()
                elif kind == "result":
                    fut = self.results.pop(str(msg.get("mid")), None)
                    if fut is not None and not fut.done():
                        fut.set_result(msg)
                elif kind in ("media", "media_end"):
                    await self._media(kind, msg)
                elif kind == "error":
                    self.failure = HostError(str(msg.get("code")), str(msg.get("message")))
                else:
                    raise ValidationError(f"unknown message {str(kind)[:40]!r} from the host")
        except ConnectionClosed as exc:
            if self.failure is None:
                reason = exc.rcvd.reason if exc.rcvd is not None else ""
                code = exc.rcvd.code if exc.rcvd is not None else None
                if code == wire.CLOSE_REVOKED:
                    self.failure = PermissionDeniedError("the host revoked this device")
                else:
                    self.failure = StorageError(
                        f"the connection to the host closed{': ' + reason if reason else ''}"
                    )
        except StudioError as exc:
            self.failure = exc
            await self.ws.close(wire.CLOSE_MALFORMED, exc.message[:100])
        finally:
            gone = self.failure or StorageError("the connection closed")
            futures: list[asyncio.Future[Any]] = [*self.results.values()]
            futures += [f for _d, f in self.downloads.values()]
            for fut in futures:
                if not fut.done():
                    fut.set_exception(gone)
            self.results.clear()
            self.downloads.clear()
            self.advanced.set()
            self.live.set()  # wake waiters; they check failure

    async def _apply(self, steps: list[StepImage]) -> None:
        if self.writer is None:
            raise StorageError("the host sent a step before this peer had a replica")
        if len(steps) <= INLINE_STEPS and sum(len(s.rows) for s in steps) <= INLINE_ROWS:
            # a live step or two: a short commit, cheaper here than a thread hop
            self.writer.apply_batch(steps)
        else:  # a catch-up batch: off the loop, so frames keep flowing
            await asyncio.to_thread(self.writer.apply_batch, steps)
        self.seq = max(self.seq, steps[-1].last_seq)
        self.advanced.set()

    async def _snapshot(self, head: dict[str, Any]) -> None:
        size, chunks, digest = head.get("size"), head.get("chunks"), head.get("sha256")
        if (
            not isinstance(size, int)
            or not isinstance(chunks, int)
            or not isinstance(digest, str)
            or not 0 < size <= MAX_SNAPSHOT_BYTES
            or not 0 < chunks <= size // wire.SNAPSHOT_CHUNK + 1
        ):
            raise ValidationError("the host announced a snapshot that makes no sense")
        dest = self.make_replica(self.welcome)
        dest.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=dest.parent, suffix=".snapshot", delete=False) as f:
            tmp = Path(f.name)
            try:
                got = hashlib.sha256()
                total = 0
                for _ in range(chunks):
                    frame = await self.ws.recv()
                    if not isinstance(frame, bytes):
                        raise ValidationError("the snapshot was cut by a message")
                    d = zlib.decompressobj()
                    data = d.decompress(frame, wire.SNAPSHOT_CHUNK + 1)
                    if len(data) > wire.SNAPSHOT_CHUNK or d.unconsumed_tail:
                        raise ValidationError("a snapshot chunk is larger than announced")
                    total += len(data)
                    got.update(data)
                    f.write(data)
                f.flush()
            except BaseException:
                tmp.unlink(missing_ok=True)
                raise
        try:
            if total != size or got.hexdigest() != digest:
                raise StorageError("the snapshot from the host arrived damaged")
            if self.writer is not None:
                self.writer.close()
                self.writer = None
            seq = await asyncio.to_thread(
                install_snapshot,
                tmp,
                dest,
                space_id=self.space_id,
                host=str(self.welcome.get("host_id")),
            )
        finally:
            tmp.unlink(missing_ok=True)
        self.writer = ReplicaWriter(dest)
        self.seq = seq
        self.advanced.set()

    async def wait_live(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.live.wait(), timeout)
        except TimeoutError:
            raise StorageError("the host did not bring this replica up to date in time") from None
        if self.failure is not None:
            raise self.failure

    async def wait_seq(self, seq: int, timeout: float) -> None:
        loop = asyncio.get_running_loop()
        end = loop.time() + timeout
        while self.seq < seq:
            if self.failure is not None:
                raise self.failure
            left = end - loop.time()
            if left <= 0:
                raise StorageError("the host applied the change but did not send it back in time")
            self.advanced.clear()
            # asyncio.timeout, not wait_for: no task per wait (a host's step wakes
            # every waiter of every session)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(left):
                    await self.advanced.wait()

    async def _media(self, kind: str, msg: dict[str, Any]) -> None:
        got = self.downloads.get(str(msg.get("rid")))
        if got is None:
            raise ValidationError("the host sent media nobody asked for")
        download, fut = got
        if kind == "media" and "error" in msg:
            self.downloads.pop(str(msg.get("rid")), None)
            fut.set_exception(_error_from(msg["error"]))
        elif kind == "media":
            download.start(msg.get("size"), msg.get("sha256"))
        else:
            self.downloads.pop(str(msg.get("rid")), None)
            try:
                await asyncio.to_thread(download.finish)
            except StudioError as exc:
                fut.set_exception(exc)
            else:
                fut.set_result(download)

    async def fetch(self, variant_id: str, what: str, dest: Path, timeout: float) -> Download:
        """Fetch a variant's file (original, thumb, poster) to ``dest``, resuming a cut
        download, verified by size and sha256. Returns the finished download."""
        if self.failure is not None:
            raise self.failure
        download = Download(dest)
        offset = await asyncio.to_thread(download.resume_from)
        rid = secrets.token_hex(media.RID_BYTES // 2)
        fut: asyncio.Future[Download] = asyncio.get_running_loop().create_future()
        self.downloads[rid] = (download, fut)
        await self.ws.send(
            wire.encode("fetch", rid=rid, variant_id=variant_id, what=what, offset=offset)
        )
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            self.downloads.pop(rid, None)
            raise StorageError("the host did not send the file in time") from None

    async def set_presence(self, viewing: str | None, selection: list[str]) -> None:
        """Tell the host what this peer is viewing and has selected (ephemeral)."""
        await self.ws.send(wire.encode("presence", viewing=viewing, selection=selection))

    async def command(
        self, commands: list[dict[str, Any]], mid: str, timeout: float
    ) -> dict[str, Any]:
        """Send commands as one step; return the host's result once this replica holds
        the step. A refused step raises the host's error as a StudioError."""
        return await self._request(wire.encode("command", mid=mid, commands=commands), mid, timeout)

    async def travel(self, action: str, mid: str, timeout: float) -> dict[str, Any]:
        """Undo or redo this device's last step on the host (``action``: undo, redo),
        as :meth:`command`."""
        return await self._request(wire.encode("travel", mid=mid, action=action), mid, timeout)

    async def _request(self, frame: str, mid: str, timeout: float) -> dict[str, Any]:
        if self.failure is not None:
            raise self.failure
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self.results[mid] = fut
        await self.ws.send(frame)
        try:
            msg = await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise StorageError("the host did not answer in time") from None
        if "error" in msg:
            raise _error_from(msg["error"])
        seqs = msg.get("seqs")
        if isinstance(seqs, list) and seqs and all(isinstance(s, int) for s in seqs):
            await self.wait_seq(max(seqs), timeout)
        return msg
