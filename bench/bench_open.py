"""Opening a big space: the canvas snapshot vs a raw sqlite3 read of the same columns.

Target (issue 2): open 10,000 assets / 50,000 variants within 1.5x of the raw read.
Run: .venv/bin/python bench/bench_open.py [--assets N] [--variants-per-asset K]
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import insert_rows, median_ms, timed
from studio.core.space import SNAPSHOT_ASSETS_SQL, SNAPSHOT_VARIANTS_SQL, Space

TYPES = ("character", "item", "scene", "sfx", "music", "speech")


def populate(space_path: Path, media: Path, assets: int, per_asset: int) -> None:
    Space.create(space_path, media, space_id="bench", slug="bench").close()
    rnd = random.Random(7)
    conn = sqlite3.connect(space_path)
    conn.execute("BEGIN")
    arows, vrows = [], []
    for i in range(assets):
        aid = f"a{i:07d}"
        tags = json.dumps(["hero", "blue"]) if i % 3 == 0 else "[]"
        arows.append(
            (
                aid,
                f"asset-{i}",
                f"Asset {i}",
                TYPES[i % 6],
                "image",
                tags,
                None,
                (i % 100) * 280.0,
                (i // 100) * 280.0,
                f"v{i:07d}-0",
                1,
                1,
            )
        )
        for k in range(per_asset):
            recipe = json.dumps(
                {
                    "operation": "generate",
                    "prompt": f"a {TYPES[i % 6]} number {i}",
                    "provider": "local",
                    "model": "local-image",
                    "params": {"seed": rnd.randrange(1 << 30), "size": "1K"},
                }
            )
            vrows.append(
                (
                    f"v{i:07d}-{k}",
                    aid,
                    "completed",
                    f"asset-{i}/v{i:07d}-{k}/original.png",
                    f"asset-{i}/v{i:07d}-{k}/thumb.webp",
                    "image/png",
                    1024,
                    1024,
                    rnd.randrange(1 << 20),
                    "ab" * 32,
                    recipe,
                    k == 1,
                    1,
                    1,
                )
            )
    insert_rows(conn, arows, vrows)
    conn.close()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--variants-per-asset", type=int, default=5)
    ap.add_argument("--repeat", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path, media = Path(tmp) / "bench.db", Path(tmp) / "media"
        populate(path, media, args.assets, args.variants_per_asset)

        def raw() -> None:
            conn = sqlite3.connect(path)
            conn.execute(SNAPSHOT_ASSETS_SQL).fetchall()
            conn.execute(SNAPSHOT_VARIANTS_SQL).fetchall()
            conn.close()

        def ours() -> None:
            space = Space.open(path, media, space_id="bench", slug="bench")
            snap = space.snapshot()
            space.close()
            assert len(snap.assets) == args.assets

        raw()
        ours()  # warm the page cache for both
        raw_ms = median_ms(timed(raw, args.repeat))
        ours_ms = median_ms(timed(ours, args.repeat))
    n_var = args.assets * args.variants_per_asset
    print(
        f"open space {args.assets:,} assets / {n_var:,} variants: "
        f"raw sqlite3 {raw_ms:.1f} ms  ours {ours_ms:.1f} ms  ratio {ours_ms / raw_ms:.2f} "
        f"(target <= 1.5)"
    )


if __name__ == "__main__":
    main()
