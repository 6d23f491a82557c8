"""Checkpoints of a replica's write-ahead log, off the thread that applies steps.

SQLite checkpoints a WAL file on the commit that takes it past 1000 pages, on the
committing connection: it copies the pages into the database and fsyncs both files
(``synchronous = NORMAL`` syncs there and nowhere else), 5–25 ms on these machines. A
replica's writer applies live steps on the peer's event loop, so that commit would hold
up every step, presence frame and command of the peer (and, in the app, every other
shared space on the same loop). The writer's connection therefore never checkpoints
(``wal_autocheckpoint = 0``); after about as many pages, a connection of this module's
own makes a PASSIVE checkpoint on a thread of its own, which neither waits for nor
blocks the writer or any reader. The data is as durable as before: each commit still
goes to the log, and the log is still synced when it is copied. (A replica could even
afford less: it is rebuilt from its host — by steps after its last seq, or by a
snapshot — whatever a crash takes from it.)
"""

from __future__ import annotations

import logging
import sqlite3
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import TYPE_CHECKING

from studio.store.db import connect

if TYPE_CHECKING:
    from studio.core.space import Space

log = logging.getLogger(__name__)

CHECKPOINT_PAGES = 1000
"""About how many pages a replica writes between checkpoints (SQLite's own default)."""


class BackgroundCheckpoints:
    """Checkpoint the WAL of ``path`` on a thread of its own, every ``pages`` pages
    written (as :meth:`wrote` is told). The thread and its connection exist only once a
    checkpoint is due; :meth:`close` waits for one under way."""

    def __init__(self, path: Path, pages: int | None = None) -> None:
        self.path = path
        self.pages = CHECKPOINT_PAGES if pages is None else pages
        self.done = 0
        """Checkpoints made (tests)."""
        self._written = 0
        self._thread: ThreadPoolExecutor | None = None
        self._running: Future[None] | None = None
        self._conn: sqlite3.Connection | None = None

    def wrote(self, pages: int) -> None:
        """``pages`` more went to the log (an estimate: a few per transaction, one per
        row written is plenty); start a checkpoint when due and none is under way."""
        self._written += pages
        if self._written < self.pages or (self._running is not None and not self._running.done()):
            return
        self._written = 0
        if self._thread is None:
            self._thread = ThreadPoolExecutor(1, thread_name_prefix="replica-checkpoint")
        self._running = self._thread.submit(self._checkpoint)

    def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = connect(self.path, mode="rw")
            # PASSIVE: copies what no reader still needs, waits for nobody
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            self.done += 1
        except sqlite3.Error:  # busy, or the file went away: the next one tries again
            log.warning("could not checkpoint the replica %s", self.path.name, exc_info=True)

    def close(self) -> None:
        if self._thread is None:
            return
        self._thread.shutdown(wait=True)
        self._thread = None
        if self._conn is not None:
            self._conn.close()
            self._conn = None


PAGES_PER_STEP = 12
"""About how many pages one step writes on a host (its rows and their indexes, the
change log, the filing, the undo history, the mutation id)."""


def host_checkpoints(space: Space) -> BackgroundCheckpoints | None:
    """Take the automatic checkpoint off the door's commits of the shared ``space``
    (each peer's command waits for its commit) and return the checkpointer that does it
    instead, on a thread of its own; the caller tells it of each commit it sees (about
    :data:`PAGES_PER_STEP` pages each) and gives it to :func:`end_host_checkpoints` when
    it stops sharing. None for a space without a file."""
    path = space.file_path
    if path is None:
        return None
    with space._db.lock:
        space._db.conn.execute("PRAGMA wal_autocheckpoint = 0")
    return BackgroundCheckpoints(path)


def end_host_checkpoints(space: Space, checkpoints: BackgroundCheckpoints | None) -> None:
    """Undo :func:`host_checkpoints`: SQLite checkpoints on the door's commits again."""
    if checkpoints is None:
        return
    checkpoints.close()
    with space._db.lock:
        space._db.conn.execute(f"PRAGMA wal_autocheckpoint = {CHECKPOINT_PAGES}")
