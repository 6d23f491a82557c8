"""Thumbnail pixmaps for the canvas: decoded off the UI thread, kept in an LRU by bytes.

``get(path, tier)`` never touches the disk on the calling (UI) thread: it returns the
cached pixmap, or None after queueing a load. Loads run on a ``QThreadPool`` (a
``QImageReader`` decodes straight to the tier's size, e.g. 256 px or 64 px), the
decoded ``QImage``\\s come back to the UI thread, are turned into ``QPixmap``\\s in
small time-boxed batches, and ``loaded`` is emitted with the keys that arrived. The
queue is last-in-first-out and bounded, so what the user looks at *now* loads first and
scrolled-past requests are dropped.

The cache never holds more than ``budget`` bytes of pixmaps (width x height x 4): the
least recently used go first. Tests may pass ``executor=lambda job: job()`` to decode
synchronously (Picard's trick) and then call :meth:`flush`.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, QRunnable, QSize, QThread, QThreadPool, QTimer, Signal
from PySide6.QtGui import QImage, QImageReader, QPixmap

from studio.ui.canvas.geometry import TIER_FULL, TIER_LOW, scaled_size

Key = tuple[str, int]  # (absolute path, tier)
Executor = Callable[[Callable[[], None]], None]

DEFAULT_BUDGET = 512 * 1024 * 1024
MAX_QUEUED = 4096  # older requests beyond this are forgotten (they were scrolled past)
FLUSH_BUDGET_S = 0.006  # UI-thread time per batch of QImage -> QPixmap conversions


def decode(path: str, tier: int) -> QImage | None:
    """Read ``path`` scaled so its longest side is at most ``tier`` (any thread)."""
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        w, h = scaled_size(size.width(), size.height(), tier)
        if (w, h) != (size.width(), size.height()):
            reader.setScaledSize(QSize(w, h))
    image = reader.read()
    if image.isNull():
        return None
    if max(image.width(), image.height()) > tier:  # formats that ignore setScaledSize
        w, h = scaled_size(image.width(), image.height(), tier)
        image = image.scaled(w, h)
    if image.format() != QImage.Format.Format_ARGB32_Premultiplied:
        image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    return image


class _Relay(QObject):
    """Lives on the UI thread; worker threads emit on it, Qt queues the call over."""

    done = Signal(object, object)  # Key, QImage | None


class _Job(QRunnable):
    def __init__(self, key: Key, relay: _Relay) -> None:
        super().__init__()
        self._key = key
        self._relay = relay

    def run(self) -> None:
        try:
            image = decode(*self._key)
        except Exception:  # a broken file must not kill the pool thread
            image = None
        self._relay.done.emit(self._key, image)


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
        self.max_running = pool.maxThreadCount() + 2 if pool is not None else 1

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
        if key in self._lru or key in self._failed or key in self._running:
            return
        if key in self._queued:
            self._queued.move_to_end(key)
        else:
            self._queued[key] = None
            if len(self._queued) > MAX_QUEUED:
                self._queued.popitem(last=False)
        self._dispatch()

    def cancel_pending(self) -> None:
        """Forget queued requests (running decodes finish and are cached)."""
        self._queued.clear()

    def _dispatch(self) -> None:
        if self._dispatching:  # a synchronous executor calls back into us
            return
        self._dispatching = True
        try:
            while self._queued and len(self._running) < self.max_running:
                key, _ = self._queued.popitem(last=True)
                self._running.add(key)
                if self._executor is not None:
                    self._executor(_Job(key, self._relay).run)
                elif self._pool is not None:
                    self._pool.start(_Job(key, self._relay))
        finally:
            self._dispatching = False

    def _on_done(self, key: Key, image: QImage | None) -> None:
        self._running.discard(key)
        self._arrived.append((key, image))
        if not self._flush_timer.isActive():
            self._flush_timer.start()
        self._dispatch()

    def flush(self) -> list[Key]:
        """Turn decoded images into cached pixmaps for a few milliseconds; emit
        ``loaded`` with their keys and reschedule for the rest."""
        t0 = time.perf_counter()
        done: list[Key] = []
        while self._arrived:
            key, image = self._arrived.popleft()
            if image is None:
                self._failed.add(key)
            else:
                self._insert(key, QPixmap.fromImage(image))
            done.append(key)
            if time.perf_counter() - t0 > FLUSH_BUDGET_S:
                break
        if self._arrived:
            self._flush_timer.start()
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

    def close(self, timeout_ms: int = 5000) -> None:
        """Stop loading: forget the queue and wait for running decodes (call before
        the application quits, so no worker emits into a deleted object)."""
        self._queued.clear()
        if self._pool is not None:
            self._pool.waitForDone(timeout_ms)

    def clear(self) -> None:
        self._queued.clear()
        self._lru.clear()
        self._failed.clear()
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
