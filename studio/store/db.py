"""Opening SQLite files the one way Forge Studio does it, and migrating them."""

from __future__ import annotations

import functools
import os
import sqlite3
import stat
import threading
import urllib.parse
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from studio.core.errors import PermissionDeniedError, StorageError
from studio.store.schema import Migration

BUSY_TIMEOUT_MS = 5_000
SQLITE_MAGIC = b"SQLite format 3\x00"
HEADER_SIZE = 100

# Every SQLite error a damaged or unusable file can raise while we talk to it. A garbled
# schema can make SQLite's own error message invalid UTF-8, hence UnicodeDecodeError.
DB_FAULTS = (sqlite3.Error, UnicodeDecodeError)

DAMAGE = (sqlite3.DatabaseError, UnicodeDecodeError)
"""What reading a file damaged outside Forge Studio raises (for the CLI's last word)."""


class SchemaError(Exception):
    """The file is not ours, or was written by a newer Forge Studio."""


def file_uri(path: Path, mode: str) -> str:
    """A SQLite URI for ``path`` (``mode``: ro, rw or rwc); quoting keeps ``?``/``#`` in names.

    The path is quoted as its file-system bytes, so a name that is not valid UTF-8
    (held as surrogate escapes) still names the very same file."""
    return f"file:{urllib.parse.quote(os.fsencode(Path(path).absolute()))}?mode={mode}"


def connect(path: Path | str, *, mode: str = "rwc", wal: bool = True) -> sqlite3.Connection:
    """A connection in autocommit mode (transactions are explicit), WAL, NORMAL sync.

    ``mode="rw"`` opens only a file that already exists (SQLite never creates one);
    ``wal=False`` leaves the journal mode alone (switching it writes the header).
    """
    if str(path) == ":memory:":
        target, uri = ":memory:", False
    else:
        target, uri = file_uri(Path(path), mode), True
    conn = sqlite3.connect(
        target,
        isolation_level=None,
        check_same_thread=False,
        timeout=BUSY_TIMEOUT_MS / 1000,
        uri=uri,
    )
    try:
        conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if wal and str(path) != ":memory:" and mode != "ro":
            conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute("PRAGMA foreign_keys = ON")
    except BaseException:
        conn.close()
        raise
    return conn


def check_header(path: Path, application_id: int) -> None:
    """Refuse, without writing a byte, a path that is not an existing SQLite file stamped
    with ``application_id``: missing, not a regular file, empty, another format, or
    another program's database."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise SchemaError("the file is missing") from None
    if not stat.S_ISREG(st.st_mode):
        raise SchemaError("it is not a regular file")
    if st.st_size == 0:
        raise SchemaError("the file is empty (0 bytes)")
    with open(path, "rb") as f:
        header = f.read(HEADER_SIZE)
    if len(header) < HEADER_SIZE or not header.startswith(SQLITE_MAGIC):
        raise SchemaError("it is not a SQLite database")
    stamped = int.from_bytes(header[68:72], "big")
    if stamped != application_id and not (
        _wal_has_frames(path) and _stamp_in_log(path) == application_id
    ):
        raise SchemaError("this file is not a Forge Studio file")


def _stamp_in_log(path: Path) -> int | None:
    """The application id as the write-ahead log has it, read on a read-only connection
    (which, unlike a writer, never checkpoints the log into the file when it closes)."""
    try:
        conn = sqlite3.connect(file_uri(path, "ro"), uri=True)
    except sqlite3.Error:
        return None
    try:
        return int(conn.execute("PRAGMA application_id").fetchone()[0])
    except DB_FAULTS:
        return None
    finally:
        conn.close()


def _wal_has_frames(path: Path) -> bool:
    """A file whose header changes still sit in its write-ahead log (never checkpointed)."""
    try:
        return os.path.getsize(f"{path}-wal") > 32
    except OSError:
        return False


def connect_existing(path: Path, application_id: int) -> sqlite3.Connection:
    """Open a file that must already be ours (see :func:`check_header`); never creates one.

    Raises :class:`SchemaError` for a file that is not ours (left as it was) and
    ``sqlite3.Error``/``UnicodeDecodeError`` for one SQLite cannot read. The journal mode
    is not touched: call :func:`use_wal` once the caller has accepted the file.
    """
    check_header(path, application_id)
    conn = connect(path, mode="rw", wal=False)
    try:
        stamped = int(conn.execute("PRAGMA application_id").fetchone()[0])
        if stamped != application_id:
            raise SchemaError("this file is not a Forge Studio file")
    except BaseException:
        conn.close()
        raise
    return conn


def use_wal(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = WAL")


def verify_schema(conn: sqlite3.Connection, migrations: Sequence[Migration]) -> None:
    """Refuse a file whose tables, indexes and triggers differ from what ``migrations`` build
    (garbled schema bytes, a table altered by hand): compared byte for byte, so text that
    is not valid UTF-8 is caught here rather than by a later query."""
    expected = _reference_schema(tuple(migrations))
    found = dict(conn.execute(_SCHEMA_SQL).fetchall())
    for name, sql in expected.items():
        label = name.decode()
        if name not in found:
            raise SchemaError(f"its schema is damaged (no {label!r})")
        if found[name] != sql:
            raise SchemaError(f"its schema is damaged ({label!r} differs)")


_SCHEMA_SQL = (
    "SELECT CAST(name AS BLOB), CAST(sql AS BLOB) FROM sqlite_master "
    "WHERE type IN ('table', 'index', 'trigger') AND name NOT LIKE 'sqlite_stat%'"
)


@functools.lru_cache(maxsize=4)
def _reference_schema(migrations: tuple[Migration, ...]) -> dict[bytes, bytes | None]:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    try:
        migrate(conn, migrations, 1)
        return dict(conn.execute(_SCHEMA_SQL).fetchall())
    finally:
        conn.close()


class OuterLock:
    """A re-entrant lock that calls :attr:`after_release` each time a thread's outermost
    hold ends, with the lock already released (the space publishes the events its
    commits left waiting there, so no subscriber ever runs under the write lock)."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._depth = threading.local()
        self.after_release: Callable[[], None] | None = None

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            self._depth.n = getattr(self._depth, "n", 0) + 1
        return got

    def release(self) -> None:
        self._depth.n -= 1
        outer = self._depth.n == 0
        self._lock.release()
        if outer and self.after_release is not None:
            self.after_release()

    def held_here(self) -> bool:
        """Does the calling thread hold the lock?"""
        return getattr(self._depth, "n", 0) > 0

    def __enter__(self) -> OuterLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


class _Reader:
    """One thread's read connection, with a lock held while it is in use (so
    :meth:`Database.close` never closes it under a running query)."""

    __slots__ = ("__weakref__", "conn", "lock")

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn
        self.lock = threading.RLock()  # a read inside a read (same thread) is fine
        # a thread's local data goes when the thread (or, on a Qt pool thread, its
        # Python thread state) ends: its connection is closed with it
        weakref.finalize(self, conn.close)


CLOSED = "it was closed while it was being read"
"""Why a read after :meth:`Database.close` fails (a view reading as its space closes)."""

READER_CLOSE_WAIT_S = 5.0
"""How long :meth:`Database.close` waits for a read in progress on another thread."""


class Database:
    """One writer connection, used by one thread at a time (a lock serialises
    writers), and read connections: one per thread, opened on first use.

    Writes go through :meth:`write`, which opens ``BEGIN IMMEDIATE`` so that a second
    process waits on ``busy_timeout`` instead of failing half-way through.

    Reads go through :meth:`read`: in WAL mode a reader sees the last committed state
    and neither waits for the writer nor holds it up, so a read never takes the write
    lock. The thread that holds the write lock reads on the writer connection (it sees
    its own transaction); an in-memory or read-only (immutable) database has only the
    writer connection, so reads there share the lock.
    """

    def __init__(self, conn: sqlite3.Connection, path: Path | None = None) -> None:
        self.conn = conn
        self.path = path
        self.lock = OuterLock()
        self._depth = 0
        self.read_only_reason: str | None = None
        """Set when the file could only be opened for reading (e.g. a full disk)."""
        self.writes_refused: str | None = None
        """Set on a replica of a shared space: it is read like any space, but only the
        replica writer (``studio.core.replica``, on its own connection) changes it."""
        self._local = threading.local()  # .reader: this thread's _Reader (the only ref)
        self._readers: weakref.WeakSet[_Reader] = weakref.WeakSet()
        self._readers_lock = threading.Lock()
        self._closed = False
        self._identity = _file_identity(path)  # readers open this very file, or none
        self._moved = False  # the file at the path is no longer this one

    @contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        if self.read_only_reason is not None:
            raise StorageError(self.read_only_reason)
        if self.writes_refused is not None:
            raise PermissionDeniedError(self.writes_refused)
        with self.lock:
            if self._depth:  # nested: joins the outer transaction
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            self.conn.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield self.conn
                self.conn.execute("COMMIT")
            except BaseException:
                self._rollback()
                raise
            finally:
                self._depth = 0

    def _rollback(self) -> None:
        """End a failed transaction without hiding why it failed (SQLite may already have
        rolled back by itself, e.g. on a full disk)."""
        if self.conn.in_transaction:
            try:
                self.conn.execute("ROLLBACK")
            except sqlite3.Error:
                pass

    @contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """A connection to read on: this thread's read connection, or the writer's when
        this thread holds the write lock (or there is no other)."""
        reader = None if self._shares_writer() or self.lock.held_here() else self._reader()
        if reader is None:
            with self.lock:
                if self._closed:
                    raise StorageError(CLOSED)
                yield self.conn
            return
        with reader.lock:
            if self._closed:
                raise StorageError(CLOSED)
            yield reader.conn

    @contextmanager
    def snapshot(self) -> Iterator[sqlite3.Connection]:
        """:meth:`read` in one read transaction: every query sees the same state (the
        caller's own open transaction, when it holds the write lock)."""
        with self.read() as conn:
            if conn.in_transaction:
                yield conn
                return
            conn.execute("BEGIN")
            try:
                yield conn
            finally:
                if conn.in_transaction:
                    conn.execute("COMMIT")

    def _shares_writer(self) -> bool:
        return self.path is None or self.read_only_reason is not None or self._moved

    def _reader(self) -> _Reader | None:
        """This thread's reader, opened on first use; None when the file at the path is
        no longer the one the writer has open (deleted, moved, swapped): a reader must
        never read another file, so reads share the writer's connection from then on."""
        reader: _Reader | None = getattr(self._local, "reader", None)
        if reader is not None:
            return reader
        with self._readers_lock:
            if self._closed:
                raise StorageError(CLOSED)
            assert self.path is not None
            try:
                conn = connect(self.path, mode="rw", wal=False)
            except sqlite3.Error:  # gone from the path (deleted, moved)
                self._moved = True
                return None
            try:
                ours = _file_identity(self.path) == self._identity
                if ours:
                    conn.execute("PRAGMA query_only = ON")
            except BaseException as exc:
                conn.close()
                if isinstance(exc, sqlite3.Error):
                    raise StorageError(f"could not read the file: {exc}") from exc
                raise
            if not ours:  # another file sits at the path now
                conn.close()
                self._moved = True
                return None
            reader = _Reader(conn)
            self._readers.add(reader)
        self._local.reader = reader
        return reader

    @property
    def reader_count(self) -> int:
        """How many read connections are open (one per thread that read)."""
        with self._readers_lock:
            return len(self._readers)

    def close(self) -> None:
        with self._readers_lock:
            self._closed = True
            readers = list(self._readers)
            self._readers = weakref.WeakSet()
        for reader in readers:
            got = reader.lock.acquire(timeout=READER_CLOSE_WAIT_S)
            try:
                reader.conn.close()
            finally:
                if got:
                    reader.lock.release()
        with self.lock:
            self.conn.close()


def _file_identity(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of the file at ``path``; None for none (in memory, or missing)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def schema_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def migrate(
    conn: sqlite3.Connection,
    migrations: Sequence[Migration],
    application_id: int,
    *,
    target: int | None = None,
    clock_ms: int = 0,
) -> int:
    """Bring ``conn`` up to ``target`` (default: the newest migration). Returns the version.

    Safe against another process migrating the same file at the same moment: each step
    re-reads the version inside its write transaction.
    """
    current = check_version(conn, migrations, application_id)
    newest = migrations[-1].version if target is None else target
    for m in migrations:
        if m.version <= current or m.version > newest:
            continue
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = check_version(conn, migrations, application_id)
            if m.version <= current:  # another process got there first
                conn.execute("COMMIT")
                continue
            if m.version == 1:
                conn.execute(f"PRAGMA application_id = {application_id}")
                conn.execute(
                    "CREATE TABLE IF NOT EXISTS schema_migrations ("
                    "version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)"
                )
            for statement in _statements(m.sql):
                conn.execute(statement)
            conn.execute(
                "INSERT INTO schema_migrations(version, name, applied_at) VALUES (?, ?, ?)",
                (m.version, m.name, clock_ms),
            )
            conn.execute(f"PRAGMA user_version = {m.version}")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        current = m.version
    return current


def check_version(
    conn: sqlite3.Connection, migrations: Sequence[Migration], application_id: int
) -> int:
    app_id = int(conn.execute("PRAGMA application_id").fetchone()[0])
    current = schema_version(conn)
    if app_id not in (0, application_id) or (app_id == 0 and current != 0):
        raise SchemaError("this file is not a Forge Studio file")
    if current > migrations[-1].version:
        raise SchemaError(
            f"this file was written by a newer Forge Studio (schema {current}, "
            f"this version knows up to {migrations[-1].version})"
        )
    return current


def _statements(sql: str) -> list[str]:
    """Split a migration script into statements (``executescript`` would auto-commit)."""
    out: list[str] = []
    buf = ""
    for part in sql.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    if buf.strip(" \n\t;"):
        out.append(buf.strip())
    return out
