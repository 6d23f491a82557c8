"""The peer: joins a shared space, keeps its replica up to date, sends commands.

A peer only ever sends a secret (the invite token once, then its device credential in
the ``Authorization`` header) on a connection pinned to the host's certificate (see
:mod:`studio.sync.tls`). Its replica changes only through
:class:`studio.core.replica.ReplicaWriter`, from the host's frames.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from studio.clock import slugify, unique_slug
from studio.core.errors import (
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StorageError,
    StudioError,
    ValidationError,
)
from studio.core.space import Space
from studio.core.studio import Studio
from studio.store.library import SpaceEntry
from studio.store.sharing import Remote, SharingStore
from studio.sync import media, wire
from studio.sync.home import open_sharing
from studio.sync.media import Download
from studio.sync.session import CONNECT_TIMEOUT, HostError, Session
from studio.sync.tls import check_fingerprint, fetch_certificate

log = logging.getLogger(__name__)


def replica_path(studio: Studio, host_id: str, slug: str) -> Path:
    return studio.paths.home / "remote" / host_id / f"{slug}.db"


def client_id(store: SharingStore) -> str:
    value = store.setting("client_id")
    if value is None:
        value = "c" + secrets.token_hex(8)
        store.set_setting("client_id", value)
    return value


# ---------------------------------------------------------------------------- joining


async def join(studio: Studio, link: str, name: str, *, timeout: float = 30.0) -> SpaceEntry:
    """Join the space an invite link names: pin the host's certificate, redeem the
    token for a device credential, build the replica from a snapshot, and register it
    in the library under a local slug. Returns that entry."""
    invite = wire.Invite.parse(link)
    der = await asyncio.to_thread(fetch_certificate, invite.host, invite.port)
    check_fingerprint(der, invite.fingerprint)  # before any secret is sent
    store = open_sharing(studio)
    try:
        if studio.library.find(invite.space_id) is not None:
            raise ConflictError("this studio already has that space (or a replica of it)")
        chosen: dict[str, str] = {}

        def make_replica(welcome: dict[str, Any]) -> Path:
            if "slug" not in chosen:
                base = slugify(str(welcome.get("slug") or "shared"), fallback="shared")
                chosen["slug"] = unique_slug(
                    base, lambda s: studio.library.slug_taken(s) or store.remote(s) is not None
                )
                host_id = wire.check_id(welcome.get("host_id"), "the host id")
                credential = welcome.get("credential")
                if not isinstance(credential, str) or not credential:
                    raise ValidationError("the host sent no credential for this device")
                store.add_remote(
                    Remote(
                        chosen["slug"],
                        invite.space_id,
                        host_id,
                        invite.host,
                        invite.port,
                        der,
                        wire.check_id(welcome.get("device_id"), "the device id"),
                        credential,
                        str(welcome.get("role")),
                        studio.clock(),
                    )
                )
            return replica_path(studio, str(welcome["host_id"]), chosen["slug"])

        session = await Session.open(
            host=invite.host,
            port=invite.port,
            space_id=invite.space_id,
            cert_der=der,
            headers={wire.INVITE_HEADER: invite.token, wire.DEVICE_NAME_HEADER: name},
            client=client_id(store),
            replica=None,
            make_replica=make_replica,
        )
        try:
            await session.wait_live(timeout)
        finally:
            await session.close()
        if "slug" not in chosen:
            raise StorageError("the host sent no snapshot")
        return register(studio, store, chosen["slug"], str(session.welcome.get("name") or ""))
    finally:
        store.close()


def register(studio: Studio, store: SharingStore, slug: str, name: str) -> SpaceEntry:
    """List a joined replica in the library (once), so every read command works on it."""
    remote = store.remote(slug)
    if remote is None:
        raise StorageError(f"{slug} is not a joined space")
    entry = studio.library.find(slug)
    if entry is not None:
        return entry
    path = replica_path(studio, remote.host_id, slug)
    entry = SpaceEntry(
        id=remote.space_id,
        slug=slug,
        name=name or slug,
        file=str(path.relative_to(studio.paths.home)),
        created_at=studio.clock(),
        last_opened_at=None,
    )
    studio.library.add(entry)
    return entry


def leave(studio: Studio, slug: str) -> int:
    """Leave a joined space: its copy here goes to the trash folder (as a deleted space
    does), its credential and unsent steps are forgotten; the host keeps the space (a
    new invite joins again). Returns how many unsent steps were dropped."""
    store = open_sharing(studio)
    try:
        if store.remote(slug) is None:
            raise ValidationError(f"{slug} is not a space joined from a host")
        studio.delete_space(slug)
        return store.remove_remote(slug)
    finally:
        store.close()


@contextlib.asynccontextmanager
async def session_for(
    studio: Studio, slug: str, store: SharingStore, *, timeout: float = CONNECT_TIMEOUT
) -> Any:
    """A live session of the joined space ``slug`` (its replica brought up to date)."""
    remote = store.remote(slug)
    if remote is None:
        raise ValidationError(f"{slug} is not a space joined from a host")
    path = replica_path(studio, remote.host_id, slug)
    session = await Session.open(
        host=remote.host,
        port=remote.port,
        space_id=remote.space_id,
        cert_der=remote.cert_der,
        headers={wire.AUTHORIZATION: f"Bearer {remote.credential}"},
        client=client_id(store),
        replica=path,
        make_replica=lambda _w: path,
        timeout=timeout,
    )
    try:
        yield session
    finally:
        await session.close()


async def sync(studio: Studio, slug: str, *, timeout: float = 30.0) -> int:
    """Bring the replica ``slug`` up to date; return its seq."""
    store = open_sharing(studio)
    try:
        async with session_for(
            studio, slug, store, timeout=min(timeout, CONNECT_TIMEOUT)
        ) as session:
            await session.wait_live(timeout)
            register(studio, store, slug, str(session.welcome.get("name") or ""))
            _report(slug, await flush(session, store, slug, timeout))
            return session.seq
    finally:
        store.close()


@dataclass(frozen=True, slots=True)
class Delivery:
    """What became of one queued step: the host's result, or its refusal."""

    mutation_id: str
    result: dict[str, Any] | None
    error: StudioError | None


async def flush(session: Session, store: SharingStore, slug: str, timeout: float) -> list[Delivery]:
    """Send the outbox of ``slug``, oldest first, each step once: the host answers a
    re-send of a step it already applied with the first result. An answered step (done
    or refused) leaves the outbox; a cut connection leaves the rest queued."""
    out = []
    for mid, commands, _at in store.outbox(slug):
        try:
            out.append(Delivery(mid, await session.command(commands, mid, timeout), None))
        except HostError as exc:
            out.append(Delivery(mid, None, exc))
        store.answered(mid)
    return out


def _report(slug: str, deliveries: list[Delivery], mine: str | None = None) -> None:
    for d in deliveries:
        if d.error is not None and d.mutation_id != mine:
            log.warning("a queued change to %s was refused by the host: %s", slug, d.error)


async def send(
    studio: Studio,
    slug: str,
    commands: list[dict[str, Any]],
    *,
    timeout: float = 30.0,
    attempts: int = 3,
) -> dict[str, Any]:
    """Send commands to the host as one step and return its result once the replica
    has it. The step is kept in the outbox first, and steps queued earlier go before it;
    a cut connection is retried with the same mutation id, so it is applied once. When
    the host stays out of reach the step stays queued: ``{"queued": True, …}``."""
    wire.check_step(commands)  # never queued: it would be refused on every reconnect
    mid = secrets.token_hex(12)
    store = open_sharing(studio)
    try:
        store.queue(slug, mid, commands, studio.clock())
        last: StudioError | None = None
        for attempt in range(attempts):
            try:
                async with session_for(studio, slug, store) as session:
                    await session.wait_live(timeout)
                    deliveries = await flush(session, store, slug, timeout)
            except StorageError as exc:  # the connection: try again, same mutation id
                last = exc
                await asyncio.sleep(0.2 * (2**attempt))
                continue
            _report(slug, deliveries, mid)
            mine = next(d for d in deliveries if d.mutation_id == mid)
            if mine.error is not None:
                raise mine.error
            assert mine.result is not None
            return mine.result
        return {"queued": True, "mutation_id": mid, "reason": str(last)}
    finally:
        store.close()


async def travel(
    studio: Studio, slug: str, *, undo: bool, timeout: float = 30.0, attempts: int = 3
) -> dict[str, Any]:
    """Undo (or redo) this device's last step in the joined space ``slug`` on its host,
    once, even when a cut connection makes it re-send; returns the host's result once
    the replica holds the step. Needs the host (an undo is not queued)."""
    mid = secrets.token_hex(12)
    store = open_sharing(studio)
    try:
        last: StudioError | None = None
        for attempt in range(attempts):
            try:
                async with session_for(studio, slug, store) as session:
                    await session.wait_live(timeout)
                    return await session.travel("undo" if undo else "redo", mid, timeout)
            except StorageError as exc:
                last = exc
                await asyncio.sleep(0.2 * (2**attempt))
        assert last is not None
        raise last
    finally:
        store.close()


def missing_media(
    space: Space, variant_ids: list[str] | None, what: str, skip: frozenset[str] = frozenset()
) -> list[tuple[str, Path]]:
    """(variant id, destination) of the files to fetch: ``what`` of each of
    ``variant_ids`` (refetched even when present), or of every live variant that names
    one and lacks it here (None), except ``skip``."""
    ids = variant_ids if variant_ids is not None else [v.id for v in space.all_variants()]
    wanted: list[tuple[str, Path]] = []
    for vid in ids:
        if vid in skip:
            continue
        try:
            rel, _sha = media.relative_path(space, vid, what)
        except NotFoundError:
            if variant_ids is not None:
                raise
            continue
        dest = space.media_dir / rel
        if variant_ids is not None or not dest.exists():
            wanted.append((vid, dest))
    return wanted


async def fetch_media(
    studio: Studio,
    slug: str,
    variant_ids: list[str] | None,
    what: str = "original",
    *,
    timeout: float = 120.0,
) -> list[Download]:
    """Fetch files of the joined space ``slug`` from its host into the replica's media
    folder, at the paths the rows name (see :func:`missing_media`). Each is verified by
    sha256; a cut download resumes next time."""
    with studio.open_space(slug) as space:
        wanted = missing_media(space, variant_ids, what)
    if not wanted:
        return []
    store = open_sharing(studio)
    try:
        async with session_for(studio, slug, store) as session:
            await session.wait_live(timeout)
            return [await session.fetch(vid, what, dest, timeout) for vid, dest in wanted]
    finally:
        store.close()


BACKOFF_FIRST_S = 0.5
BACKOFF_MAX_S = 30.0


async def follow(
    studio: Studio,
    slug: str,
    stop: asyncio.Event,
    *,
    thumbs: bool = True,
    on_live: Callable[[int], None] | None = None,
    on_retry: Callable[[StudioError], None] | None = None,
) -> None:
    """Keep the replica ``slug`` live until ``stop``: apply the host's steps as they
    come, fetch thumbnails of new variants eagerly (``thumbs``), send the outbox on each
    reconnect, and reconnect after a cut with jittered exponential backoff (so twenty
    peers of a restarted host do not come back in one burst). A revoked device ends it
    (PermissionDeniedError)."""
    delay = BACKOFF_FIRST_S
    store = open_sharing(studio)
    try:
        while not stop.is_set():
            try:
                async with session_for(studio, slug, store) as session:
                    await session.wait_live(30)
                    _report(slug, await flush(session, store, slug, 30))
                    delay = BACKOFF_FIRST_S
                    if on_live is not None:
                        on_live(session.seq)
                    await _stay(studio, slug, session, stop, thumbs)
                    if stop.is_set():
                        return
                    if isinstance(session.failure, PermissionDeniedError):
                        raise session.failure
            except PermissionDeniedError:
                raise
            except StorageError as exc:
                if on_retry is not None:
                    on_retry(exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay * random.uniform(0.5, 1.5))
            delay = min(BACKOFF_MAX_S, delay * 2)
    finally:
        store.close()


async def _stay(
    studio: Studio, slug: str, session: Session, stop: asyncio.Event, thumbs: bool
) -> None:
    """Until the connection ends or ``stop``: after each step, fetch missing thumbnails
    (one the host lacks is not asked for again on this connection)."""
    assert session._task is not None
    skip: set[str] = set()
    with studio.open_space(slug) as space:
        while not stop.is_set() and not session._task.done():
            if thumbs:
                for vid, dest in missing_media(space, None, "thumb", frozenset(skip)):
                    try:
                        await session.fetch(vid, "thumb", dest, 60)
                    except HostError as exc:
                        skip.add(vid)
                        log.warning("no thumbnail of %s from the host: %s", vid, exc)
            session.advanced.clear()
            waits = {
                asyncio.ensure_future(stop.wait()),
                asyncio.ensure_future(session.advanced.wait()),
            }
            await asyncio.wait({*waits, session._task}, return_when="FIRST_COMPLETED")
            for w in waits:
                w.cancel()
