"""ThumbnailCache: off-thread decoding, LRU by bytes within a budget, tiers, failures."""

from __future__ import annotations

import threading
from pathlib import Path

from PIL import Image
from PySide6.QtCore import QThreadPool

from studio.ui.canvas.geometry import TIER_FULL, TIER_LOW
from studio.ui.canvas.thumbs import ThumbnailCache, decode

KIB = 1024


def make_images(folder: Path, n: int, size: tuple[int, int] = (512, 512)) -> list[str]:
    out = []
    for i in range(n):
        p = folder / f"t{i}.webp"
        Image.new("RGB", size, (i * 20 % 255, 80, 160)).save(p)
        out.append(str(p))
    return out


def test_decode_scales_to_the_tier_keeping_the_aspect(tmp_path: Path) -> None:
    (wide,) = make_images(tmp_path, 1, (800, 400))
    full, low = decode(wide, TIER_FULL), decode(wide, TIER_LOW)
    assert full is not None and (full.width(), full.height()) == (256, 128)
    assert low is not None and (low.width(), low.height()) == (64, 32)
    small = tmp_path / "small.png"
    Image.new("RGB", (40, 20)).save(small)
    img = decode(str(small), TIER_FULL)
    assert img is not None and (img.width(), img.height()) == (40, 20)  # never upscaled
    assert decode(str(tmp_path / "missing.webp"), TIER_FULL) is None


def test_lru_evicts_beyond_the_budget_and_never_exceeds_it(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = make_images(tmp_path, 12)
    budget = 3 * 256 * 256 * 4 + 10  # room for three full-tier thumbnails
    cache = ThumbnailCache(budget, executor=lambda job: job())
    seen_max = 0
    for p in paths:
        assert cache.get(p, TIER_FULL) is None  # queued; decoded synchronously here
        cache.flush()
        seen_max = max(seen_max, cache.used_bytes)
        assert cache.used_bytes <= budget
    assert seen_max <= budget and len(cache) == 3
    assert [p in (k[0] for k in cache._lru) for p in paths[-3:]] == [True] * 3
    # using one makes it most recent: the next insert evicts another one
    assert cache.get(paths[-3], TIER_FULL) is not None
    cache.get(paths[0], TIER_FULL)
    cache.flush()
    assert cache.peek(paths[-3], TIER_FULL) is not None and cache.peek(paths[-2], TIER_FULL) is None
    cache.set_budget(256 * 256 * 4)
    assert len(cache) == 1 and cache.used_bytes <= 256 * 256 * 4


def test_low_tier_is_separate_and_small(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (p,) = make_images(tmp_path, 1)
    cache = ThumbnailCache(executor=lambda job: job())
    cache.get(p, TIER_LOW)
    cache.flush()
    low = cache.peek(p, TIER_LOW)
    assert low is not None and max(low.width(), low.height()) == 64
    assert cache.used_bytes == 64 * 64 * 4
    assert cache.best(p, TIER_FULL) is low  # the low tier stands in while the full one loads
    cache.flush()
    full = cache.peek(p, TIER_FULL)
    assert full is not None and full.width() == 256


def test_broken_files_fail_once_and_are_not_retried(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.webp"
    bad.write_bytes(b"not an image")
    calls: list[int] = []

    def run(job):  # type: ignore[no-untyped-def]
        calls.append(1)
        job()

    cache = ThumbnailCache(executor=run)
    with_loaded: list[list[tuple[str, int]]] = []
    cache.loaded.connect(with_loaded.append)
    cache.get(str(bad), TIER_FULL)
    cache.flush()
    assert cache.failed(str(bad)) and with_loaded == [[(str(bad), TIER_FULL)]]
    cache.get(str(bad), TIER_FULL)
    assert len(calls) == 1 and cache.pending() == 0


def test_loads_happen_off_the_ui_thread(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = make_images(tmp_path, 8)
    threads: set[int] = set()
    import studio.ui.canvas.thumbs as thumbs_mod

    real = thumbs_mod.decode

    def spy(path: str, tier: int):  # type: ignore[no-untyped-def]
        threads.add(threading.get_ident())
        return real(path, tier)

    thumbs_mod.decode = spy  # type: ignore[assignment]
    try:
        cache = ThumbnailCache(pool=QThreadPool())
        for p in paths:
            assert cache.get(p, TIER_FULL) is None  # never blocks: nothing yet
        assert cache.wait_idle(10)
    finally:
        thumbs_mod.decode = real  # type: ignore[assignment]
    assert threading.get_ident() not in threads and threads
    assert all(cache.peek(p, TIER_FULL) is not None for p in paths)


def test_newest_requests_load_first_and_old_ones_are_dropped(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = make_images(tmp_path, 5)
    held: list[object] = []
    cache = ThumbnailCache(executor=held.append)  # nothing runs until we say so
    for p in paths:
        cache.request((p, TIER_LOW))
    assert len(held) == 1  # one at a time with an executor; the rest wait, newest first
    order = [k[0] for k in reversed(cache._queued)]
    assert order == [paths[4], paths[3], paths[2], paths[1]]
    cache.cancel_pending()
    assert cache.pending() == 1  # the one already running
