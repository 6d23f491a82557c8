"""Latency of one command through the door (validate, write, change log, events, commit).

Target (issue 2): median under 1 ms; also a step of three commands (issue 10). Baseline: a bare sqlite3 UPDATE + COMMIT on the same file.
``asset:create`` is timed twice: each new card asked for at a free spot, and every card
asked for at the same spot (the origin, as a run of `studio generate` without a place
does): the door then searches for the nearest free place among the cards already there,
and that search grows with how crowded the spot is (the last ``--n`` of them).
Exits 1 when a median misses the target.
Run: .venv/bin/python bench/bench_commands.py [--n 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench._util import median_ms, timed
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.space import Space


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    me = Actor.local_owner()
    with tempfile.TemporaryDirectory() as tmp:
        space = Space.create(Path(tmp) / "b.db", Path(tmp) / "m", space_id="b", slug="b")
        ids = [
            space.apply(c.CreateAsset(f"A{i}", c.MediaKindName.IMAGE), me).created["asset_id"]
            for i in range(200)
        ]
        events: list[object] = []
        space.subscribe(events.append)
        conn = space._db.conn  # the same connection, for the raw baseline
        counter = iter(range(10**9))

        def raw() -> None:
            i = next(counter)
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("UPDATE assets SET x = ?, y = ? WHERE id = ?", (i, i, ids[i % 200]))
            conn.execute("COMMIT")

        def move() -> None:
            i = next(counter)
            space.apply(c.MoveAssets((c.Position(ids[i % 200], i, i),)), me)

        def rename() -> None:
            i = next(counter)
            space.apply(c.UpdateAsset(ids[i % 200], name=f"Asset {i}"), me)

        def create() -> None:  # far from every other card: the spot asked for is free
            i = next(counter)
            space.apply(
                c.CreateAsset(f"F{i}", c.MediaKindName.AUDIO, x=-1e6 - i * 1000.0, y=-1e6), me
            )

        def crowded() -> None:
            space.apply(c.CreateAsset(f"N{next(counter)}", c.MediaKindName.AUDIO), me)

        def step3() -> None:  # one step of three commands, one transaction
            i = next(counter)
            space.apply_step(
                [
                    c.MoveAssets((c.Position(ids[i % 200], i, i),)),
                    c.UpdateAsset(ids[(i + 1) % 200], name=f"Step {i}"),
                    c.MoveAssets((c.Position(ids[(i + 2) % 200], -i, i),)),
                ],
                me,
            )

        results = {}
        for name, fn in (
            ("raw update", raw),
            ("asset:move", move),
            ("asset:update", rename),
            ("asset:create", create),
            ("create, crowd", crowded),
            ("step of 3", step3),
        ):
            timed(fn, 50)
            results[name] = median_ms(timed(fn, args.n))
        space.close()
    base = results["raw update"]
    for name, ms in results.items():
        print(f"command {name:<13} median {ms * 1000:7.0f} us  ({ms / base:.1f}x raw)")
    worst = max(v for k, v in results.items() if k != "raw update")
    print(f"slowest command median {worst:.3f} ms (target < 1 ms)")
    return 0 if worst < 1 else 1


if __name__ == "__main__":
    raise SystemExit(main())
