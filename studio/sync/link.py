"""A peer's lasting link to its host, for an app that has a joined space open: the
replica kept live, the connection's state told as it changes (live, reconnecting with
the time offline), the user's steps sent on the live connection — or kept in the
outbox while offline and sent on reconnect, refusals reported — and presence.

Runs on one asyncio loop (the app's sharing thread); callbacks are called on that loop
and must only hand their news over (the app posts them to the UI thread)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from websockets.exceptions import ConnectionClosed

from studio.core.errors import PermissionDeniedError, StorageError, StudioError
from studio.core.studio import Studio
from studio.sync import wire
from studio.sync.home import open_sharing
from studio.sync.peer import (
    BACKOFF_FIRST_S,
    BACKOFF_MAX_S,
    Delivery,
    flush,
    missing_media,
    session_for,
)
from studio.sync.session import HostError, Session

log = logging.getLogger(__name__)

SEND_TIMEOUT_S = 30.0
FETCH_TIMEOUT_S = 600.0
MEDIA_BATCH = 16
"""Thumbnails fetched before the app is told (it redraws the cards that have them)."""


@dataclass(frozen=True, slots=True)
class LinkState:
    """``state``: connecting, live, offline (reconnecting) or ended (revoked, stopped).
    ``offline_since``: time.monotonic() of the cut (None while live). ``pending``: the
    user's steps waiting in the outbox."""

    state: str
    detail: str = ""
    offline_since: float | None = None
    pending: int = 0
    role: str = ""
    pending_assets: frozenset[str] = frozenset()
    """The assets the waiting steps change (the app marks their cards)."""
    pending_steps: tuple[tuple[dict[str, Any], ...], ...] = ()
    """The waiting steps' commands (JSON form), oldest first: the app shows their
    effect until the host answers (an overlay; the replica changes only from the host)."""


@dataclass(frozen=True, slots=True)
class Refused(Delivery):
    """A refused step with its commands (as queued), so the app can say what it was and
    put the cards it moved back where the replica has them."""

    commands: tuple[dict[str, Any], ...] = ()


def assets_of(commands: Iterable[Any]) -> frozenset[str]:
    """The asset ids a list of commands (their JSON form) names as ``asset_id``, at any
    depth (a move's positions too); bounded by the commands' size."""
    found: set[str] = set()
    todo: list[Any] = list(commands)
    while todo:
        item = todo.pop()
        if isinstance(item, dict):
            aid = item.get("asset_id")
            if isinstance(aid, str):
                found.add(aid)
            todo += [v for v in item.values() if isinstance(v, dict | list)]
        elif isinstance(item, list):
            todo += item
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Sent:
    """What became of a step the user made: applied (``result``), queued while offline,
    or refused (``error``)."""

    mutation_id: str
    result: dict[str, Any] | None = None
    queued: bool = False
    error: StudioError | None = None


class LiveLink:
    """Keep the joined space ``slug`` live until :meth:`stop`."""

    def __init__(
        self,
        studio: Studio,
        slug: str,
        *,
        on_state: Callable[[LinkState], None] = lambda _s: None,
        on_refused: Callable[[list[Delivery]], None] = lambda _d: None,
        on_roster: Callable[[list[dict[str, Any]]], None] = lambda _r: None,
        on_media: Callable[[list[Path]], None] = lambda _p: None,
        thumbs: bool = True,
    ) -> None:
        self.studio = studio
        self.slug = slug
        self._on_state = on_state
        self._on_refused = on_refused
        self._on_roster = on_roster
        self._on_media = on_media
        self._thumbs = thumbs
        self._stop = asyncio.Event()
        self._session: Session | None = None
        self._sending = asyncio.Lock()  # one flush at a time: each step is sent once, in order
        self._presence: tuple[str | None, list[str]] | None = None  # told again on reconnect
        self.state = LinkState("connecting")

    # ------------------------------------------------------------------ the loop
    async def run(self) -> None:
        delay = BACKOFF_FIRST_S
        store = open_sharing(self.studio)
        offline_since: float | None = None
        try:
            self._tell("connecting", "", None, store)  # the steps left waiting (a restart)
            while not self._stop.is_set():
                try:
                    async with session_for(self.studio, self.slug, store) as session:
                        await session.wait_live(30)
                        self._session = session
                        offline_since = None
                        delay = BACKOFF_FIRST_S
                        role = str(session.welcome.get("role") or "")
                        self._tell("live", "", None, store, role)
                        if self._presence is not None:  # a new connection: the host forgot
                            await self.set_presence(*self._presence)
                        await self._flush(session, store)
                        self._tell("live", "", None, store, role)
                        await self._stay(session)
                        self._session = None
                        if isinstance(session.failure, PermissionDeniedError):
                            raise session.failure
                        detail = str(session.failure or "the connection closed")
                except PermissionDeniedError as exc:
                    self._session = None
                    self._tell("ended", exc.message, None, store)
                    return
                except (StudioError, TimeoutError) as exc:  # a cut, a refusal, a bad frame
                    self._session = None
                    detail = str(exc) or "the host did not answer"
                if self._stop.is_set():
                    break
                offline_since = offline_since or time.monotonic()
                self._tell("offline", detail, offline_since, store)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), delay * random.uniform(0.5, 1.5))
                delay = min(BACKOFF_MAX_S, delay * 2)
            self._tell("ended", "stopped", None, store)
        finally:
            self._session = None
            store.close()

    def stop(self) -> None:
        self._stop.set()

    def _tell(
        self, state: str, detail: str, since: float | None, store: Any, role: str = ""
    ) -> None:
        try:
            box = store.outbox(self.slug)
            pending, assets = len(box), assets_of(cmds for _m, cmds, _t in box)
            steps = tuple(tuple(cmds) for _m, cmds, _t in box)
        except StudioError:
            pending, assets = self.state.pending, self.state.pending_assets
            steps = self.state.pending_steps
        role = role or self.state.role
        self.state = LinkState(state, detail, since, pending, role, assets, steps)
        self._on_state(self.state)

    async def _stay(self, session: Session) -> None:
        """Until the connection ends or stop: pass rosters on; fetch thumbnails of new
        variants (one the host lacks is not asked for again on this connection)."""
        assert session._task is not None
        skip: set[str] = set()
        with self.studio.open_space(self.slug) as space:
            while not self._stop.is_set() and not session._task.done():
                if self._thumbs:
                    got: list[Path] = []
                    for vid, dest in missing_media(space, None, "thumb", frozenset(skip)):
                        try:
                            await session.fetch(vid, "thumb", dest, 60)
                            got.append(dest)
                        except HostError as exc:
                            skip.add(vid)
                            log.warning("no thumbnail of %s from the host: %s", vid, exc)
                        except StorageError:
                            break
                        if len(got) >= MEDIA_BATCH:  # the canvas shows them as they come
                            self._on_media(got)
                            got = []
                    if got:
                        self._on_media(got)
                    if session._task.done():
                        return
                if session.roster_changed.is_set():
                    session.roster_changed.clear()
                    self._on_roster(list(session.presence))
                session.advanced.clear()
                waits = {
                    asyncio.ensure_future(self._stop.wait()),
                    asyncio.ensure_future(session.advanced.wait()),
                    asyncio.ensure_future(session.roster_changed.wait()),
                }
                await asyncio.wait({*waits, session._task}, return_when="FIRST_COMPLETED")
                for w in waits:
                    w.cancel()

    async def _flush(self, session: Session, store: Any) -> list[Delivery]:
        async with self._sending:
            queued = {mid: cmds for mid, cmds, _at in store.outbox(self.slug)}
            deliveries = await flush(session, store, self.slug, SEND_TIMEOUT_S)
        self._report(deliveries, queued)
        return deliveries

    def _report(
        self, deliveries: list[Delivery], queued: dict[str, list[Any]], mine: str = ""
    ) -> None:
        """Tell the app of the refused steps (not ``mine``: its sender hears of it)."""
        refused: list[Delivery] = [
            Refused(d.mutation_id, d.result, d.error, tuple(queued.get(d.mutation_id, ())))
            for d in deliveries
            if d.error is not None and d.mutation_id != mine
        ]
        if refused:
            self._on_refused(refused)

    # ------------------------------------------------------------------ the user's steps
    async def send(self, commands: list[dict[str, Any]]) -> Sent:
        """Send one step: kept in the outbox first, so a cut or an offline host loses
        nothing; applied once (the host de-duplicates by mutation id)."""
        wire.check_step(commands)  # never queued: it would be refused on every reconnect
        mid = secrets.token_hex(12)
        store = open_sharing(self.studio)
        try:
            store.queue(self.slug, mid, commands, self.studio.clock())
            session = self._session
            if session is None or session.failure is not None:
                self._tell(self.state.state, self.state.detail, self.state.offline_since, store)
                return Sent(mid, queued=True)
            try:
                async with self._sending:
                    queued = {m: cmds for m, cmds, _at in store.outbox(self.slug)}
                    deliveries = await flush(session, store, self.slug, SEND_TIMEOUT_S)
            except StorageError:  # cut meanwhile: it stays queued, sent on reconnect
                self._tell(self.state.state, self.state.detail, self.state.offline_since, store)
                return Sent(mid, queued=True)
            mine = next((d for d in deliveries if d.mutation_id == mid), None)
            self._report(deliveries, queued, mid)
            if mine is None:  # pragma: no cover - flush sends every queued step
                return Sent(mid, queued=True)
            return Sent(mid, result=mine.result, error=mine.error)
        finally:
            store.close()

    async def travel(self, action: str) -> dict[str, Any]:
        """Undo or redo this device's last step on the host (never queued: an undo
        that waited for a reconnect could undo something else by then)."""
        session = self._session
        if session is None:
            raise StorageError("the host is out of reach: undo and redo wait for it")
        return await session.travel(action, secrets.token_hex(12), SEND_TIMEOUT_S)

    async def fetch(self, variant_id: str, what: str = "original") -> Path:
        """Fetch one file of a variant into the replica's media folder (verified by
        sha256, resumed if cut before); its local path."""
        session = self._session
        if session is None:
            raise StorageError("the host is out of reach: the file comes when it is back")
        with self.studio.open_space(self.slug) as space:
            wanted = missing_media(space, [variant_id], what)
        for vid, dest in wanted:
            await session.fetch(vid, what, dest, FETCH_TIMEOUT_S)
            return dest
        raise StorageError("that variant has no such file")

    async def set_presence(self, viewing: str | None, selection: list[str]) -> None:
        self._presence = (viewing, list(selection))
        session = self._session
        if session is not None and session.failure is None:
            with contextlib.suppress(StorageError, OSError, ConnectionClosed):
                await session.set_presence(viewing, selection[:200])
