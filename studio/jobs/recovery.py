"""Start-up recovery: jobs a dead worker left running go back to the queue."""

from __future__ import annotations

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.space import Space


def recover_jobs(space: Space) -> int:
    """Re-queue running jobs whose lease expired, or every running job when no other
    process has the space open. Returns how many were re-queued or failed."""
    alone = space.alone()
    now = space.clock()
    if alone:
        rows = space.query("SELECT id FROM jobs WHERE status = 'running'")
    else:
        rows = space.query(
            "SELECT id FROM jobs WHERE status = 'running' AND "
            "(lease_expires_at IS NULL OR lease_expires_at < ?)",
            (now,),
        )
    n = 0
    for (job_id,) in rows:
        try:
            space.apply(c.RequeueJob(job_id, "the worker stopped while running it"), Actor.system())
            n += 1
        except StudioError:
            pass
    return n
