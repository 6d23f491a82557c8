"""Creating many assets of one name: does each new one get slower?

    python bench/bench_slugs.py [--count 5000] [--block 500]

Creates ``count`` assets all named "Hero" through the door (``asset:create``) in a
temporary space and prints the time per asset for each block of ``block``. With a
linear slug search (hero, hero-2, hero-3 … tried one by one) the last block is many
times slower than the first; with the O(log n) search the blocks stay flat. Each asset
is asked for at a free spot of its own, so the time is the slug's, not the search for a
free place (``bench_commands.py`` times a crowded spot). Exits 1 when the last block
takes over twice the first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from studio.core import commands as c  # noqa: E402
from studio.core.actor import Actor  # noqa: E402
from studio.core.studio import Studio  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=5000)
    ap.add_argument("--block", type=int, default=500)
    args = ap.parse_args()
    owner = Actor.local_owner()
    with tempfile.TemporaryDirectory() as tmp, Studio(Path(tmp) / "home") as studio:
        entry = studio.create_space("Bench")
        with studio.open_space(entry.slug) as space:
            blocks: list[float] = []
            for start in range(0, args.count, args.block):
                t0 = time.perf_counter()
                for i in range(start, start + min(args.block, args.count - start)):
                    x, y = (i % 100) * 1000.0, (i // 100) * 1000.0
                    space.apply(
                        c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE, x=x, y=y),
                        owner,
                    )
                blocks.append((time.perf_counter() - t0) / args.block)
            last = space.snapshot().assets[-1].slug
    for i, per in enumerate(blocks):
        print(f"assets {i * args.block + 1:>6}-{(i + 1) * args.block:<6} {per * 1e6:8.0f} µs/asset")
    growth = blocks[-1] / blocks[0]
    print(f"last slug: {last}; last block / first block: {growth:.2f} (target <= 2)")
    return 0 if growth <= 2 else 1


if __name__ == "__main__":
    raise SystemExit(main())
