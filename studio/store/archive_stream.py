"""Streaming copies for archives: fixed memory, SHA-256 overlapped with the I/O.

:class:`HashingCopier` reads a chunk, hands it to SHA-256 on a helper thread (hashlib
releases the GIL for large updates) and writes it meanwhile; two buffers alternate, so
a buffer is read into again only once its hash is done. :func:`stored_span` finds the
bytes of an uncompressed zip entry so they are read straight from the archive file
(the SHA-256 checked afterwards makes the zip's own CRC-32 redundant).
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

CHUNK = 1024 * 1024
LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
LOCAL_MAGIC = b"PK\x03\x04"


class TooLong(Exception):
    """The source held more bytes than allowed."""


class HashingCopier:
    def __init__(self, pool: ThreadPoolExecutor, chunk: int = CHUNK) -> None:
        self._pool = pool
        self._buffers = (bytearray(chunk), bytearray(chunk))

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
                pending = self._pool.submit(digest.update, view)
                write(view)
                progress(n)
        finally:
            if pending is not None:
                pending.result()
        return total, digest.hexdigest()


def stored_span(
    f: io.BufferedReader, info: zipfile.ZipInfo, archive_size: int
) -> tuple[int, int] | None:
    """(offset, size) of an uncompressed entry's bytes in the archive file ``f``, or None
    when its local header does not agree with the directory (the caller refuses it)."""
    f.seek(info.header_offset)
    head = f.read(LOCAL_HEADER.size)
    if len(head) < LOCAL_HEADER.size:
        return None
    fields = LOCAL_HEADER.unpack(head)
    if fields[0] != LOCAL_MAGIC or fields[4] != zipfile.ZIP_STORED:
        return None
    name_len, extra_len = fields[10], fields[11]
    name = f.read(name_len)
    expected = info.orig_filename.encode("utf-8" if info.flag_bits & 0x800 else "cp437")
    if name != expected:  # two directory entries sharing one local entry: overlap
        return None
    start = info.header_offset + LOCAL_HEADER.size + name_len + extra_len
    if start + info.compress_size > archive_size:
        return None
    return start, info.compress_size


def bounded_reader(f: io.BufferedReader, size: int) -> Callable[[memoryview], int]:
    """``readinto`` over the next ``size`` bytes of ``f`` (then end of data)."""
    left = [size]

    def read_into(buf: memoryview) -> int:
        if left[0] <= 0:
            return 0
        n = f.readinto(buf[: min(len(buf), left[0])])
        left[0] -= n or 0
        if not n:
            raise EOFError("the archive ended inside an entry")
        return n

    return read_into


def fsync_path(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
