"""A peer waits for the host to fill in placeholders: generation jobs run on the host
(with its provider keys); the peer follows the replica until each variant it asked for
is completed, failed or deleted (``studio generate --wait`` on a joined space)."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass

from studio.core.errors import NotFoundError, PermissionDeniedError, StorageError, StudioError
from studio.core.space import Space
from studio.core.studio import Studio
from studio.sync.home import open_sharing
from studio.sync.peer import BACKOFF_FIRST_S, BACKOFF_MAX_S, session_for

VARIANT_ENDED = ("completed", "failed")


@dataclass(frozen=True, slots=True)
class VariantOutcome:
    id: str
    status: str
    """``completed``, ``failed`` or ``deleted`` (a variant deleted meanwhile)."""
    error: str | None


def _outcomes(space: Space, variant_ids: list[str]) -> list[VariantOutcome] | None:
    """Each variant's outcome in the replica, or None while one is still a placeholder."""
    out = []
    for vid in variant_ids:
        try:
            detail = space.variant_detail(vid)
        except NotFoundError:
            out.append(VariantOutcome(vid, "deleted", None))
            continue
        if detail.deleted_at is not None:
            out.append(VariantOutcome(vid, "deleted", None))
        elif detail.row.status in VARIANT_ENDED:
            out.append(VariantOutcome(vid, detail.row.status, detail.row.error_message))
        else:
            return None
    return out


async def wait_variants(
    studio: Studio,
    slug: str,
    variant_ids: list[str],
    *,
    timeout: float | None = None,
    on_retry: Callable[[StudioError], None] | None = None,
) -> list[VariantOutcome]:
    """Follow the joined space ``slug`` until the host has filled in (or failed) each of
    ``variant_ids`` — its jobs run on the host — and return their outcomes, read from the
    replica. A cut connection is retried with jittered backoff; a revoked device ends it
    (PermissionDeniedError); ``timeout`` (None: none) ends it with a StorageError."""

    async def run() -> list[VariantOutcome]:
        delay = BACKOFF_FIRST_S
        store = open_sharing(studio)
        try:
            with studio.open_space(slug) as space:
                while True:
                    try:
                        async with session_for(studio, slug, store) as session:
                            await session.wait_live(30)
                            assert session._task is not None
                            delay = BACKOFF_FIRST_S
                            while not session._task.done():
                                session.advanced.clear()  # before the read: no step missed
                                done = _outcomes(space, variant_ids)
                                if done is not None:
                                    return done
                                advanced = asyncio.ensure_future(session.advanced.wait())
                                await asyncio.wait(
                                    {advanced, session._task}, return_when="FIRST_COMPLETED"
                                )
                                advanced.cancel()
                            if session.failure is not None:
                                raise session.failure
                    except PermissionDeniedError:
                        raise
                    except StorageError as exc:
                        if on_retry is not None:
                            on_retry(exc)
                    await asyncio.sleep(delay * random.uniform(0.5, 1.5))
                    delay = min(BACKOFF_MAX_S, delay * 2)
        finally:
            store.close()

    if timeout is None:
        return await run()
    try:
        return await asyncio.wait_for(run(), timeout)
    except TimeoutError:
        raise StorageError(
            f"the host did not finish these variants within {timeout:g} s; "
            f"see `studio show {slug} VARIANT` later"
        ) from None
