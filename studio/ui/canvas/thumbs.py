"""Thumbnail pixmaps for the canvas: decoded off the UI thread, kept in an LRU by bytes.

``get(path, tier)`` never touches the disk on the calling (UI) thread: it returns the
cached pixmap, or None after queueing a load. Loads run on a ``QThreadPool`` (a
``QImageReader`` decodes straight to the tier's size, e.g. 256 px or 64 px; the 64 and
16 px tiers are read from the small files stored beside each thumbnail at import or
generation, ``thumb.64.webp`` / ``thumb.16.webp``, when they exist), the decoded
``QImage``\\s come back to the UI thread, are turned into ``QPixmap``\\s in small
time-boxed batches, and ``loaded`` is emitted with the keys that arrived. The queue is
last-in-first-out and bounded, so what the user looks at *now* loads first.

Requests follow visibility: given ``set_wanted`` (what the views show now, e.g.
:func:`visible_keys`), the cache re-reads it every ``RECHECK_MS`` while loading — queued
requests no longer on screen are dropped — and once more when the queue drains, asking
again for whatever is on screen and still missing (dropped by the bound, or evicted).

The cache never holds more than ``budget`` bytes of pixmaps (width x height x 4): the
least recently used go first. Tests may pass ``executor=lambda job: job()`` to decode
synchronously (Picard's trick) and then call :meth:`flush`.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage, QPixmap

from studio.ui.canvas.geometry import TIER_FULL, TIER_LOW
from studio.ui.canvas.thumb_sources import Key, decode, visible_keys

__all__ = ["Key", "ThumbnailCache", "decode", "pixmap_bytes", "visible_keys"]

Executor = Callable[[Callable[[], None]], None]

DEFAULT_BUDGET = 512 * 1024 * 1024
MAX_QUEUED = 65_536  # older requests beyond this are forgotten (asked again if still visible)
IN_FLIGHT = 64
"""Decodes handed to the pool at once. The UI thread may be busy for a while (a far-zoom
repaint of thousands of cards): with only a few in flight the decoders would idle."""
JOB_KEYS = 8  # thumbnails one pool job decodes in a row
FLUSH_BUDGET_S = 0.006  # UI-thread time per batch of QImage -> QPixmap conversions
FLUSH_EVERY_S = 0.06
"""Arrivals are taken (and ``loaded`` emitted, so the canvas repaints) at most this
often: a far-zoom repaint of thousands of cards costs tens of ms of UI thread, and one
per decoded image would starve the decoders of the interpreter lock (measured: ~50
thumbnails/s at 6,000 cards on screen; ~10x that with this pacing and more in flight)."""
RECHECK_MS = 400  # how often what is wanted is re-read while loading (and after a drain)


class _Relay(QObject):
    """Lives on the UI thread; worker threads emit on it, Qt queues the call over."""

    done = Signal(object)  # [(Key, QImage | None)]


class _Job(QRunnable):
    """Decodes a few keys in a row and sends them back together (fewer thread wake-ups
    and cross-thread events than one job per thumbnail)."""

    def __init__(self, keys: list[Key], relay: _Relay) -> None:
        super().__init__()
        self._keys = keys
        self._relay = relay

    def run(self) -> None:
        out: list[tuple[Key, QImage | None]] = []
        for key in self._keys:
            try:
                image = decode(*key)
            except Exception:  # a broken file must not kill the pool thread
                image = None
            out.append((key, image))
        self._relay.done.emit(out)


def pixmap_bytes(pm: QPixmap) -> int:
    return pm.width() * pm.height() * 4


class ThumbnailCache(QObject):
    loaded = Signal(list)  # [Key]: now cached (or failed for good: see failed())

    def __init__(
        self,
        budget: int = DEFAULT_BUDGET,
        *,
        pool: QThreadPool | None = None,
        executor: Executor | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self._budget = budget
        self._used = 0
        self._lru: OrderedDict[Key, QPixmap] = OrderedDict()
        self._queued: OrderedDict[Key, None] = OrderedDict()  # newest last
        self._running: set[Key] = set()
        self._failed: set[Key] = set()
        self._retry: set[Key] = set()  # decoding when their file was replaced: a miss is no failure
        self._arrived: deque[tuple[Key, QImage | None]] = deque()
        self._dispatching = False
        if pool is None and executor is None:
            # our own pool: decoding must not queue behind generation jobs (or vice versa)
            pool = QThreadPool(self)
            pool.setMaxThreadCount(max(2, min(4, QThread.idealThreadCount() - 1)))
        self._pool = pool
        self._executor = executor
        self._relay = _Relay(self)
        self._relay.done.connect(self._on_done)
        self._flush_timer = QTimer(self)
        self._flush_timer.setSingleShot(True)
        self._flush_timer.setInterval(0)
        self._flush_timer.timeout.connect(self.flush)
        self._last_flush = 0.0
        self.max_running = max(IN_FLIGHT, pool.maxThreadCount() + 2) if pool is not None else 1
        self._wanted: Callable[[], list[Key]] | None = None
        self._recheck_timer = QTimer(self)
        self._recheck_timer.setSingleShot(True)
        self._recheck_timer.setInterval(RECHECK_MS)
        self._recheck_timer.timeout.connect(self.recheck)
        self._stalled = 0  # rechecks in a row that found nothing new loaded
        self._last_have = -1
        self._last_sig: object = None

    # ------------------------------------------------------------------ queries
    @property
    def budget(self) -> int:
        return self._budget

    @property
    def used_bytes(self) -> int:
        return self._used

    def __len__(self) -> int:
        return len(self._lru)

    def __contains__(self, key: object) -> bool:
        return key in self._lru

    def pending(self) -> int:
        return len(self._queued) + len(self._running) + len(self._arrived)

    def failed(self, path: str, tier: int = TIER_FULL) -> bool:
        return (path, tier) in self._failed

    def peek(self, path: str, tier: int) -> QPixmap | None:
        """The cached pixmap, without loading or touching the LRU order."""
        return self._lru.get((path, tier))

    def get(self, path: str, tier: int) -> QPixmap | None:
        """The cached pixmap (now most recently used), or None and a load is queued."""
        key = (path, tier)
        pm = self._lru.get(key)
        if pm is not None:
            self._lru.move_to_end(key)
            return pm
        self.request(key)
        return None

    def hot_access(
        self,
    ) -> tuple[Callable[[Key], QPixmap | None], Callable[[Key], None], Callable[[Key], None]]:
        """``(lookup, touch, request)`` for a loop over thousands of cards: ``get``
        split into bound C-level calls (``lookup`` = dict get, ``touch`` = mark most
        recently used, ``request`` = queue a load)."""
        return (self._lru.get, self._lru.move_to_end, self.request)

    def best(self, path: str, tier: int) -> QPixmap | None:
        """``get(path, tier)``, or meanwhile the other tier if that one is cached (a
        blurry thumbnail beats a placeholder)."""
        pm = self.get(path, tier)
        if pm is None:
            pm = self._lru.get((path, TIER_LOW if tier != TIER_LOW else TIER_FULL))
        return pm

    # ------------------------------------------------------------------ loading
    def request(self, key: Key) -> None:
        queued = self._queued
        if key in queued:  # the hot case (a repaint asks again): just newer now
            queued.move_to_end(key)
            return
        if key in self._lru or key in self._failed or key in self._running:
            return
        queued[key] = None
        if len(queued) > MAX_QUEUED:
            queued.popitem(last=False)
        if self._wanted is not None and not self._recheck_timer.isActive():
            self._recheck_timer.start()
        self._dispatch()

    def set_wanted(self, wanted: Callable[[], list[Key]] | None) -> None:
        """What is on screen now (most wanted first); see the module's doc."""
        self._wanted = wanted

    def recheck(self) -> int:
        """Drop queued requests no longer wanted; queue the wanted ones neither cached,
        failed nor on their way (at most the queue's bound). Returns how many were
        queued. Gives up (until what is wanted changes) after two rechecks in a row that
        saw nothing new arrive: a budget too small for the screen would only churn."""
        if self._wanted is None:
            return 0
        wanted = self._wanted()
        want = set(wanted)
        queued = self._queued
        for key in [k for k in queued if k not in want]:
            del queued[key]
        lru, failed, running = self._lru, self._failed, self._running
        missing = [k for k in wanted if k not in lru and k not in failed and k not in running]
        have = len(wanted) - len(missing)
        sig = (len(wanted), wanted[:1], wanted[-1:])
        if sig != self._last_sig or have > self._last_have or queued or running:
            self._stalled = 0
        else:
            self._stalled += 1
        self._last_sig, self._last_have = sig, have
        if self._stalled >= 2:
            return 0
        added = 0
        room = MAX_QUEUED - len(queued)
        for key in reversed(missing):  # last in, first out: the first wanted loads first
            if key not in queued:
                if added >= room:
                    continue
                added += 1
            queued[key] = None
            queued.move_to_end(key)
        self._dispatch()
        if self.pending():
            self._recheck_timer.start()
        return added

    def cancel_pending(self) -> None:
        """Forget queued requests (running decodes finish and are cached)."""
        self._queued.clear()

    def _dispatch(self) -> None:
        if self._dispatching:  # a synchronous executor calls back into us
            return
        self._dispatching = True
        try:
            per_job = 1 if self._executor is not None else JOB_KEYS
            while self._queued and len(self._running) < self.max_running:
                keys = [
                    self._queued.popitem(last=True)[0]
                    for _ in range(min(per_job, len(self._queued)))
                ]
                self._running.update(keys)
                if self._executor is not None:
                    self._executor(_Job(keys, self._relay).run)
                elif self._pool is not None:
                    self._pool.start(_Job(keys, self._relay))
        finally:
            self._dispatching = False

    def _on_done(self, batch: list[tuple[Key, QImage | None]]) -> None:
        for key, _image in batch:
            self._running.discard(key)
        self._arrived.extend(batch)
        self._schedule_flush()
        self._dispatch()

    def _schedule_flush(self) -> None:
        if not self._flush_timer.isActive():
            wait = self._last_flush + FLUSH_EVERY_S - time.perf_counter()
            self._flush_timer.start(max(0, round(wait * 1000)))

    def flush(self) -> list[Key]:
        """Turn decoded images into cached pixmaps for a few milliseconds; emit
        ``loaded`` with their keys and reschedule for the rest."""
        t0 = self._last_flush = time.perf_counter()
        done: list[Key] = []
        while self._arrived:
            key, image = self._arrived.popleft()
            if image is None:
                if key in self._retry:
                    self._retry.discard(key)
                else:
                    self._failed.add(key)
            else:
                self._insert(key, QPixmap.fromImage(image))
            done.append(key)
            if time.perf_counter() - t0 > FLUSH_BUDGET_S:
                break
        if self._arrived:
            self._schedule_flush()  # the rest, after a repaint and the events waiting
        elif self._wanted is not None and not self.pending():
            self._recheck_timer.start()  # drained: is anything on screen still missing?
        if done:
            self.loaded.emit(done)
        return done

    def _insert(self, key: Key, pm: QPixmap) -> None:
        size = pixmap_bytes(pm)
        if size > self._budget:
            return
        old = self._lru.pop(key, None)
        if old is not None:
            self._used -= pixmap_bytes(old)
        while self._lru and self._used + size > self._budget:
            _k, gone = self._lru.popitem(last=False)
            self._used -= pixmap_bytes(gone)
        self._lru[key] = pm
        self._used += size

    # ------------------------------------------------------------------ housekeeping
    def set_budget(self, budget: int) -> None:
        self._budget = budget
        while self._lru and self._used > self._budget:
            _k, gone = self._lru.popitem(last=False)
            self._used -= pixmap_bytes(gone)

    def forget(self, paths: Iterable[str]) -> None:
        drop = set(paths)
        for key in [k for k in self._lru if k[0] in drop]:
            self._used -= pixmap_bytes(self._lru.pop(key))
        self._failed = {k for k in self._failed if k[0] not in drop}
        # a decode of the old file still on its way must not mark the new one failed
        self._retry |= {k for k in self._running if k[0] in drop}
        self._retry |= {k for k, image in self._arrived if image is None and k[0] in drop}

    def close(self, timeout_ms: int = 5000) -> None:
        """Stop loading: forget the queue and wait for running decodes (call before
        the application quits, so no worker emits into a deleted object)."""
        self._wanted = None
        self._recheck_timer.stop()
        self._queued.clear()
        if self._pool is not None:
            self._pool.waitForDone(timeout_ms)

    def clear(self) -> None:
        self._queued.clear()
        self._lru.clear()
        self._failed.clear()
        self._retry.clear()
        self._used = 0

    def wait_idle(self, timeout_s: float = 10.0) -> bool:
        """Block until every queued load is cached (tests, benchmarks)."""
        from PySide6.QtCore import QCoreApplication

        end = time.perf_counter() + timeout_s
        while self.pending() and time.perf_counter() < end:
            QCoreApplication.processEvents()
            if self._arrived:
                self.flush()
            time.sleep(0.001)
        return not self.pending()
