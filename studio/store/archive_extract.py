"""Extracting a checked ``.forgespace`` file: each distinct file (the space file, each
media blob) is copied out and checked against its SHA-256 and size by a worker of its
own, as many at once as there are cores (at most :data:`MAX_WORKERS`).

Why per file: SHA-256 is what an import costs (about 1 s of CPU per GiB here, the copy
itself a tenth of that, done in the kernel). Hashing beside the copy of the same file
keeps the copy waiting on the hash, so the import ran at the speed of one core; two
files at once hash on two cores with no hand-offs between threads (each worker copies
and hashes its file on its own thread). Each finished file is handed to the disk
(fsync) on a helper thread while the next ones copy; :func:`extract_blobs` returns only
once every file is whole, verified and synced, so the caller registers nothing before.

The first failure stops the other workers at their next window (8 MiB) and is raised
once every worker has stopped: nothing writes after the caller starts cleaning up.
"""

from __future__ import annotations

import io
import os
import threading
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from studio.store.archive_manifest import ArchiveError, Progress
from studio.store.archive_stream import (
    Flusher,
    HashingCopier,
    TooLong,
    cores,
    fsync_path,
    kernel_copy_hashed,
    pread_reader,
    stored_span,
)

MAX_WORKERS = 4
PROGRESS_EVERY_S = 0.1
"""How often the calling thread reports progress while the workers copy."""


@dataclass(frozen=True, slots=True)
class Blob:
    """One archive entry to write to ``dest`` (which must not exist)."""

    name: str
    dest: Path
    sha256: str
    size: int


class _Stopped(Exception):
    """Another worker failed: this one gives up at its next step."""


class _Shared:
    """What the workers share: the bytes done (for progress), the stop flag, the fsyncs
    handed to the disk thread, and one copier per worker thread (its buffers)."""

    def __init__(self, syncer: ThreadPoolExecutor, hash_pool: ThreadPoolExecutor | None) -> None:
        self.done = 0
        self.stop = False
        self.synced: list[Future[None]] = []
        self.syncer = syncer
        self.hash_pool = hash_pool
        self._lock = threading.Lock()
        self.zip_lock = threading.Lock()
        """Held while a member is opened or closed: ``ZipFile`` counts the users of its
        shared file handle without a lock of its own (a lost count closes it early)."""
        self._local = threading.local()

    def add(self, n: int) -> None:
        if self.stop:
            raise _Stopped
        with self._lock:
            self.done += n

    def copier(self) -> HashingCopier:
        copier: HashingCopier | None = getattr(self._local, "copier", None)
        if copier is None:
            if self.hash_pool is not None:  # one worker: the hash may run beside its copy
                copier = HashingCopier(self.hash_pool)
            else:  # several workers: each hashes on its own thread, the cores are theirs
                copier = HashingCopier(None)
            self._local.copier = copier
        return copier


def extract_workers(blobs: int) -> int:
    return max(1, min(blobs, cores(), MAX_WORKERS))


def extract_blobs(
    zf: zipfile.ZipFile,
    path: Path,
    label: str,
    blobs: list[Blob],
    progress: Progress,
    total: int,
    *,
    workers: int | None = None,
) -> None:
    """Write every blob, each verified, and fsync each; raise the first
    :class:`ArchiveError` (the caller removes what was written)."""
    workers = extract_workers(len(blobs)) if workers is None else workers
    with (
        open(path, "rb") as raw,
        ThreadPoolExecutor(1, thread_name_prefix="archive-sync") as syncer,
        ThreadPoolExecutor(1, thread_name_prefix="archive-hash") as hash_pool,
    ):
        shared = _Shared(syncer, hash_pool if workers == 1 else None)
        archive_size = os.fstat(raw.fileno()).st_size
        one = _Worker(zf, raw.fileno(), archive_size, label, shared)
        pool = ThreadPoolExecutor(workers, thread_name_prefix="archive-copy")
        reported = -1
        failed: BaseException | None = None
        pending: set[Future[None]] = set()
        try:
            pending = {pool.submit(one, b) for b in blobs}
            while pending and failed is None:  # ends: every future ends with its file
                finished, pending = wait(
                    pending, timeout=PROGRESS_EVERY_S, return_when=FIRST_EXCEPTION
                )
                failed = next((e for f in finished if (e := f.exception()) is not None), None)
                if shared.done != reported and failed is None:
                    reported = shared.done
                    progress(reported, total)
        finally:
            if pending or failed is not None:
                shared.stop = True  # the others stop at their next window
            pool.shutdown(wait=True, cancel_futures=True)  # no worker writes after this
        if failed is not None:
            raise failed
        for done in shared.synced:
            done.result()  # every file is on disk before the caller registers it
        if shared.done != reported:
            progress(shared.done, total)


class _Worker:
    def __init__(
        self, zf: zipfile.ZipFile, fd: int, archive_size: int, label: str, shared: _Shared
    ) -> None:
        self._zf = zf
        self._fd = fd
        self._archive_size = archive_size
        self._label = label
        self._shared = shared

    def __call__(self, blob: Blob) -> None:
        try:
            got, digest = self._copy(blob)
        except _Stopped:
            return
        except TooLong:
            raise ArchiveError(
                f"{self._label} is refused: {blob.name} holds more bytes than declared"
            ) from None
        except (zipfile.BadZipFile, EOFError, zlib.error) as exc:
            raise ArchiveError(
                f"{self._label} is damaged or truncated ({blob.name}: {str(exc)[:120]})"
            ) from exc
        if got != blob.size or digest != blob.sha256:
            raise ArchiveError(
                f"{self._label} is refused: {blob.name} does not match the checksum in its manifest"
            )

    def _copy(self, blob: Blob) -> tuple[int, str]:
        shared = self._shared
        info = self._zf.getinfo(blob.name)
        with open(blob.dest, "x+b") as out:  # read too: its bytes are hashed back
            flusher = Flusher(shared.syncer, out.fileno())
            mine = [0]

            def step(n: int) -> None:
                shared.add(n)
                mine[0] += n
                flusher(mine[0])

            try:
                got, digest = self._copy_into(info, blob, out, step)
                out.flush()
            finally:
                flusher.wait()  # before its file descriptor closes
        shared.synced.append(shared.syncer.submit(fsync_path, blob.dest))
        return got, digest

    def _copy_into(
        self,
        info: zipfile.ZipInfo,
        blob: Blob,
        out: io.BufferedRandom,
        step: Callable[[int], None],
    ) -> tuple[int, str]:
        copier = self._shared.copier()
        if info.compress_type != zipfile.ZIP_STORED:
            with self._shared.zip_lock:
                src = self._zf.open(info)
            try:
                reader = cast(io.BufferedIOBase, src)  # a ZipExtFile
                return copier.copy(reader.readinto, out.write, limit=blob.size, progress=step)
            finally:
                with self._shared.zip_lock:
                    src.close()
        span = stored_span(self._fd, info, self._archive_size)
        if span is None:
            raise ArchiveError(f"{self._label} is damaged or truncated ({blob.name})")
        start, size = span
        if size > blob.size:
            raise TooLong  # refused before a byte is written
        pool = self._shared.hash_pool if copier.overlapping() else None
        digest = kernel_copy_hashed(self._fd, start, size, out.fileno(), pool, step)
        if digest is not None:
            return size, digest
        return copier.copy(
            pread_reader(self._fd, start, size), out.write, limit=blob.size, progress=step
        )
