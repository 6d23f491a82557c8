"""The scheduler's bookkeeping writes (claim, complete, fail): every job must end, so
these are retried on storage errors, a failure that still can't be written is kept and
tried again, and :attr:`Books.problem` tells waiters to stop instead of waiting."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StorageError, StudioError
from studio.core.space import Applied, Space

log = logging.getLogger(__name__)
SYSTEM = Actor.system()

WRITE_RETRIES_S = (0.05, 0.2, 0.5)
"""Pauses between tries of a bookkeeping write that failed on storage."""

CLAIM_RETRIES_S = (0.05,)
"""A claim that can't be written leaves its job queued (nothing is lost), and claims
run on the pumping thread (the pump thread, in the app): retry it only briefly."""


class Books:
    def __init__(self, space: Space) -> None:
        self.space = space
        self._lock = threading.Lock()
        self._unrecorded: dict[str, c.FailJob] = {}  # job id -> its failure, to write
        self._problem: str | None = None

    @property
    def problem(self) -> str | None:
        """Why the queue's books can't be written now (a full or read-only disk, a
        deleted space), or None."""
        with self._lock:
            return self._problem

    def report(self, problem: str) -> None:
        with self._lock:
            self._problem = problem

    def write(
        self, cmd: c.Command, what: str, pauses: tuple[float, ...] = WRITE_RETRIES_S
    ) -> Applied | None:
        """Apply ``cmd``, retrying storage errors after each of ``pauses``. Returns None
        when it could not be written (and reports the problem); raises the StudioError
        of a refusal (the job changed meanwhile) and anything unexpected."""
        step = self.write_step([cmd], what, pauses)
        return None if step is None else step[0]

    def write_step(
        self,
        cmds: Sequence[c.Command],
        what: str,
        pauses: tuple[float, ...] = WRITE_RETRIES_S,
    ) -> tuple[Applied, ...] | None:
        """:meth:`write` for several commands applied as ONE door step (all or nothing:
        a refusal of any of them raises and writes none)."""
        error: StorageError | None = None
        for pause in (*pauses, None):
            try:
                applied = self.space.apply_step(cmds, SYSTEM, record=False).applied
            except StorageError as exc:
                error = exc
            else:
                with self._lock:
                    if not self._unrecorded:
                        self._problem = None
                return applied
            if pause is None or self.space.gone():
                break
            time.sleep(pause)
        assert error is not None
        log.error("could not %s: %s", what, error.message)
        self.report(f"could not {what}: {error.message}")
        return None

    def fail(self, cmd: c.FailJob) -> None:
        """Record a run's failure; if it can't be written now, keep it for
        :meth:`retry`."""
        what = f"record the failure of job {cmd.job_id}"
        try:
            applied = self.write(cmd, what)
        except StudioError as exc:  # no longer this run's job: nothing to record
            log.info("job %s: failure not recorded (%s)", cmd.job_id, exc)
            return
        except Exception as exc:  # a bug: keep it, say so, never leave waiters hanging
            log.exception("could not %s", what)
            self.report(f"could not {what}: {exc}")
            applied = None
        if applied is None:
            with self._lock:
                self._unrecorded[cmd.job_id] = cmd

    def retry(self) -> None:
        """Try once more to write every failure kept by :meth:`fail`."""
        with self._lock:
            pending = list(self._unrecorded.values())
        for cmd in pending:
            try:
                self.space.apply(cmd, SYSTEM)
            except StorageError:
                continue
            except StudioError:
                pass  # the job changed meanwhile: nothing left to record
            except Exception:
                log.exception("could not record the failure of job %s", cmd.job_id)
                continue
            with self._lock:
                self._unrecorded.pop(cmd.job_id, None)
                if not self._unrecorded:
                    self._problem = None
