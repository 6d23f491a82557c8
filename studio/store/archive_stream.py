"""Streaming copies for archives: fixed memory, SHA-256 overlapped with the I/O when a
second core is free (:func:`second_core_free`), on one thread when not (a hand-off to a
thread that cannot run only adds waiting).

:class:`HashingCopier` reads a chunk, hands it to SHA-256 on a helper thread (hashlib
releases the GIL for large updates) and writes it meanwhile; two buffers alternate, so
a buffer is read into again only once its hash is done. :func:`stored_span` finds the
bytes of an uncompressed zip entry so they are read straight from the archive file
(the SHA-256 checked afterwards makes the zip's own CRC-32 redundant), and
:func:`kernel_copy_hashed` copies them inside the kernel, hashing the written file back
through a read-only mapping: one copy of each byte instead of two, and what is hashed is
exactly what will be registered.
"""

from __future__ import annotations

import errno
import hashlib
import mmap
import os
import struct
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

CHUNK = 1024 * 1024
LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
LOCAL_MAGIC = b"PK\x03\x04"


class TooLong(Exception):
    """The source held more bytes than allowed."""


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _machine_ticks() -> tuple[int, int] | None:
    """(all CPU time, idle + iowait time) of the machine since boot, in clock ticks,
    from ``/proc/stat``; None where there is none."""
    try:
        with open("/proc/stat", "rb") as f:
            fields = [int(x) for x in f.readline().split()[1:9]]
    except (OSError, ValueError):
        return None
    return (sum(fields), fields[3] + fields[4]) if len(fields) >= 5 else None


class _Cpu:
    """How busy the machine was with other work since the last look: the ticks of
    every CPU not idle, minus this process's own."""

    MIN_TICKS = 10  # per core: a shorter span tells nothing (ticks are 10 ms)

    def __init__(self) -> None:
        self._hz = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
        self._last = self._sample()
        self._free: bool | None = None

    def _sample(self) -> tuple[int, int, float] | None:
        machine = _machine_ticks()
        if machine is None:
            return None
        own = os.times()
        return machine[0], machine[1], (own.user + own.system) * self._hz

    def second_core_free(self) -> bool | None:
        """Whether others left at least ~1.75 cores free (this copy's two threads fit);
        None when it cannot be told (no ``/proc/stat``)."""
        now = self._sample()
        if now is None or self._last is None:
            return None
        cores = _cores()
        total, idle, own = (a - b for a, b in zip(now, self._last, strict=True))
        if total < self.MIN_TICKS * cores:
            return self._free if self._free is not None else cores > 1
        self._last = now
        busy_others = max(0.0, (total - idle - own) / total * cores)
        self._free = cores - busy_others >= 1.75
        return self._free


_CPU = _Cpu()


def second_core_free() -> bool:
    """Whether another core is free for the hash to run beside the copy: measured from
    the machine's CPU time since the last look (this process's own use left out, so an
    import never talks itself out of its second thread); the 1-minute load average
    where that cannot be read."""
    measured = _CPU.second_core_free()
    if measured is not None:
        return measured
    cores = _cores()
    try:
        load = os.getloadavg()[0]
    except (AttributeError, OSError):
        return cores > 1
    return load + 1 <= cores - 0.5


def cores() -> int:
    """The cores this process may run on."""
    return _cores()


class HashingCopier:
    """Copies through two alternating buffers, hashing on ``pool`` beside the copy when a
    second core is free, else (or without a pool) on the copying thread."""

    def __init__(
        self,
        pool: ThreadPoolExecutor | None,
        chunk: int = CHUNK,
        overlap: Callable[[], bool] | None = None,
    ) -> None:
        self.pool = pool
        self._buffers = (bytearray(chunk), bytearray(chunk))
        self._overlap = overlap

    def overlapping(self) -> bool:
        """Whether a copy starting now hashes on the pool (a second core is free)."""
        if self.pool is None:
            return False
        return self._overlap() if self._overlap is not None else second_core_free()

    def copy(
        self,
        read_into: Callable[[memoryview], int],
        write: Callable[[memoryview], object],
        *,
        limit: int,
        progress: Callable[[int], None],
    ) -> tuple[int, str]:
        """Copy until ``read_into`` returns 0; returns (bytes, SHA-256 hex). Raises
        :class:`TooLong` past ``limit`` bytes."""
        if self.pool is None or not self.overlapping():
            return self._copy_inline(read_into, write, limit=limit, progress=progress)
        pool = self.pool
        digest = hashlib.sha256()
        pending: Future[None] | None = None
        total = 0
        turn = 0
        try:
            while True:
                buf = memoryview(self._buffers[turn])
                turn ^= 1
                n = read_into(buf)
                if not n:
                    break
                total += n
                if total > limit:
                    raise TooLong
                view = buf[:n]
                if pending is not None:
                    pending.result()  # the other buffer's hash: done before its reuse
                pending = pool.submit(digest.update, view)
                write(view)
                progress(n)
        finally:
            if pending is not None:
                pending.result()
        return total, digest.hexdigest()

    def _copy_inline(
        self,
        read_into: Callable[[memoryview], int],
        write: Callable[[memoryview], object],
        *,
        limit: int,
        progress: Callable[[int], None],
    ) -> tuple[int, str]:
        """:meth:`copy` on this thread alone: no core to overlap with, so no hand-offs
        (each one waits for the other thread to be scheduled on a busy machine)."""
        digest = hashlib.sha256()
        buf = memoryview(self._buffers[0])
        total = 0
        while n := read_into(buf):
            total += n
            if total > limit:
                raise TooLong
            view = buf[:n]
            digest.update(view)
            write(view)
            progress(n)
        return total, digest.hexdigest()


WINDOW = 8 * 1024 * 1024
"""The kernel copies and the hash reads a stored entry this much at a time."""
_NO_KERNEL_COPY = {errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL, errno.EBADF}


def kernel_copy_hashed(
    src: int,
    offset: int,
    size: int,
    dst: int,
    pool: ThreadPoolExecutor | None,
    progress: Callable[[int], None],
) -> str | None:
    """Copy ``size`` bytes at ``offset`` of the file ``src`` to the start of the empty
    file ``dst`` (opened for reading and writing) inside the kernel (``copy_file_range``:
    one copy, no Python buffers), and return the SHA-256 of what was written: each
    window is hashed from ``dst`` itself, mapped read-only, on ``pool`` while the next
    window copies (inline when ``pool`` is None). None when this kernel or file system
    cannot copy so (nothing was written; the caller copies through a buffer)."""
    copy_range = getattr(os, "copy_file_range", None)
    if copy_range is None or not size:
        return None
    digest = hashlib.sha256()
    pending: Future[None] | None = None
    done = 0
    try:
        while done < size:
            n = min(WINDOW, size - done)
            copied = 0
            while copied < n:
                try:
                    k = copy_range(src, dst, n - copied, offset + done + copied, done + copied)
                except OSError as exc:
                    if done == 0 and copied == 0 and exc.errno in _NO_KERNEL_COPY:
                        return None
                    raise
                if not k:
                    raise EOFError("the archive ended inside an entry")
                copied += k
            if pending is not None:
                pending.result()  # hashes stay in order
                pending = None
            if pool is None:
                _hash_window(digest, dst, done, n)
            else:
                pending = pool.submit(_hash_window, digest, dst, done, n)
            done += n
            progress(n)
    finally:
        if pending is not None:
            pending.result()
    return digest.hexdigest()


def _hash_window(digest: Any, fd: int, offset: int, n: int) -> None:
    flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
    with mmap.mmap(fd, n, flags=flags, prot=mmap.PROT_READ, offset=offset) as view:
        digest.update(view)


def stored_span(fd: int, info: zipfile.ZipInfo, archive_size: int) -> tuple[int, int] | None:
    """(offset, size) of an uncompressed entry's bytes in the archive file ``fd`` (read
    with ``pread``: workers share it), or None when its local header does not agree with
    the directory (the caller refuses it)."""
    head = os.pread(fd, LOCAL_HEADER.size, info.header_offset)
    if len(head) < LOCAL_HEADER.size:
        return None
    fields = LOCAL_HEADER.unpack(head)
    if fields[0] != LOCAL_MAGIC or fields[4] != zipfile.ZIP_STORED:
        return None
    name_len, extra_len = fields[10], fields[11]
    name = os.pread(fd, name_len, info.header_offset + LOCAL_HEADER.size)
    expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if name != expected:  # two directory entries sharing one local entry: overlap
        return None
    start = info.header_offset + LOCAL_HEADER.size + name_len + extra_len
    if start + info.compress_size > archive_size:
        return None
    return start, info.compress_size


def pread_reader(fd: int, offset: int, size: int) -> Callable[[memoryview], int]:
    """``readinto`` over the ``size`` bytes at ``offset`` of ``fd`` (then end of data),
    with ``preadv``: no shared file position."""
    at = [offset, size]

    def read_into(buf: memoryview) -> int:
        if at[1] <= 0:
            return 0
        n = os.preadv(fd, [buf[: min(len(buf), at[1])]], at[0])
        if not n:
            raise EOFError("the archive ended inside an entry")
        at[0] += n
        at[1] -= n
        return n

    return read_into


FLUSH_EVERY = 64 * 1024 * 1024
"""While a big file is written, what has been written is handed to the disk this often
(on a helper thread), so its final fsync does not wait for gigabytes at once."""


class Flusher:
    """``fdatasync`` of ``fd`` every :data:`FLUSH_EVERY` bytes, one at a time, on
    ``pool``: the disk writes overlap the copying. Call it with the bytes written."""

    def __init__(self, pool: ThreadPoolExecutor, fd: int, start: int = 0) -> None:
        self._pool = pool
        self._fd = fd
        self._next = start + FLUSH_EVERY
        self._pending: Future[None] | None = None

    def __call__(self, done: int) -> None:
        if done >= self._next and (self._pending is None or self._pending.done()):
            self._next = done + FLUSH_EVERY
            self._pending = self._pool.submit(os.fdatasync, self._fd)

    def wait(self) -> None:
        if self._pending is not None:
            self._pending.result()


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
