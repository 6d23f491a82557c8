"""One shared space on the host, and one peer's connection to it: its reader thread, the memoised reads its peers pull,
and the fan-out of each new step to the parked peers (see :mod:`studio.sync.host`)."""

from __future__ import annotations

import asyncio
import functools
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from websockets.asyncio.server import ServerConnection

from studio.core.replica import MAX_STEP_ROWS, StepImage
from studio.core.replica_host import StepSource
from studio.core.replica_wal import BackgroundCheckpoints
from studio.core.space import Space
from studio.store.sharing import Device
from studio.sync import wire
from studio.sync.presence import Member, Presence

INLINE_CHANGES = 8
INLINE_ROWS = 256
"""A read at most this big (a live step or a few) is made on the event loop."""


@dataclass(eq=False)
class Served:
    space: Space
    source: StepSource
    reader: ThreadPoolExecutor
    checkpoints: BackgroundCheckpoints | None = None
    """Checkpoints of the space's log, off the door's commits while it is shared."""
    inline: StepSource | None = None
    """A read connection of its own for small reads on the event loop (never waits for
    a lock); ``source`` is the reader thread's."""
    roster_changed: asyncio.Event = field(default_factory=asyncio.Event)
    poke: asyncio.Event = field(default_factory=asyncio.Event)
    """Set (thread-safely) when this process commits to the space: no polling delay."""
    version: int = 0
    """Bumped (then :meth:`fan_out`) each time the watcher sees a commit."""
    memo: dict[int, tuple[int, str]] = field(default_factory=dict)
    in_flight: dict[tuple[int, int], asyncio.Future[tuple[int, str] | None]] = field(
        default_factory=dict
    )
    """Reads in flight by (seq, the version they started at): the live peers woken by
    one commit join the one read (and its one encoded frame) instead of each making it."""
    peers: set[Peer] = field(default_factory=set)
    parked: set[Peer] = field(default_factory=set)
    """Live peers whose senders wait, with nothing to send, for the next commit: the
    watcher writes the new step to each of them itself (one read, one frame, no task
    woken per peer) and wakes only those it could not serve that way."""

    async def read(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self.reader, fn, *args)

    async def steps_after(self, seq: int, *, live: bool = False) -> tuple[int, str] | None:
        """(newest seq, the ``steps`` frame) of everything after ``seq``; (seq, "") when
        nothing is new; None when a snapshot is cheaper. Memoised per file version.

        ``live``: the caller is a live peer that parks afterwards unless the version
        moved, so it may share a read that started earlier at the same version: any
        commit that read misses is one the watcher has not seen yet, and seeing it wakes
        (or serves) the parked peer. A peer catching up (``studio sync`` waits for
        ``live``) reads afresh."""
        version = self.version
        hit = self.memo.get(seq)
        if hit is not None:
            return hit
        key = (seq, version)
        task = self.in_flight.get(key) if live else None
        if task is None:
            # a task of its own: a waiter that goes (its peer left) never cancels the
            # read the others wait for
            task = asyncio.ensure_future(self._read_frame(seq, version))
            self.in_flight.setdefault(key, task)
            task.add_done_callback(functools.partial(self._read_done, key))
        return await asyncio.shield(task)

    def _read_done(self, key: tuple[int, int], task: asyncio.Future[Any]) -> None:
        if self.in_flight.get(key) is task:
            del self.in_flight[key]
        if not task.cancelled():
            task.exception()  # retrieved here: every waiter that is left raises it

    def read_now(self, seq: int) -> tuple[int, str] | None:
        """:meth:`steps_after` of a live step, read at once on the loop (no await: the
        watcher's fan-out sees no peer move meanwhile); None when the read is not small,
        or there is no loop-side connection (then the peers read it themselves)."""
        hit = self.memo.get(seq)
        if hit is not None:
            return hit
        if self.inline is None:
            return None
        steps = self.inline.small_steps_after(seq, INLINE_CHANGES, INLINE_ROWS)
        return None if steps is None else self._frame_of(seq, steps, self.version)

    def fan_out(self) -> None:
        """After a commit: write the new step to every parked peer at the usual cursor
        whose connection takes it at once (:func:`wire.write_now`); wake the others (a
        peer behind, a full write buffer, a read too big for the loop), which then read
        and send for themselves, the waiting way."""
        parked, self.parked = self.parked, set()
        if not parked:
            return
        seq = Counter(p.sent_seq for p in parked).most_common(1)[0][0]
        try:
            read = self.read_now(seq)
        except Exception:  # the peers' own reads report it
            read = None
        for peer in parked:
            if read is not None and peer.sent_seq == seq and not peer.send_lock.locked():
                newest, frame = read
                if not frame:  # nothing new after all: it keeps waiting
                    self.parked.add(peer)
                    continue
                if wire.write_now(peer.ws, frame):
                    peer.sent_seq = newest
                    self.parked.add(peer)
                    continue
            peer.wake.set()

    async def _read_frame(self, seq: int, version: int) -> tuple[int, str] | None:
        # a live step is small: read here, on the loop; a hop to the reader thread and
        # back cost more (the thread waits for the GIL while the loop sends)
        steps: list[StepImage] | None = None
        if self.inline is not None:
            steps = self.inline.small_steps_after(seq, INLINE_CHANGES, INLINE_ROWS)
        if steps is None:
            # more rows than a peer takes in one read: a snapshot (a step is never split)
            read = functools.partial(self.source.steps_after, max_rows=MAX_STEP_ROWS)
            steps = await self.read(read, seq)
        if steps is None:
            return None
        return self._frame_of(seq, steps, version)

    def _frame_of(self, seq: int, steps: list[StepImage], version: int) -> tuple[int, str] | None:
        """(newest seq, the ``steps`` frame); None when that frame is more than a peer
        takes (:data:`wire.PEER_MAX_FRAME`, e.g. a delete of 40,000 cards): a snapshot."""
        out = (seq, "")
        if steps:
            frame = wire.encode("steps", steps=[s.to_json() for s in steps])
            # (UTF-8: up to 4 bytes a character; encoded only when that could matter)
            if len(frame) * 4 > wire.PEER_MAX_FRAME and len(frame.encode()) > wire.PEER_MAX_FRAME:
                return None
            out = (steps[-1].last_seq, frame)
        # "nothing new" is never kept: the watcher may not have seen a commit yet, and a
        # peer told it is live at an old seq would stop short (``studio sync``)
        if steps and version == self.version:
            if len(self.memo) > 256:
                self.memo.clear()
            self.memo[seq] = out
        return out


@dataclass(frozen=True, slots=True)
class Admission:
    served: Served
    device: Device
    credential: str | None  # only when the device was made from an invite just now


@dataclass(eq=False)
class Peer:
    ws: ServerConnection
    device: Device
    client_id: str = ""
    tokens: float = 0.0
    refilled: float = 0.0
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    live: bool = False
    """Caught up: from now on it gets steps as they commit, and the presence roster."""
    presence: Presence = field(default_factory=Presence)
    fetching: int = 0
    sent_seq: int = 0
    """The last seq sent, while the peer is parked (:attr:`Served.parked`)."""
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    """Set when a parked peer must read and send for itself."""

    def member(self) -> Member:
        return Member(self.device.id, self.device.name, self.device.role, self.presence)
