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


def test_a_small_tier_is_read_from_its_stored_file(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.media.previews import tier_name

    folder = tmp_path / "v1"
    folder.mkdir()
    Image.new("RGB", (512, 256), (200, 10, 10)).save(folder / "thumb.webp")  # red
    Image.new("RGB", (64, 32), (10, 10, 200)).save(folder / tier_name(64))  # blue
    thumb = str(folder / "thumb.webp")
    low = decode(thumb, TIER_LOW)
    assert low is not None and (low.width(), low.height()) == (64, 32)
    assert low.pixelColor(10, 10).blue() > 150  # the stored tier, not the thumbnail scaled
    tiny = decode(thumb, 16)  # no stored 16 px file: made from the thumbnail
    assert tiny is not None and (tiny.width(), tiny.height()) == (16, 8)
    assert tiny.pixelColor(4, 4).red() > 150
    (folder / tier_name(64)).write_bytes(b"torn by a power cut")
    again = decode(thumb, TIER_LOW)
    assert again is not None and again.pixelColor(10, 10).red() > 150  # falls back


def test_what_is_on_screen_is_asked_again_and_what_left_it_is_dropped(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = make_images(tmp_path, 6, (32, 32))
    keys = [(p, TIER_LOW) for p in paths]
    held: list[object] = []
    cache = ThumbnailCache(executor=held.append)  # nothing runs until we say so
    on_screen = keys[:4]
    cache.set_wanted(lambda: list(on_screen))
    for k in keys[4:]:  # asked for while they were on screen; the view moved since
        cache.request(k)
    assert cache.recheck() == 4  # every on-screen key queued (keys[4] still runs)
    assert set(cache._queued) == set(on_screen)  # the stale request keys[5] is gone
    # a request dropped (say, by the queue's bound) is asked again once the queue drains
    cache._queued.clear()
    while held:
        job = held.pop()
        job()  # type: ignore[operator]
        cache.flush()
    missing = [k for k in on_screen if cache.peek(*k) is None]
    assert missing  # some never loaded
    for _ in range(10):  # a bounded number of drains
        cache.recheck()
        while held:
            held.pop()()  # type: ignore[operator]
            cache.flush()
    assert all(cache.peek(*k) is not None for k in on_screen)
    assert all(cache.peek(*k) is None for k in keys[5:])  # never wanted again, never loaded


def test_rechecks_give_up_when_the_budget_cannot_hold_the_screen(qapp, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    paths = make_images(tmp_path, 4, (64, 64))
    keys = [(p, TIER_LOW) for p in paths]
    cache = ThumbnailCache(2 * 64 * 64 * 4, executor=lambda job: job())  # room for two
    cache.set_wanted(lambda: list(keys))
    rounds = []
    for _ in range(8):
        rounds.append(cache.recheck())  # decoded at once here
        cache.flush()
    assert rounds[:3] == [4, 2, 2]  # asked again for what the budget evicted...
    assert rounds[3:] == [0] * 5  # ...then it stopped churning
    assert len(cache) == 2


def test_a_miss_decoded_while_its_file_is_replaced_is_not_kept_as_a_failure(
    qapp, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """A joined space's thumbnail arrives from the host while the canvas is decoding the
    missing file: the miss must not stick (the canvas forgets the path, asks again)."""
    path = tmp_path / "thumb.webp"
    jobs: list[object] = []
    cache = ThumbnailCache(executor=jobs.append)  # decodes run when the test says
    cache.get(str(path), TIER_FULL)
    assert len(jobs) == 1  # decoding: the file is not there yet
    jobs.pop()()  # type: ignore[operator]
    Image.new("RGB", (64, 64), "red").save(path, "WEBP")  # it arrives
    cache.forget([str(path)])  # what the sharing link does when a thumbnail came
    cache.flush()  # the old miss lands now
    assert not cache.failed(str(path))
    assert cache.get(str(path), TIER_FULL) is None and len(jobs) == 1  # asked again
    jobs.pop()()  # type: ignore[operator]
    cache.flush()
    got = cache.get(str(path), TIER_FULL)
    assert got is not None and got.width() == 64
