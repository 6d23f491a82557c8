"""Thumbnail throughput: our probe + render_previews against a bare Pillow baseline.

    python bench/bench_thumbnails.py [--count 12] [--size 4096] [--rounds 3]

Creates ``count`` photographic-ish JPEGs (gradients + noise, quality 90) in a
temporary directory, then times, per file and single-threaded:

  raw:  Image.open(p); im.thumbnail((512, 512)); im.save(out, "WEBP")
  ours: info = probe(p); render_previews(p, info, out_dir)

Rounds alternate raw/ours and the best round of each is reported, so a noisy
neighbour on the machine does not decide the ratio. Target: ours/raw >= 0.8.
"""

from __future__ import annotations

import argparse
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

from studio.media import probe, render_previews  # noqa: E402


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
        im.thumbnail((512, 512))
        im.save(out_dir / "thumb.webp", "WEBP")


def ours(src: Path, out_dir: Path) -> None:
    info = probe(src)
    render_previews(src, info, out_dir)


def run(fn: Callable[[Path, Path], None], files: list[Path], out_root: Path) -> float:
    """Images per second for one pass over ``files``."""
    start = time.perf_counter()
    for i, src in enumerate(files):
        out = out_root / f"{i:04d}"
        out.mkdir(parents=True, exist_ok=True)
        fn(src, out)
    return len(files) / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--count", type=int, default=12, help="number of JPEGs (default 12)")
    parser.add_argument("--size", type=int, default=4096, help="side in pixels (default 4096)")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each (default 3)")
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

        raw_best = ours_best = 0.0
        for r in range(args.rounds):
            raw_rate = run(raw_baseline, files, root / f"raw-{r}")
            ours_rate = run(ours, files, root / f"ours-{r}")
            print(f"  round {r + 1}: raw {raw_rate:.2f} img/s  ours {ours_rate:.2f} img/s")
            raw_best, ours_best = max(raw_best, raw_rate), max(ours_best, ours_rate)

        ratio = ours_best / raw_best
        print(
            f"thumbnails raw: {raw_best:.1f} img/s  ours: {ours_best:.1f} img/s  ratio: {ratio:.2f}"
        )
        return 0 if ratio >= 0.8 else 1


if __name__ == "__main__":
    raise SystemExit(main())
