"""Importing files from disk into a space.

Per file: the source is opened once and copied (hashed as it goes) into a staging
folder, and that copy is probed and its previews rendered there (nothing is written to
the space yet, so a refused file leaves no row); then ``variant:upload`` creates the
``uploading`` variant, the staged original and previews are renamed into place, and
``variant:complete`` points the row at the whole files. A failure after
the row exists turns the variant ``failed`` with the reason.

The first half (copy, hash, decode, encode: :func:`studio.media.prepare.prepare_file`)
runs in a process pool sized to the cores when there are several files; this process
takes the results in the order the files were given and does the second half (rows
through the door, renames), so rows, positions and files are the same as one by one.

The workers never wait for the disk: this process fsyncs each prepared file's data on
a few threads of its own (:class:`_Syncs`) from the moment its worker is done with it,
and a file is registered only once its sync has ended (a failed sync refuses the file
before it has a row).

Files the pool has finished while this process was busy are registered together: one
door step creates their ``uploading`` rows, their files are moved into place and their
folders synced (on ext4 the first sync commits the journal for all of them), and one
more step completes them. A crash between the two steps leaves ``uploading`` rows that
recovery fails and whose folders it removes; no row ever points at a file that is not
whole. A file that can't be placed fails alone; a step the door refuses is retried file
by file, so each file still gets its own clear reason.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import StudioError
from studio.core.import_recovery import INTERRUPTED_AFTER_MS as INTERRUPTED_AFTER_MS
from studio.core.import_recovery import STAGING as STAGING
from studio.core.import_recovery import recover_interrupted as recover_interrupted
from studio.core.layout import GRID_STEP as GRID_STEP
from studio.core.layout import grid_position as grid_position
from studio.core.layout import grid_shape
from studio.core.space import Space
from studio.media import MediaError, MediaLimits, fsync_dir
from studio.media.files import fsync_file
from studio.media.names import printable_name
from studio.media.pool import PreparePool, preload_for, workers_for
from studio.media.prepare import NO_MEMORY as NO_MEMORY
from studio.media.prepare import UNEXPECTED as UNEXPECTED
from studio.media.prepare import Failed, Prepared, copy_failed, prepare_file
from studio.media.prepare import unexpected_reason as unexpected_reason
from studio.media.previews import POSTER_NAME, THUMB_NAME

log = logging.getLogger(__name__)

CRASHED = f"{UNEXPECTED} (its decoder crashed)"
_MAX_ATTEMPTS = 2  # a file in flight when a worker crashed is tried once more, alone
BATCH_MAX = 16
"""The most finished files registered in one pair of door steps."""
BATCH_WAIT_S = 0.1
"""How long a batch waits for the next file once its first is there (progress still
moves file by file, at most this late)."""
SYNC_THREADS = 4
"""Threads fsyncing prepared files (a sync waits for the disk, not for a core: several
in flight let the disk take them together)."""

Progress = Callable[[int, int, Path], None]
"""``progress(done, total, path)``: called once per file, in order, when it is imported
or refused."""


@dataclass(frozen=True, slots=True)
class Imported:
    path: Path
    asset_id: str
    variant_id: str
    undo: tuple[c.Command, ...]

    @property
    def display_path(self) -> str:
        """The path as printable text (file names may hold bytes that are not UTF-8)."""
        return printable_name(self.path)


@dataclass(frozen=True, slots=True)
class Refused:
    path: Path
    reason: str

    @property
    def display_path(self) -> str:
        return printable_name(self.path)

    def line(self) -> str:
        return f"{self.display_path}: {self.reason}"


@dataclass(frozen=True, slots=True)
class ImportReport:
    imported: tuple[Imported, ...]
    refused: tuple[Refused, ...]

    @property
    def undo(self) -> tuple[c.Command, ...]:
        return tuple(cmd for item in reversed(self.imported) for cmd in item.undo)


@dataclass(frozen=True, slots=True)
class _Where:
    into: str | None
    type_: str
    origin: tuple[float, float]
    count: int


def import_files(
    space: Space,
    paths: Sequence[Path],
    actor: Actor,
    *,
    into: str | None = None,
    type_: str = "",
    origin: tuple[float, float] = (0.0, 0.0),
    limits: MediaLimits | None = None,
    workers: int | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import each file; one that can't be imported becomes a ``Refused`` line with one
    clear sentence, and never stops the others.

    ``workers``: processes preparing files (``None``: one per core when there are a
    few files or more; 0: all in this process)."""
    limits = limits or MediaLimits()
    files = [Path(p) for p in paths]
    if into is None and files:  # new cards: the whole grid where it fits, together
        origin = space.read.free_block_near(*origin, *grid_shape(len(files)))
    where = _Where(into, type_, origin, len(files))
    imported: list[Imported] = []
    refused: list[Refused] = []
    staging_root = space.staging_dir()  # this holder's own: recovery leaves it alone
    n_workers = workers_for(len(files), workers)
    flight = _Flight()
    with _Cleaner() as cleaner, _Syncs() as syncs:
        outcomes = _prepared(space, files, staging_root, limits, n_workers, flight, syncs)
        for batch in _batches(outcomes, flight.head_ready):
            done = _register(space, batch, actor, where, len(imported), syncs)
            for (path, stage, _outcome), result in zip(batch, done, strict=True):
                if isinstance(result, Imported):
                    imported.append(result)
                else:
                    refused.append(result)
                if stage is not None:
                    cleaner.remove(stage)
                if progress is not None:
                    progress(len(imported) + len(refused), len(files), path)
    report = ImportReport(tuple(imported), tuple(refused))
    if imported:
        n = len(imported)
        space.remember(actor, report.undo, f"Import {n} file{'s' if n != 1 else ''}")
    return report


_Outcome = Prepared | Failed | StudioError
_Item = tuple[Path, Path | None, _Outcome]


def _batches(items: Iterator[_Item], ready: Callable[[float], bool]) -> Iterator[list[_Item]]:
    """Consecutive items: a batch ends at :data:`BATCH_MAX`, or when the next item is not
    finished within :data:`BATCH_WAIT_S` of the batch's first (``ready(seconds)`` waits
    at most that long; the workers go on meanwhile)."""
    batch: list[_Item] = []
    since = 0.0
    for item in items:
        if not batch:
            since = time.monotonic()
        batch.append(item)
        if len(batch) >= BATCH_MAX or not ready(max(0.0, since + BATCH_WAIT_S - time.monotonic())):
            yield batch
            batch = []
    if batch:
        yield batch


def _register(
    space: Space, batch: list[_Item], actor: Actor, where: _Where, index: int, syncs: _Syncs
) -> list[Imported | Refused]:
    """Rows and files for a batch of prepared files, in order; ``index``: how many files
    this import has placed before it (their grid positions). A file gets its row once
    its data is on the disk (``syncs``)."""
    out: list[Imported | Refused | None] = [None] * len(batch)
    ready: list[tuple[int, Path, Prepared]] = []
    for i, (path, _stage, outcome) in enumerate(batch):
        if isinstance(outcome, Prepared):
            failed = syncs.wait(outcome)
            if failed is not None:  # nothing points at it yet: refused without a row
                out[i] = Refused(path, copy_failed(failed))
                continue
            ready.append((i, path, outcome))
        elif isinstance(outcome, StudioError):
            out[i] = Refused(path, _reason(outcome))
        else:
            if outcome.unexpected:
                log.debug("importing %r failed unexpectedly: %s", path, outcome.detail)
            out[i] = Refused(path, outcome.reason)
    if len(ready) > 1:
        placed = _commit_many(space, [(p, x) for _, p, x in ready], actor, where, index, syncs)
        if placed is not None:  # else the door refused the rows: each file alone
            for (i, _p, _x), result in zip(ready, placed, strict=True):
                out[i] = result
            ready = []
    for i, path, prepared in ready:
        out[i] = _guarded(space, path, prepared, actor, where, index)
        if isinstance(out[i], Imported):
            index += 1
    return [r for r in out if r is not None]


def _guarded(
    space: Space, path: Path, prepared: Prepared, actor: Actor, where: _Where, index: int
) -> Imported | Refused:
    """:func:`_commit_one`, its failure a ``Refused`` line."""
    try:
        return _commit_one(space, path, prepared, actor, where, index)
    except (MediaError, StudioError) as exc:
        return Refused(path, _reason(exc))
    except Exception as exc:  # a bug must cost one file, not the batch
        log.debug("importing %r failed unexpectedly", path, exc_info=True)
        return Refused(path, unexpected_reason(exc))


def _commit_many(
    space: Space,
    batch: list[tuple[Path, Prepared]],
    actor: Actor,
    where: _Where,
    index: int,
    syncs: _Syncs,
) -> list[Imported | Refused] | None:
    """:func:`_commit_one` for several files in two door steps: all their rows begun,
    the files placed and their folders synced, then all completed. ``None`` when the
    door refuses to begin the rows (nothing was written: the caller goes file by file,
    so each file gets its own reason)."""
    try:
        begun = space.apply_step(
            [_begin(path, p, where, index + i) for i, (path, p) in enumerate(batch)],
            actor,
            record=False,  # the whole import is one entry in the undo history
        ).applied
    except Exception:  # one step, all or nothing: no row exists
        log.debug("beginning %d uploads at once failed", len(batch), exc_info=True)
        return None
    out: list[Imported | Refused] = []
    complete: list[tuple[int, c.CompleteVariant, Path]] = []
    for (path, prepared), applied in zip(batch, begun, strict=True):
        aid, vid = applied.created["asset_id"], applied.created["variant_id"]
        dest: Path | None = None
        try:
            rel_dir, dest = _variant_dir(space, aid, vid)
            done = _place(space, prepared, vid, rel_dir, dest)
        except Exception as exc:
            out.append(_refuse_placed(space, path, vid, dest, exc))
            continue
        complete.append((len(out), done, dest))
        out.append(Imported(path, aid, vid, applied.inverse))
    synced: list[tuple[int, c.CompleteVariant, Path]] = []
    # the renames are durable before any row names them
    dests = [d for *_, d in complete]
    for (i, cmd, dest), failed in zip(complete, syncs.folders(dests), strict=True):
        if failed is not None:  # this file fails alone, with its reason; the rest go on
            out[i] = _refuse_placed(space, out[i].path, cmd.variant_id, dest, failed)
            continue
        synced.append((i, cmd, dest))
    complete = synced
    if not complete:
        return out
    try:
        space.apply_step([cmd for _, cmd, _ in complete], Actor.system(), record=False)
    except Exception:  # e.g. one was deleted meanwhile: complete them one by one
        for i, cmd, dest in complete:
            item = out[i]
            try:
                space.apply(cmd, Actor.system())
            except Exception as exc:
                out[i] = _refuse_placed(space, item.path, cmd.variant_id, dest, exc)
    return out


def _begin(path: Path, prepared: Prepared, where: _Where, index: int) -> c.BeginUpload:
    x, y = grid_position(index, where.count, where.origin)
    return c.BeginUpload(
        media_kind=c.MediaKindName(prepared.info.kind.value),
        original_name=printable_name(path.name),
        asset_id=where.into,
        type=where.type_,
        x=x,
        y=y,
        source=prepared.recipe_fields or {},
    )


def _variant_dir(space: Space, aid: str, vid: str) -> tuple[PurePosixPath, Path]:
    """The variant's folder: relative to the media folder, and where it is."""
    rel_dir = PurePosixPath(space.asset(aid).slug) / vid
    return rel_dir, space.media_dir / rel_dir


def _place(
    space: Space, prepared: Prepared, vid: str, rel_dir: PurePosixPath, dest: Path
) -> c.CompleteVariant:
    """Move a prepared file's whole, fsync'd files into its variant's folder ``dest``
    (not synced yet: the caller syncs it before the returned command is applied)."""
    staged, info, previews = prepared.staged, prepared.info, prepared.previews
    try:  # the asset's folder, then the variant's: never the media folder itself
        dest.parent.mkdir(exist_ok=True)
        moved = _move_stage(prepared, dest)
        if not moved:
            dest.mkdir(exist_ok=True)
    except FileNotFoundError:  # the space was deleted or moved meanwhile
        raise space._gone_error() from None
    if not moved:
        place_file(staged.path, dest / f"original.{info.ext}")
        for tier in previews.tiers:  # before the thumbnail: none is ever missing beside it
            place_file(tier, dest / tier.name)
        if previews.thumb is not None:
            place_file(previews.thumb, dest / THUMB_NAME)
        if previews.poster is not None:
            place_file(previews.poster, dest / POSTER_NAME)
    rel_thumb = None if previews.thumb is None else str(rel_dir / THUMB_NAME)
    rel_poster = None if previews.poster is None else str(rel_dir / POSTER_NAME)
    return c.CompleteVariant(
        variant_id=vid,
        media_path=str(rel_dir / f"original.{info.ext}"),
        mime=info.mime,
        size_bytes=staged.size_bytes,
        sha256=staged.sha256,
        width=info.width,
        height=info.height,
        duration_ms=info.duration_ms,
        thumb_path=rel_thumb,
        poster_path=rel_poster,
        generation_provenance=prepared.provenance,
    )


def _move_stage(prepared: Prepared, dest: Path) -> bool:
    """Make a prepared file's staging folder its variant's folder ``dest`` with one
    rename, when the folder holds just the files :func:`_place` would move out of it one
    by one under these same names (the copy renamed ``original.<ext>`` first): a
    folder made, four renames and the stage's removal fewer a file. False (nothing
    moved) when it holds anything else or the rename fails; the caller then moves the
    files."""
    staged, previews = prepared.staged, prepared.previews
    stage = staged.path.parent
    extra = (previews.thumb, previews.poster)
    files = [staged.path, *previews.tiers, *(p for p in extra if p is not None)]
    names = {THUMB_NAME: previews.thumb, POSTER_NAME: previews.poster}
    if any(p.parent != stage for p in files) or any(
        p is not None and p.name != name for name, p in names.items()
    ):
        return False
    original = f"original.{prepared.info.ext}"
    if original in (p.name for p in files[1:]) or sorted(os.listdir(stage)) != sorted(
        p.name for p in files
    ):
        return False
    place_file(staged.path, stage / original)
    try:
        os.rename(stage, dest)
    except OSError:  # (dest there already…) as it was: the files are moved one by one
        place_file(stage / original, staged.path)
        return False
    return True


def _refuse_placed(
    space: Space, path: Path, vid: str, dest: Path | None, exc: Exception
) -> Refused:
    """The row exists but its files could not be placed or completed: the variant turns
    ``failed`` with the reason and its folder goes."""
    reason = _fail_row(space, vid, dest, exc)
    if not isinstance(exc, (OSError, StudioError)):
        log.debug("importing %r failed unexpectedly", path, exc_info=exc)
    return Refused(path, reason)


def _fail_row(space: Space, vid: str, dest: Path | None, exc: Exception) -> str:
    if isinstance(exc, OSError):
        code, reason = "STORAGE_ERROR", f"could not copy the file: {exc.strerror or exc}"
    elif isinstance(exc, StudioError):
        code, reason = "STORAGE_ERROR", exc.message
    else:
        code, reason = "IMPORT_FAILED", unexpected_reason(exc)
    try:
        space.apply(c.FailVariant(vid, code, reason), Actor.system())
    except StudioError:
        pass  # deleted meanwhile: nothing to mark
    if dest is not None:
        shutil.rmtree(dest, ignore_errors=True)  # the variant's own folder: no row uses it
    return reason


class _Cleaner:
    """Removes staging folders on a thread of its own (an ``rmdir`` waits for the file
    system's journal; the door's next step need not). Every removal is done on exit;
    what a crash leaves, recovery sweeps with the dead holder's staging folder."""

    def __enter__(self) -> _Cleaner:
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="import-clean")
        return self

    def remove(self, stage: Path) -> None:
        self._pool.submit(shutil.rmtree, stage, ignore_errors=True)

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True)


class _Syncs:
    """fsync on :data:`SYNC_THREADS` threads of this process: each prepared file's data
    as soon as its worker is done with it (:meth:`on_done`, long before the file is
    registered), and the variant folders of a batch together (:meth:`folders`)."""

    def __enter__(self) -> _Syncs:
        self._pool = ThreadPoolExecutor(SYNC_THREADS, thread_name_prefix="import-sync")
        self._lock = threading.Lock()
        self._started: dict[Path, Future[None]] = {}
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def start(self, prepared: Prepared) -> None:
        with self._lock:
            if prepared.staged.path not in self._started:
                self._started[prepared.staged.path] = self._pool.submit(
                    _sync_files, prepared.unsynced
                )

    def on_done(self, job: Future[Prepared | Failed]) -> None:
        """A worker's job ended (called on the process pool's own thread)."""
        if job.cancelled() or job.exception() is not None:
            return
        made = job.result()
        if isinstance(made, Prepared):
            with contextlib.suppress(RuntimeError):  # shut down: wait() syncs it inline
                self.start(made)

    def wait(self, prepared: Prepared) -> OSError | None:
        """Sync ``prepared``'s files (if not begun already) and wait: the first error."""
        try:
            self.start(prepared)
        except RuntimeError:  # pragma: no cover - only after __exit__
            pass
        with self._lock:
            syncing = self._started.pop(prepared.staged.path, None)
        try:
            if syncing is None:  # pragma: no cover - see above
                _sync_files(prepared.unsynced)
            else:
                syncing.result()
        except OSError as exc:
            return exc
        return None

    def folders(self, dests: list[Path]) -> list[Exception | None]:
        """``fsync_dir`` each of ``dests`` at once; what each one raised."""

        def one(dest: Path) -> Exception | None:
            try:
                fsync_dir(dest)
            except Exception as exc:
                return exc
            return None

        return list(self._pool.map(one, dests))


def _sync_files(paths: tuple[Path, ...]) -> None:
    for path in paths:
        fsync_file(path)


class _Flight:
    """The files submitted to the pool and not yet handed on, in input order."""

    def __init__(self) -> None:
        self.queue: deque[tuple[Path, Path | None, Future[Prepared | Failed] | StudioError]]
        self.queue = deque()

    def head_ready(self, wait_s: float = 0.0) -> bool:
        """Is the next file's outcome there (waiting up to ``wait_s`` for it)? A file
        whose worker died is not: it is tried again, alone."""
        if not self.queue:
            return False
        job = self.queue[0][2]
        if not isinstance(job, Future):
            return True
        if wait_s > 0:
            wait([job], timeout=wait_s)
        return job.done() and job.exception() is None


_PREPARE = prepare_file  # what the pool's workers run (tests swap in a crashing one)


def _new_stage(space: Space, staging_root: Path) -> Path:
    stage = staging_root / space.new_id()
    try:  # never its parents: a space deleted meanwhile must stay deleted
        stage.mkdir()
    except FileNotFoundError:
        raise space._gone_error() from None
    return stage


def _prepared(
    space: Space,
    files: list[Path],
    staging_root: Path,
    limits: MediaLimits,
    workers: int,
    flight: _Flight,
    syncs: _Syncs,
) -> Iterator[tuple[Path, Path | None, _Outcome]]:
    """Each file with its staging folder and what preparing it gave, in input order.
    ``flight`` holds the files submitted and not yet yielded (the caller peeks at it);
    a prepared file's sync begins in ``syncs`` as soon as its worker is done."""
    if workers <= 0:
        yield from _serially(space, files, staging_root, limits)
        return
    window = 4 * workers + 2  # a slow file at the head does not idle the others; staged
    # copies waiting for this process stay few
    todo = deque(files)
    queue = flight.queue
    attempts: dict[str, int] = {}
    with PreparePool(workers, _PREPARE, preload_for(files)) as pool:

        def submit(path: Path, stage: Path) -> Future[Prepared | Failed]:
            attempts[str(stage)] = attempts.get(str(stage), 0) + 1
            job = pool.submit(path, stage, limits)
            job.add_done_callback(syncs.on_done)
            return job

        def fill() -> None:
            while todo and len(queue) < window:
                nxt = todo.popleft()
                try:
                    new = _new_stage(space, staging_root)
                except StudioError as exc:
                    queue.append((nxt, None, exc))
                    continue
                queue.append((nxt, new, submit(nxt, new)))

        fill()
        while queue:
            head, where, job = queue.popleft()
            fill()  # the workers stay busy while this process registers what they made
            if isinstance(job, StudioError) or where is None:
                yield head, where, job if isinstance(job, StudioError) else Failed(UNEXPECTED)
                continue
            try:
                outcome: _Outcome = job.result()
            except BrokenProcessPool:
                # A worker died (a decoder crashed it): every file in flight failed with
                # it. Try this one again alone, then the others, in a new pool.
                pool.restart()
                if not pool.works():  # no worker can start here: do it all in-process
                    log.warning("the import pool can't start; preparing files in-process")
                    rest = [(head, where, job), *queue]
                    queue.clear()
                    for p, s, j in rest:
                        if isinstance(j, StudioError) or s is None:
                            yield p, s, j if isinstance(j, StudioError) else Failed(UNEXPECTED)
                        else:
                            yield p, s, prepare_file(p, _fresh(s), limits)
                    yield from _serially(space, list(todo), staging_root, limits)
                    return
                outcome = _alone(pool, head, where, limits, attempts, submit)
                again = [
                    (p, s, submit(p, _fresh(s)) if _lost(j) and s is not None else j)
                    for p, s, j in queue
                ]
                queue.clear()
                queue.extend(again)
            yield head, where, outcome


def _serially(
    space: Space, files: list[Path], staging_root: Path, limits: MediaLimits
) -> Iterator[tuple[Path, Path | None, _Outcome]]:
    for path in files:
        try:
            stage = _new_stage(space, staging_root)
        except StudioError as exc:
            yield path, None, exc
            continue
        yield path, stage, prepare_file(path, stage, limits)


def _lost(job: Future[Prepared | Failed] | StudioError) -> bool:
    """Did this job die with a crashed pool (rather than finish before it)?"""
    if not isinstance(job, Future):
        return False
    return not job.done() or isinstance(job.exception(), BrokenProcessPool)


def _fresh(stage: Path) -> Path:
    """Empty a staging folder a dead worker may have half-filled."""
    for child in stage.iterdir():
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
    return stage


def _alone(
    pool: PreparePool,
    path: Path,
    stage: Path,
    limits: MediaLimits,
    attempts: dict[str, int],
    submit: Callable[[Path, Path], Future[Prepared | Failed]],
) -> Prepared | Failed:
    while attempts.get(str(stage), 0) < _MAX_ATTEMPTS:
        try:
            return submit(path, _fresh(stage)).result()
        except BrokenProcessPool:
            pool.restart()
    return Failed(CRASHED, unexpected=True, detail="worker process died")


def _reason(exc: Exception) -> str:
    if isinstance(exc, MediaError):
        return exc.message
    if isinstance(exc, StudioError):
        return exc.message
    return str(exc)  # pragma: no cover


def _commit_one(
    space: Space, path: Path, prepared: Prepared, actor: Actor, where: _Where, index: int
) -> Imported:
    """Create the row, move the whole files into place, point the row at them."""
    begun = space.apply(
        _begin(path, prepared, where, index),
        actor,
        record=False,  # the whole import is one entry in the undo history
    )
    aid, vid = begun.created["asset_id"], begun.created["variant_id"]
    dest: Path | None = None
    try:
        rel_dir, dest = _variant_dir(space, aid, vid)
        done = _place(space, prepared, vid, rel_dir, dest)
        fsync_dir(dest)
        space.apply(done, Actor.system())
    except Exception as exc:  # the row exists: it must not stay 'uploading'
        reason = _fail_row(space, vid, dest, exc)
        if isinstance(exc, (OSError, StudioError)):
            raise _ImportFailed(reason) from exc
        raise  # import_files reports it as unexpected, with its traceback in the log
    return Imported(path, aid, vid, begun.inverse)


def place_file(src: Path, dest: Path) -> None:
    """Move a whole, fsync'd staging file to its final place (same file system)."""
    os.replace(src, dest)


class _ImportFailed(StudioError):
    pass
