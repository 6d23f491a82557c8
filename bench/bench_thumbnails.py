"""Thumbnail throughput: our probe + previews against a competent Pillow baseline.

    python bench/bench_thumbnails.py [--count 12] [--size 4096] [--rounds 5]

Creates ``count`` photographic-ish JPEGs (gradients + noise, quality 90) in a
temporary directory, then times, per file and single-threaded:

  raw:  Image.open(p); im.draft("RGB", (512, 512)) (decode at the target scale);
        im.thumbnail((512, 512)); im.save(out, "WEBP", quality=80, method=1)
  ours: probe_and_render(p, out_dir): the probe (structure checks), the 512 px
        thumbnail and its 64/16 px tiers, written temp -> fsync -> rename

Each round times raw and ours file by file, back to back (A B B A …); the ratio is
taken per round and the median reported, so drift on a shared machine does not decide
it. Exits 1 below the target, ours/raw >= 0.8.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageChops

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studio.media.previews import probe_and_render  # noqa: E402


def make_photo(path: Path, size: int, seed: int) -> None:
    """Smooth gradients and waves plus sensor-like noise: compresses like a real photo.

    The smooth part is computed small and upscaled, the noise comes from random
    bytes through a lookup table: ~0.7 s per 4096² image instead of ~4 s in numpy.
    """
    rng = np.random.default_rng(seed)
    small = 256
    y, x = np.ogrid[0:small, 0:small]
    fx, fy = x / small, y / small
    phase = rng.uniform(0, 6.28, 3)
    channels = [
        90
        + 80 * fx * (c + 1) / 3
        + 60 * fy * (3 - c) / 3
        + 25 * np.sin(6.28 * (fx * (c + 2) + fy * 1.5) + phase[c])
        for c in range(3)
    ]
    rgb = np.clip(np.stack(np.broadcast_arrays(*channels), axis=-1), 0, 255).astype(np.uint8)
    base = Image.fromarray(rgb, "RGB").resize((size, size), Image.Resampling.BICUBIC)
    lut = [128 + (v - 128) // 6 for v in range(256)] * 3  # noise of about ±21 around 128
    noise = Image.frombytes("RGB", (size, size), rng.bytes(size * size * 3)).point(lut)
    ImageChops.add(base, noise, 1.0, -128).save(path, quality=90)


def raw_baseline(src: Path, out_dir: Path) -> None:
    with Image.open(src) as im:
        im.draft("RGB", (512, 512))
        im.thumbnail((512, 512))
        im.save(out_dir / "thumb.webp", "WEBP", quality=80, method=1)


def ours(src: Path, out_dir: Path) -> None:
    probe_and_render(src, out_dir)


def run(fn: Callable[[Path, Path], None], files: list[Path], out_root: Path) -> float:
    """Images per second for one pass over ``files``."""
    start = time.perf_counter()
    for i, src in enumerate(files):
        out = out_root / f"{i:04d}"
        out.mkdir(parents=True, exist_ok=True)
        fn(src, out)
    return len(files) / (time.perf_counter() - start)


def paired_round(files: list[Path], out_root: Path, r: int) -> tuple[float, float]:
    """(raw, ours) images per second, each file done by both back to back (which goes
    first alternates), so a neighbour's burst costs both sides alike."""
    spent = {"raw": 0.0, "ours": 0.0}
    for i, src in enumerate(files):
        order = [("raw", raw_baseline), ("ours", ours)]
        if (i + r) % 2:
            order.reverse()
        for name, fn in order:
            out = out_root / f"{name}-{r}-{i:04d}"
            out.mkdir(parents=True)
            t0 = time.perf_counter()
            fn(src, out)
            spent[name] += time.perf_counter() - t0
    return len(files) / spent["raw"], len(files) / spent["ours"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=12, help="number of JPEGs (default 12)")
    parser.add_argument("--size", type=int, default=4096, help="side in pixels (default 4096)")
    parser.add_argument("--rounds", type=int, default=5, help="A B pairs (default 5)")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="bench-thumbs-") as tmp:
        root = Path(tmp)
        t0 = time.perf_counter()
        files = []
        for i in range(args.count):
            p = root / f"photo_{i:03d}.jpg"
            make_photo(p, args.size, seed=i)
            files.append(p)
        mib = sum(p.stat().st_size for p in files) / 1024**2
        print(
            f"made {args.count} {args.size}x{args.size} JPEGs ({mib:.1f} MiB) "
            f"in {time.perf_counter() - t0:.1f} s"
        )

        # Warm-up: imports, codec initialisation, page cache.
        run(raw_baseline, files[:2], root / "warm-raw")
        run(ours, files[:2], root / "warm-ours")

        ratios, raws, ourss = [], [], []
        for r in range(args.rounds):
            raw_rate, ours_rate = paired_round(files, root, r)
            print(f"  round {r + 1}: raw {raw_rate:.2f} img/s  ours {ours_rate:.2f} img/s")
            ratios.append(ours_rate / raw_rate)
            raws.append(raw_rate)
            ourss.append(ours_rate)

        ratio = statistics.median(ratios)
        print(
            f"thumbnails raw: {statistics.median(raws):.1f} img/s  "
            f"ours: {statistics.median(ourss):.1f} img/s  "
            f"ratio (median of {len(ratios)} paired rounds): {ratio:.2f} "
            f"(runs {', '.join(f'{x:.2f}' for x in ratios)}; load {os.getloadavg()[0]:.1f}); "
            "target >= 0.8"
        )
        return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
