"""Rolling backups of a space file: ``<home>/backups/<slug>/<UTC time>-seq<N>.db``.

A backup is taken with SQLite's online backup API on its own read connection (the
space's writer is never blocked), written to a temporary name, checked, fsynced and only
then renamed into place, so a backup file is always whole. The newest
:data:`KEEP_GENERATIONS` are kept; files moved aside by a restore (``replaced-*``) are
never deleted.
"""

from __future__ import annotations

import datetime
import logging
import os
import re
import secrets
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from studio.store.db import DB_FAULTS, SchemaError, check_header, file_uri
from studio.store.schema import SPACE_APPLICATION_ID, SPACE_MIGRATIONS

log = logging.getLogger(__name__)

BACKUP_INTERVAL_MS = 5 * 60 * 1000
"""While a space changes, a new backup at most this often."""
KEEP_GENERATIONS = 5
STALE_TEMP_S = 15 * 60
"""A temporary file older than this is from a backup that died; removed when pruning."""
JOIN_TIMEOUT_S = 120.0
AT_OPEN_DELAY_S = 3.0
"""The backup at open waits this long (or until the studio closes, whichever is first)
so that the space's first load does not compete with it for the disk and the CPU."""

_NAME = re.compile(r"^(\d{8}T\d{6})(\d{3})Z-seq(\d+)\.db$")


class BackupError(Exception):
    """A backup that cannot be taken or is not fit to restore (one readable sentence)."""


@dataclass(frozen=True, slots=True)
class BackupInfo:
    name: str
    path: Path
    at_ms: int
    seq: int
    size_bytes: int


def backup_name(at_ms: int, seq: int) -> str:
    stamp = datetime.datetime.fromtimestamp(at_ms / 1000, tz=datetime.UTC)
    return f"{stamp:%Y%m%dT%H%M%S}{at_ms % 1000:03d}Z-seq{seq}.db"


def list_backups(folder: Path) -> list[BackupInfo]:
    """The backups in ``folder``, newest first."""
    out: list[BackupInfo] = []
    try:
        entries = list(os.scandir(folder))
    except (FileNotFoundError, NotADirectoryError):
        return []
    except OSError as exc:
        raise BackupError(f"could not read the backup folder {folder}: {exc}") from exc
    for e in entries:
        m = _NAME.match(e.name)
        if m is None or not e.is_file(follow_symlinks=False):
            continue
        stamp = datetime.datetime.strptime(m.group(1), "%Y%m%dT%H%M%S").replace(tzinfo=datetime.UTC)
        at_ms = int(stamp.timestamp()) * 1000 + int(m.group(2))
        out.append(BackupInfo(e.name, Path(e.path), at_ms, int(m.group(3)), e.stat().st_size))
    out.sort(key=lambda b: (b.at_ms, b.seq, b.name), reverse=True)
    return out


def verify_backup(path: Path, space_id: str) -> int:
    """Check that ``path`` is a whole copy of the space ``space_id`` (header, integrity,
    schema version, space id) without writing to it. Returns its change-log position."""
    try:
        check_header(path, SPACE_APPLICATION_ID)
        conn = sqlite3.connect(file_uri(path, "ro"), uri=True)
    except SchemaError as exc:
        raise BackupError(f"{path.name} is not a usable backup: {exc}") from exc
    except (OSError, sqlite3.Error, UnicodeDecodeError) as exc:
        raise BackupError(f"{path.name} could not be read: {exc}") from exc
    try:
        check = [str(r[0]) for r in conn.execute("PRAGMA integrity_check(5)")]
        if check != ["ok"]:
            lines = [ln for ln in "\n".join(check).splitlines() if not ln.startswith("***")]
            raise BackupError(f"{path.name} is damaged ({(lines or check)[0][:160]})")
        version = int(conn.execute("PRAGMA user_version").fetchone()[0])
        if not 0 < version <= SPACE_MIGRATIONS[-1].version:
            raise BackupError(f"{path.name} has an unknown schema version {version}")
        row = conn.execute("SELECT value FROM meta WHERE key = 'space_id'").fetchone()
        if row is None or row[0] != space_id:
            raise BackupError(f"{path.name} belongs to another space")
        return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])
    except DB_FAULTS as exc:
        raise BackupError(f"{path.name} is damaged ({str(exc)[:120]})") from exc
    finally:
        conn.close()


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def pin(source: Path) -> sqlite3.Connection:
    """A read connection holding a snapshot of ``source`` as it is now: a later
    :func:`make_backup` through it copies that moment, whatever is committed meanwhile."""
    conn = sqlite3.connect(file_uri(source, "ro"), uri=True, check_same_thread=False)
    try:
        conn.execute("BEGIN")
        conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException:
        conn.close()
        raise
    return conn


def make_backup(
    source: Path,
    folder: Path,
    *,
    space_id: str,
    now_ms: int,
    keep: int = KEEP_GENERATIONS,
    pinned: sqlite3.Connection | None = None,
) -> BackupInfo:
    """Copy the space file ``source`` (as ``pinned`` sees it, if given; it is closed)
    into ``folder`` as a new generation (whole or not at all), then drop generations
    beyond ``keep``."""
    tmp = folder / f".{secrets.token_hex(8)}.tmp"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        src = pinned or sqlite3.connect(file_uri(source, "ro"), uri=True)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode = DELETE")  # a backup is one plain file
            finally:
                dst.close()
        finally:
            src.close()
        try:
            seq = verify_backup(tmp, space_id)
        except BackupError as exc:
            reason = str(exc).removeprefix(tmp.name).strip()
            raise BackupError(f"{source.name} was not backed up: the copy {reason}") from exc
        _fsync(tmp)
        final = folder / backup_name(now_ms, seq)
        os.replace(tmp, final)
        _fsync_dir(folder)
    except BackupError:
        tmp.unlink(missing_ok=True)
        raise
    except (OSError, sqlite3.Error, UnicodeDecodeError) as exc:
        tmp.unlink(missing_ok=True)
        raise BackupError(f"could not back up {source.name}: {exc}") from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        if pinned is not None:
            pinned.close()
    info = BackupInfo(final.name, final, now_ms, seq, final.stat().st_size)
    # another process may have made ``keep`` newer ones meanwhile (this one was stamped
    # when it was asked for, a few seconds ago): then this one goes at once, as it should
    prune(folder, keep)
    return info


def prune(folder: Path, keep: int = KEEP_GENERATIONS) -> None:
    """Keep the newest ``keep`` backups; remove temporary files of backups that died."""
    for old in list_backups(folder)[keep:]:
        old.path.unlink(missing_ok=True)
    now = time.time()
    for e in os.scandir(folder):
        if e.name.startswith(".") and e.name.endswith(".tmp"):
            try:
                if now - e.stat().st_mtime > STALE_TEMP_S:
                    os.unlink(e.path)
            except OSError:
                pass


class RollingBackups:
    """When to back up one open space: at open if it changed since the newest backup,
    then after a commit once :data:`BACKUP_INTERVAL_MS` have passed since the last one.
    Backups run on a background thread, one at a time; :meth:`join` waits for it."""

    def __init__(
        self,
        source: Path,
        folder: Path,
        *,
        space_id: str,
        clock: Callable[[], int],
        interval_ms: int = BACKUP_INTERVAL_MS,
        keep: int = KEEP_GENERATIONS,
    ) -> None:
        self.source = source
        self.folder = folder
        self.space_id = space_id
        self._clock = clock
        self._interval = interval_ms
        self._keep = keep
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._go = threading.Event()
        self._last_at: int | None = None
        self._last_seq: int | None = None
        self.last_error: str | None = None
        try:
            newest = next(iter(list_backups(folder)), None)
        except BackupError:
            newest = None
        if newest is not None:
            self._last_at, self._last_seq = newest.at_ms, newest.seq

    def at_open(self, seq: int) -> bool:
        """Start a backup if the space changed since the newest one. True if started."""
        if seq == self._last_seq or (self._last_seq is None and seq == 0):
            if self._last_at is None:
                self._last_at = self._clock()  # the interval counts from here
            return False
        try:
            pinned = pin(self.source)
        except DB_FAULTS as exc:
            log.warning("backup at open skipped: %s", exc)
            return False
        if not self._start(AT_OPEN_DELAY_S, pinned):
            pinned.close()
            return False
        return True

    def after_commit(self, seq: int) -> bool:
        """Start a backup if changes are waiting and the interval has passed."""
        if seq == self._last_seq:
            return False
        if self._last_at is not None and self._clock() - self._last_at < self._interval:
            return False
        return self._start(0.0, None)

    def _start(self, delay_s: float, pinned: sqlite3.Connection | None) -> bool:
        with self._lock:
            if self._thread is not None and self._thread.is_alive():
                return False
            self._last_at = self._clock()  # also throttles retries after a failure
            self._go = threading.Event()
            self._thread = threading.Thread(
                target=self._run,
                args=(self._last_at, delay_s, self._go, pinned),
                name="space-backup",
                daemon=True,
            )
            self._thread.start()
        return True

    def _run(
        self, now_ms: int, delay_s: float, go: threading.Event, pinned: sqlite3.Connection | None
    ) -> None:
        if delay_s > 0:
            go.wait(delay_s)
        try:
            info = make_backup(
                self.source,
                self.folder,
                space_id=self.space_id,
                now_ms=now_ms,
                keep=self._keep,
                pinned=pinned,
            )
        except BackupError as exc:
            self.last_error = str(exc)
            log.warning("backup failed: %s", exc)
        except Exception as exc:  # a backup must never take the app down
            self.last_error = str(exc)
            log.exception("backup failed")
        else:
            self.last_error = None
            self._last_seq = info.seq
        if pinned is not None:
            _merge_log(self.source)

    def join(self, timeout: float = JOIN_TIMEOUT_S) -> None:
        """Run a waiting backup now and wait for it to finish."""
        with self._lock:
            thread, go = self._thread, self._go
        go.set()
        if thread is not None:
            thread.join(timeout)


def _merge_log(source: Path) -> None:
    """While a snapshot was pinned, the space's writer could not fold its log back into
    the file when it closed; do it now (a no-op while the space is still open)."""
    try:
        conn = sqlite3.connect(file_uri(source, "rw"), uri=True, timeout=0.1)
    except sqlite3.Error:
        return  # the file was moved away meanwhile (deleted space)
    try:
        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
    except DB_FAULTS:
        pass
    finally:
        conn.close()
