"""Small helpers shared by the benchmarks (not a test module)."""

from __future__ import annotations

import json
import math
import os
import random
import shutil
import sqlite3
import statistics
import time
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


ASSET_INSERT = (
    "INSERT INTO assets (id, slug, name, type, media_kind, tags, parent_asset_id, x, y, "
    "active_variant_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)
VARIANT_INSERT = (
    "INSERT INTO variants (id, asset_id, status, media_path, thumb_path, mime, width, height, "
    "size_bytes, sha256, recipe, starred, created_at, updated_at) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)


def insert_rows(
    conn: sqlite3.Connection, assets: list[tuple[object, ...]], variants: list[tuple[object, ...]]
) -> None:
    """Bulk-load benchmark rows straight into a migrated space file, in one transaction."""
    conn.executemany(ASSET_INSERT, assets)
    conn.executemany(VARIANT_INSERT, variants)
    conn.execute("COMMIT")


def paired_ratios(
    ours: Callable[[], float], base: Callable[[], float], rounds: int
) -> tuple[list[float], list[float], list[float]]:
    """Run ``base`` then ``ours`` (each returns the seconds it measured), ``rounds`` times
    in turn (A B A B …): the machine's drift hits both alike. Returns the ratios ours /
    base of each round, and both lists of times; report the median of the ratios."""
    ratios, ours_s, base_s = [], [], []
    for _ in range(rounds):
        b = base()
        o = ours()
        base_s.append(b)
        ours_s.append(o)
        ratios.append(o / b if b > 0 else float("inf"))
    return ratios, ours_s, base_s


# --------------------------------------------------------------------------- big spaces

BIG_SPACE_TYPES = ("character", "item", "scene", "prop", "sfx", "music")


def thumbnail_pool(folder: Path, count: int) -> list[Path]:
    """``count`` distinct thumbnail folders (``thumb.webp`` + its 64/16 px tiers, made by
    the app's own encoder, ``save_thumbnail``), made once into ``folder`` and reused."""
    from PIL import Image, ImageDraw

    from studio.media.previews import TIERS, save_thumbnail, tier_name

    out = []
    for i in range(count):
        d = folder / f"{i:03d}"
        names = ["thumb.webp", *(tier_name(t) for t in TIERS)]
        if not all((d / n).exists() for n in names):
            d.mkdir(parents=True, exist_ok=True)
            wide = i % 8 == 7  # a waveform-shaped one now and then
            im = Image.new("RGB", (512, 256 if wide else 512), ((i * 37) % 256, 90, (i * 53) % 256))
            draw = ImageDraw.Draw(im)
            for k in range(24):  # some detail, so the encoder and decoder do real work
                x, y = (i * 31 + k * 57) % 480, (i * 17 + k * 43) % (224 if wide else 480)
                draw.ellipse(
                    (x, y, x + 40 + k, y + 30 + k), fill=((k * 11) % 256, (i * 7) % 256, 200)
                )
            save_thumbnail(im, d)
        out.append(d)
    return out


def _link(src: Path, dest: Path) -> None:
    try:
        os.link(src, dest)
    except OSError:  # another file system: a copy
        shutil.copyfile(src, dest)


def _start_files(media_dir: Path, assets: int, pool: list[Path]) -> Future[None]:
    """Make the active variants' files on threads (file-system calls wait, not compute);
    the returned future is done when all are made."""
    tier_files = [f for f in pool[0].iterdir() if f.name != "thumb.webp"] if pool else []

    def make(i: int) -> None:
        if i % 40 == 39:
            return  # failed: no files
        d = media_dir / f"asset-{i}" / f"v{i:07d}-0"
        d.mkdir(parents=True, exist_ok=True)
        (d / ("original.wav" if i % 50 == 49 else "original.png")).write_bytes(b"")
        if pool:
            src = pool[i % len(pool)]
            _link(src / "thumb.webp", d / "thumb.webp")
            if i % 25 != 24:  # else an old thumbnail: no stored tiers
                for f in tier_files:
                    _link(src / f.name, d / f.name)

    def make_all() -> None:
        with ThreadPoolExecutor(max_workers=4) as ex:
            list(ex.map(make, range(assets), chunksize=256))

    return ThreadPoolExecutor(max_workers=1).submit(make_all)


def fill_big_space(
    db_path: Path,
    media_dir: Path,
    assets: int,
    *,
    per_asset: int = 3,
    pool: list[Path] | None = None,
    make_files: bool = True,
) -> None:
    """Load ``assets`` assets with ``per_asset`` variants each into the (closed,
    migrated, empty) space file ``db_path``, the way a space grown over months looks:

    - image assets mostly, every 50th an audio asset (a waveform thumbnail);
    - every 40th asset's active variant failed (no thumbnail, an error on the card);
    - every 25th asset's thumbnail predates the stored 64/16 px tiers (only
      ``thumb.webp``: the canvas makes the small tiers from it);
    - every 100th asset sits in a stack under the asset before it;
    - a third carry tags, the second variant of each asset is starred, one frame per
      1,000 assets; recipes are real JSON.

    It writes straight into the file in one transaction (the door places each new asset
    with a scan of the others: 50,000 through it take hours); the FTS index and
    change-row triggers fire as for any insert. With ``files`` the active variants'
    files are made as import would leave them (``original.png`` and the thumbnail with
    its tiers, hard links to a ``pool`` of real thumbnails so each card decodes its own
    file); the other variants' files, which the canvas never reads, are not made.
    """
    rnd = random.Random(7)
    cols = max(1, math.ceil(math.sqrt(assets)))
    pool = pool or []
    arows: list[tuple[object, ...]] = []
    vrows: list[tuple[object, ...]] = []
    frames: list[tuple[object, ...]] = []
    for i in range(assets):
        aid = f"a{i:07d}"
        slug = f"asset-{i}"
        kind = "audio" if i % 50 == 49 else "image"
        tags = json.dumps(["hero", "blue"]) if i % 3 == 0 else "[]"
        parent = f"a{i - 1:07d}" if i % 100 == 1 else None
        x, y = (i % cols) * 280.0, (i // cols) * 300.0
        active = f"v{i:07d}-0"
        arows.append(
            (aid, slug, f"Asset {i}", BIG_SPACE_TYPES[i % 6], kind, tags, parent, x, y,
             active, 1_700_000_000_000 + i, 1_700_000_000_000 + i)
        )  # fmt: skip
        for k in range(per_asset):
            vid = f"v{i:07d}-{k}"
            failed = k == 0 and i % 40 == 39
            base = f"{slug}/{vid}"
            ext, mime = ("wav", "audio/wav") if kind == "audio" else ("png", "image/png")
            recipe = json.dumps(
                {
                    "operation": "generate" if k == 0 else "refine",
                    "prompt": f"a {BIG_SPACE_TYPES[i % 6]} number {i}, take {k}",
                    "provider": "local",
                    "model": f"local-{kind}",
                    "params": {"seed": rnd.randrange(1 << 30), "size": "1K"},
                }
            )
            vrows.append(
                (vid, aid, "failed" if failed else "completed",
                 None if failed else f"{base}/original.{ext}",
                 None if failed else f"{base}/thumb.webp",
                 mime, 1024, 1024 if kind == "image" else None, rnd.randrange(1 << 20),
                 "ab" * 32, recipe, int(k == 1), 1_700_000_000_000 + i, 1_700_000_000_000 + i)
            )  # fmt: skip
        if i % 1000 == 500:
            frames.append(
                (f"f{i:07d}", f"Frame {i // 1000}", x - 20, y - 60, 280.0 * 4, 300.0 * 3,
                 "", 1, 1)
            )  # fmt: skip
    files: Future[None] | None = None
    if make_files:
        files = _start_files(media_dir, assets, pool)
    conn = sqlite3.connect(db_path)
    conn.execute("PRAGMA cache_size = -262144")  # 256 MiB: the indexes stay in memory
    conn.execute("BEGIN")
    # variants first: their search trigger finds no asset yet, so each asset's search
    # document is written once, by its own insert (with every variant's prompt)
    conn.executemany(VARIANT_INSERT, vrows)
    conn.executemany(ASSET_INSERT, arows)
    conn.executemany(
        "UPDATE variants SET error_code = 'provider_error', "
        "error_message = 'The provider could not make this.' WHERE id = ?",
        [(f"v{i:07d}-0",) for i in range(39, assets, 40)],
    )
    conn.executemany(
        "INSERT INTO frames (id, title, x, y, width, height, color, created_at, updated_at) "
        "VALUES (?,?,?,?,?,?,?,?,?)",
        frames,
    )
    conn.execute("COMMIT")
    conn.close()
    if files is not None:
        files.result()  # the file-making threads ran while the rows went in


# --------------------------------------------------------------------------- UI stalls


def _run_queue_s() -> float:
    """Seconds the calling thread has spent runnable but waiting for a CPU (Linux
    schedstat; 0 elsewhere)."""
    try:
        with open("/proc/thread-self/schedstat", "rb") as f:
            return int(f.read().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return 0.0


class StallProbe:
    """How long the Qt UI thread stops answering: a ``period_s`` heartbeat timer on the
    UI thread, and a watcher thread that notes the UI thread's Python stack whenever a
    beat is more than ``sample_after_s`` late (the cause of a stall, seen from inside).
    ``stalls_ms()`` are the gaps between beats minus the period (0 when on time)."""

    def __init__(self, period_s: float = 0.005, sample_after_s: float = 0.04) -> None:
        import threading

        from PySide6.QtCore import Qt, QTimer

        self.period_s = period_s
        self.sample_after_s = sample_after_s
        self.gaps: list[float] = []
        self.queued: list[float] = []  # of each gap: time runnable but not run (other processes)
        self.stacks: dict[str, float] = {}  # innermost frames -> stall time sampled in them
        self._main = threading.get_ident()
        self._last = time.perf_counter()
        self._queued = _run_queue_s()
        self._stop = threading.Event()
        self._timer = QTimer()
        self._timer.setTimerType(Qt.TimerType.PreciseTimer)
        self._timer.setInterval(max(1, round(period_s * 1000)))
        self._timer.timeout.connect(self._beat)
        self._timer.start()
        self._watcher = threading.Thread(target=self._watch, daemon=True)
        self._watcher.start()

    def _beat(self) -> None:
        now = time.perf_counter()
        queued = _run_queue_s()
        self.gaps.append(now - self._last)
        self.queued.append(queued - self._queued)
        self._last, self._queued = now, queued

    def _watch(self) -> None:
        import sys
        import traceback

        tick = 0.005
        while not self._stop.wait(tick):
            late = time.perf_counter() - self._last
            if late < self.sample_after_s:
                continue
            frame = sys._current_frames().get(self._main)
            if frame is None:
                continue
            where = " < ".join(
                f"{Path(f.filename).name}:{f.lineno} {f.name}"
                for f in reversed(traceback.extract_stack(frame)[-6:])
            )
            self.stacks[where] = self.stacks.get(where, 0.0) + tick

    def reset(self) -> None:
        self.gaps.clear()
        self.queued.clear()
        self.stacks.clear()
        self._last, self._queued = time.perf_counter(), _run_queue_s()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()
        self._watcher.join(1)

    def stalls_ms(self, *, own: bool = False) -> list[float]:
        """Each gap past the period, in ms; ``own``: less the time the UI thread was
        ready to run but the kernel ran other processes (from
        ``/proc/thread-self/schedstat``; on a machine shared with other work that time
        is the machine's, not the program's: what is left is computing, or waiting on
        a lock, the GIL or a file)."""
        if own:
            return [
                max(0.0, (g - q - self.period_s) * 1000)
                for g, q in zip(self.gaps, self.queued, strict=True)
            ]
        return [max(0.0, (g - self.period_s) * 1000) for g in self.gaps]

    def max_ms(self, *, own: bool = False) -> float:
        """The longest stall so far (see ``stalls_ms``), the gap still open now included."""
        open_gap = time.perf_counter() - self._last
        if own:
            open_gap -= _run_queue_s() - self._queued
        return max([*self.stalls_ms(own=own), (open_gap - self.period_s) * 1000, 0.0])

    def report(self, top: int = 5) -> str:
        worst = sorted(self.stacks.items(), key=lambda kv: -kv[1])[:top]
        return "\n".join(f"  {s * 1000:7.0f} ms stalled in {where}" for where, s in worst)
