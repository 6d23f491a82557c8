"""Rolling backups on a big space: what a backup costs, and whether the backup taken at
open slows the open + first snapshot (measured A B A B in one process).

Run: .venv/bin/python bench/bench_backup.py [--assets N] [--variants-per-asset K]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import fill_big_space
from studio.core.studio import Studio
from studio.store.backup import make_backup


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--assets", type=int, default=10_000)
    ap.add_argument("--variants-per-asset", type=int, default=5)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        with Studio(home) as studio:
            entry = studio.create_space("Big")
            media = studio.paths.space_media(entry.slug)
        db = home / entry.file
        fill_big_space(db, media, args.assets, per_asset=args.variants_per_asset, make_files=False)
        print(f"space file: {db.stat().st_size / 1e6:.1f} MB")

        def change() -> None:
            c = sqlite3.connect(db)
            c.execute(
                "INSERT INTO changes (at, actor_id, actor_name, actor_role, command, payload, "
                "events) VALUES (1, 'b', 'B', 'owner', 'bench', '{}', '[]')"
            )
            c.commit()
            c.close()

        times: dict[str, list[float]] = {"changed (backup at open)": [], "unchanged": []}
        for _ in range(args.rounds):
            for label in times:
                if label != "unchanged":
                    change()
                with Studio(home) as studio:
                    t0 = time.perf_counter()
                    space = studio.open_space("big")
                    space.snapshot()
                    times[label].append(time.perf_counter() - t0)
                    space.close()
        for label, ts in times.items():
            print(f"open_space + snapshot, {label}: {statistics.median(ts) * 1000:.0f} ms median")
        ts = []
        for i in range(args.rounds):
            t0 = time.perf_counter()
            make_backup(db, Path(tmp) / "bk", space_id=entry.id, now_ms=1_800_000_000_000 + i)
            ts.append(time.perf_counter() - t0)
        print(
            f"make_backup (copy + integrity check + fsync): {statistics.median(ts) * 1000:.0f} ms"
        )


if __name__ == "__main__":
    main()
