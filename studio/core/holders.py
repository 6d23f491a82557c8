"""Who has a space open: one *holder* per open :class:`~studio.core.space.Space`.

Each holder has a unique id and, for as long as the space is open, an exclusive
``flock`` on ``<space-file>.holders/<holder-id>``. A holder is alive exactly while that
lock is held, which the kernel ends when the process dies however it dies. Nothing is
ever upgraded or downgraded, so checking on others can never drop one's own lock.

Work in the space records the holder that owns it (a running job's ``lease_owner``,
an uploading variant's ``upload_owner``, a staging folder ``.staging/<holder-id>/``);
recovery acts only on work whose holder is dead.

An opener registers as a holder *before* it opens the space file, and holds the
file's ``<space-file>.lock`` shared while it does (see :func:`opening`); a restore holds
that lock exclusively while it checks for holders and swaps the file. So a restore
either sees the opener and refuses, or finishes its swap before the opener opens.

A dead holder's lock file is removed by whoever notices it is dead (while holding its
lock, so a live holder's file is never removed). A new holder's file is created under
a temporary name, locked, and only then renamed into place, so no one can see it
unlocked.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import secrets
import time
from collections.abc import Iterator
from pathlib import Path

from studio.core.errors import StorageError

log = logging.getLogger(__name__)

HOLDER_RE = re.compile(r"holder-[0-9]{1,10}-[0-9a-f]{12}")
"""What a holder id looks like (also the name of its lock file and staging folder)."""


OPEN_WAIT_S = 10.0
"""How long an opener waits for a restore of the space to finish."""


@contextlib.contextmanager
def opening(space_file: Path, slug: str) -> Iterator[None]:
    """Hold ``<space-file>.lock`` shared while the space file is opened (a restore
    holds it exclusively while it swaps the file). Where the lock can't be had (no
    ``flock``, a read-only folder) the open goes ahead unguarded."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    try:
        fd = os.open(f"{space_file}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        yield
        return
    try:
        deadline = time.monotonic() + OPEN_WAIT_S
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise StorageError(
                        f"the space {slug} is being restored from a backup; try again"
                    ) from None
                time.sleep(0.05)
            except OSError:
                break  # this file system can't lock: go ahead unguarded
        yield
    finally:
        os.close(fd)  # drops the shared lock


def new_holder_id() -> str:
    return f"holder-{os.getpid()}-{secrets.token_hex(6)}"


def is_holder_id(name: str | None) -> bool:
    return name is not None and HOLDER_RE.fullmatch(name) is not None


class Holders:
    """This process's hold on one space, and liveness checks of the other holders."""

    def __init__(self, directory: Path | None) -> None:
        self.id = new_holder_id()
        self._dir = directory
        self._fd: int | None = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - not POSIX: liveness is unknown
            return
        if directory is None:
            return
        tmp = directory / f".{self.id}.new"
        fd = -1
        try:
            directory.mkdir(exist_ok=True)
            fd = os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            os.replace(tmp, directory / self.id)
        except OSError as exc:
            log.warning("could not register as a holder of %s: %s", directory, exc)
            if fd >= 0:
                os.close(fd)
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
            return
        self._fd = fd

    @property
    def known(self) -> bool:
        """Can liveness of holders be told here (a lock directory and ``flock``)?"""
        return self._fd is not None

    def alive(self, holder: str | None) -> bool | None:
        """Is ``holder`` a live holder of this space? None when that can't be known.

        Anything that is not a holder id (None, a name from before holders existed) is
        not alive."""
        if holder == self.id:
            return True
        if not self.known:
            return None
        if holder is None or not is_holder_id(holder):
            return False
        assert self._dir is not None
        return _probe(self._dir / holder)

    def others(self) -> list[str]:
        """The other live holders (dead ones' lock files are removed on the way)."""
        if not self.known:
            return []
        assert self._dir is not None
        out = []
        try:
            names = sorted(os.listdir(self._dir))
        except OSError:
            return []
        for name in names:
            if name == self.id:
                continue
            if is_holder_id(name):
                if _probe(self._dir / name):
                    out.append(name)
            elif name.startswith(".holder-") and name.endswith(".new"):
                _sweep_unregistered(self._dir / name)

        return out

    def alone(self) -> bool | None:
        """True when no other holder is alive; None where that can't be known."""
        if not self.known:
            return None
        return not self.others()

    def release(self) -> None:
        if self._fd is None:
            return
        assert self._dir is not None
        with contextlib.suppress(OSError):
            os.unlink(self._dir / self.id)  # still locked: no one else removes it
        os.close(self._fd)  # closing drops the lock
        self._fd = None


def live_holders(directory: Path) -> list[str]:
    """The live holders registered in ``directory`` (a ``<space-file>.holders``), for a
    process that is not one of them (a restore). Dead ones' lock files are removed."""
    try:
        import fcntl  # noqa: F401
    except ImportError:  # pragma: no cover - not POSIX: liveness is unknown
        return []
    try:
        names = sorted(os.listdir(directory))
    except FileNotFoundError:
        return []
    return [name for name in names if is_holder_id(name) and _probe(directory / name)]


def _sweep_unregistered(path: Path) -> None:
    """A holder that died between creating its lock file and renaming it into place
    left this; young ones may still be registering (created, not yet locked)."""
    import time

    with contextlib.suppress(OSError):
        if time.time() - path.stat().st_mtime > 60:
            _probe(path)


def _probe(path: Path) -> bool:
    """True if someone holds the lock on ``path``; if no one does, the holder is dead:
    remove its file (while holding the lock) and return False."""
    import fcntl

    try:
        fd = os.open(path, os.O_RDWR)
    except FileNotFoundError:
        return False
    except OSError:
        return True  # can't tell: assume alive (never act on a maybe-live holder)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        except OSError:
            return True
        with contextlib.suppress(OSError):
            os.unlink(path)
        return False
    finally:
        os.close(fd)  # drops only the lock taken through this descriptor
