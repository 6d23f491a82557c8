"""Recovery: jobs whose worker died go back to the queue.

The rule (ownership decides, never a guess):

- A running job records its owner, the holder id of the process that claimed it
  (``lease_owner``; see :mod:`studio.core.holders`).
- Its owner is dead (its lock is free, or it is not a holder id at all): the job is
  orphaned and goes back to the queue at once, whatever its lease says.
- Its owner is alive: the job is left alone, even with an expired lease: the owner may
  just be slow to renew (a suspended laptop, a stalled disk). Only a lease expired
  more than :data:`STUCK_AFTER_MS` ago counts as stuck. Should the owner still finish
  it afterwards, its ``job:complete`` is refused (the attempt is no longer its own) and
  it deletes only its own staging folder, never the winner's files.
- Where liveness can't be known (no ``flock``), an expired lease decides.
"""

from __future__ import annotations

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.space import Space

STUCK_AFTER_MS = 60 * 60_000
REASON = "the worker stopped while running it"


def orphaned(space: Space, owner: str | None, lease_expires_at: int | None, now: int) -> bool:
    alive = space.holder_alive(owner)
    expired = lease_expires_at is None or lease_expires_at < now
    if alive is None:
        return expired
    if alive:
        return lease_expires_at is not None and lease_expires_at < now - STUCK_AFTER_MS
    return True


def recover_jobs(space: Space) -> int:
    """Re-queue (or fail, after too many attempts) running jobs whose owner is dead.
    Returns how many were re-queued or failed."""
    now = space.clock()
    n = 0
    for job_id, owner, expires in space.read.running_leases():
        if not orphaned(space, owner, expires, now):
            continue
        try:  # only if it is still the same owner's attempt when the requeue commits
            space.apply(c.RequeueJob(job_id, REASON, owner=owner or ""), Actor.system())
            n += 1
        except StudioError:
            pass
    return n
