"""A process pool for the CPU-heavy part of imports (decode, encode, hash).

Sized to the cores this process may use. On Linux the workers come from a fork
server that has already imported Pillow, PyAV and numpy, so a pool after the first
starts in milliseconds (a spawned worker takes ~0.3 s to import them; measured on the
2-core build machine, 2026-12-01); elsewhere they are spawned. Nothing in a worker
touches a space: it writes only into the staging folder it is given. A worker whose
parent dies (the app was killed) exits within ``_WATCH_S`` instead of waiting on its
queue forever.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path

from studio.media.kinds import MediaLimits
from studio.media.prepare import Failed, Prepared, prepare_file

__all__ = [
    "POOL_MIN_FILES",
    "PreparePool",
    "preload_for",
    "start_early",
    "usable_cores",
    "workers_for",
]

Prepare = Callable[[Path, Path, MediaLimits], Prepared | Failed]

POOL_MIN_FILES = 4
"""Fewer files than this are prepared in the calling process: a pool's start costs
about as much as preparing a few photos."""
_WATCH_S = 0.5
# Third-party only: Python 3.11's fork server imports these before it applies the
# parent's sys.path, so our own modules could come from another copy of the app (an
# editable install); the workers import ours after sys.path is set.
_PRELOAD = ["PIL.Image", "PIL.WebPImagePlugin", "PIL.JpegImagePlugin", "numpy", "av"]
_IMAGE_SUFFIXES = {
    ".png", ".jpg", ".jpeg", ".jpe", ".webp", ".gif", ".bmp", ".tif", ".tiff",
}  # fmt: skip


def preload_for(paths: Sequence[Path]) -> list[str]:
    """What the workers should have imported before they start, for these files (going
    by their names: a file named wrongly still imports, its worker loads the rest when
    it needs it). Pillow always (every preview is a WebP); numpy for audio and video
    (waveforms); PyAV only for what is not an image or a WAV (a plain PCM WAV is read
    with numpy): importing it costs ~0.15 s of CPU (measured 2026-12-01, this machine)."""
    suffixes = {p.suffix.lower() for p in paths}
    out = ["PIL.Image", "PIL.WebPImagePlugin"]
    if suffixes & {".jpg", ".jpeg", ".jpe"}:
        out.append("PIL.JpegImagePlugin")
    if suffixes - _IMAGE_SUFFIXES:
        out.append("numpy")
    if suffixes - _IMAGE_SUFFIXES - {".wav"}:
        out.append("av")
    return out


def start_early(paths: Sequence[Path], requested: int | None = None) -> None:
    """Start the fork server for importing ``paths`` now, so that it imports its modules
    while this process opens the space and checks the files (Linux; elsewhere, or when
    the files are prepared in-process, nothing happens). Never raises."""
    if not sys.platform.startswith("linux") or workers_for(len(paths), requested) <= 0:
        return
    try:
        from multiprocessing import forkserver

        _context(preload_for(paths))
        forkserver.ensure_running()
    except Exception:  # the pool starts it later, or prepares in-process
        return


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):  # not on Linux
        return os.cpu_count() or 1


def workers_for(n_files: int, requested: int | None = None) -> int:
    """How many worker processes to prepare ``n_files`` with (0: none, in-process).
    ``requested`` (``None``: automatic) is honoured, but never more than the files."""
    if requested is not None:
        return max(0, min(requested, n_files))
    cores = usable_cores()
    if cores < 2 or n_files < POOL_MIN_FILES:
        return 0
    return min(cores, n_files)


def _context(preload: list[str] | None = None) -> multiprocessing.context.BaseContext:
    # In the bundle the fork server is the bundled program re-run with multiprocessing's
    # arguments: its entry point (packaging/launch.py) calls freeze_support() first.
    if sys.platform.startswith("linux"):
        ctx = multiprocessing.get_context("forkserver")
        # takes effect when the server starts (the first pool, or start_early)
        ctx.set_forkserver_preload(_PRELOAD if preload is None else preload)
        return ctx
    return multiprocessing.get_context("spawn")


def _worker_init(parent: int) -> None:
    """Exit when the process that started the pool is gone (its pid is no longer our
    parent, or no longer exists). The heavy modules came with this module's imports."""
    start_ppid = os.getppid()

    def watch() -> None:
        while True:
            time.sleep(_WATCH_S)
            if os.getppid() != start_ppid or not _alive(parent):
                os._exit(70)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _ping() -> str:
    return "pong"


def _alive(pid: int) -> bool:
    """Is ``pid`` running? A zombie (killed, not yet reaped by its parent) is not: the
    fork server's workers hold its pipes, so waiting for the reaping could wait forever."""
    if sys.platform == "win32":  # pragma: no cover - spawn's parent is the app itself
        return True
    if Path("/proc/self/stat").exists():  # Linux: see the zombie state
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
        except FileNotFoundError:
            return False
        except OSError:
            stat = ""
        if stat:
            return stat.rsplit(")", 1)[-1].split()[:1] not in (["Z"], ["X"])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class PreparePool:
    """``with PreparePool(n) as pool: pool.submit(path, stage, limits)``; ``prepare``
    (a module-level function: it is sent to the workers by name) is what they run."""

    def __init__(
        self, workers: int, prepare: Prepare = prepare_file, preload: list[str] | None = None
    ) -> None:
        self.workers = workers
        self._prepare = prepare
        self._preload = preload
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> PreparePool:
        self._start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _start(self) -> None:
        self._executor = ProcessPoolExecutor(
            self.workers,
            mp_context=_context(self._preload),
            initializer=_worker_init,
            initargs=(os.getpid(),),
        )

    def submit(self, path: Path, stage: Path, limits: MediaLimits) -> Future[Prepared | Failed]:
        assert self._executor is not None
        return self._executor.submit(self._prepare, path, stage, limits)

    def works(self, timeout_s: float = 60.0) -> bool:
        """Can a worker start and answer at all? (Not in a script that starts the pool
        at import time without an ``if __name__ == "__main__"`` guard: each spawned
        worker re-runs that script.)"""
        assert self._executor is not None
        try:
            return self._executor.submit(_ping).result(timeout=timeout_s) == "pong"
        except Exception:  # BrokenProcessPool, a timeout, an import error in the worker
            self.restart()
            return False

    def restart(self) -> None:
        """A worker died (a decoder crashed the process): start over with new ones. The
        broken pool's own thread ends its workers; nothing here waits for that."""
        self.close(wait=False)
        self._start()

    def close(self, wait: bool = True) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=wait, cancel_futures=True)
            self._executor = None
