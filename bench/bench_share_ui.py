"""Sharing in the app, on the host: the UI thread's longest stall while 10 peers (in
another process) each send 20 commands a second — moves of cards the host's window
shows, as people dragging would — paired with the same window idle in the same run
(A B A: idle before, busy, idle after).

Target (issue 13): no UI-thread stall over 50 ms while the peers are busy. Exits 1 on
a miss. It also prints how many commands the host applied and how soon the window saw
them.

Run: .venv/bin/python bench/bench_share_ui.py [--peers 10] [--rate 20] [--seconds 6]
[--peers-nice N]

For each stall over 30 ms it prints where the UI thread's time went (Linux schedstat):
on a CPU, runnable but waiting for a CPU (the machine's load), or blocked (the GIL, a
lock) — and the longest busy stall less its wait for a CPU, what this process costs
itself, which is what a shared, loaded machine still lets one compare.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")
os.environ["STUDIO_SHARE_BIND"] = "127.0.0.1"

PEERS = """
import asyncio, json, random, secrets, sys, time
from pathlib import Path
from studio.core.studio import Studio
from studio.sync import peer
from studio.sync.home import open_sharing

root, links = Path(sys.argv[1]), json.loads(sys.argv[2])
rate, seconds = float(sys.argv[3]), float(sys.argv[4])

async def one(i, link, go, sent):
    studio = Studio(root / f"peer{i}")
    entry = await peer.join(studio, link, f"peer{i}", timeout=60)
    with studio.open_space(entry.slug) as space:
        ids = [a.id for a in space.snapshot().assets]
    store = open_sharing(studio)
    async with peer.session_for(studio, entry.slug, store) as session:
        await session.wait_live(60)
        print("ready", flush=True)
        await go.wait()
        start = time.monotonic()
        pending = []
        k = 0
        while time.monotonic() < start + seconds:  # paced, not waiting for each answer
            aid = random.choice(ids)
            cmd = {"command": "asset:move", "positions": [
                {"asset_id": aid, "x": random.uniform(0, 4000), "y": random.uniform(0, 3000)}]}
            pending.append(asyncio.create_task(session.command([cmd], secrets.token_hex(8), 60)))
            k += 1
            await asyncio.sleep(max(0.0, start + k / rate - time.monotonic()))
        done = await asyncio.gather(*pending, return_exceptions=True)
        refused = [d for d in done if isinstance(d, Exception)]
        if refused:
            print("refused", len(refused), refused[0], flush=True)
        sent.append(len(done) - len(refused))
    store.close()
    studio.close()

async def main():
    go, sent = asyncio.Event(), []
    tasks = [asyncio.create_task(one(i, l, go, sent)) for i, l in enumerate(links)]
    line = await asyncio.to_thread(sys.stdin.readline)
    go.set()
    await asyncio.gather(*tasks)
    print(json.dumps({"sent": sum(sent)}), flush=True)

asyncio.run(main())
"""

TICK_MS = 2


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peers", type=int, default=10)
    ap.add_argument("--rate", type=float, default=20.0, help="commands per second per peer")
    ap.add_argument("--seconds", type=float, default=6.0, help="each busy block")
    ap.add_argument("--assets", type=int, default=300)
    ap.add_argument(
        "--peers-nice",
        type=int,
        default=0,
        help="run the peers' process (standing in for ten other computers) at this nice value",
    )
    args = ap.parse_args()

    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from studio.core import commands as c
    from studio.core.actor import Actor
    from studio.core.studio import Studio
    from studio.providers_setup import build_providers
    from studio.ui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    me = Actor.local_owner()
    load0 = " ".join(f"{x:.2f}" for x in os.getloadavg())
    with tempfile.TemporaryDirectory(prefix="bench-share-ui-") as tmp:
        root = Path(tmp)
        studio = Studio(root / "host", providers=build_providers)
        entry = studio.create_space("Board")
        with studio.open_space(entry.slug) as space:
            for i in range(args.assets):
                space.apply(
                    c.CreateAsset(
                        f"a{i}", c.MediaKindName.IMAGE, x=i % 20 * 220.0, y=i // 20 * 260.0
                    ),
                    me,
                )
        window = MainWindow(studio, me)
        window.resize(1400, 900)
        window.show()
        window.open_space(entry.id)

        def spin(until: float, cond: object = None) -> None:
            while time.monotonic() < until and not (callable(cond) and cond()):
                app.processEvents()
                time.sleep(0.002)

        spin(time.monotonic() + 30, lambda: len(window.scene.cards()) == args.assets)
        window.view.fit_all()
        window.sharing.share(entry.id)
        spin(time.monotonic() + 30, lambda: entry.id in window.sharing.shared)
        links = []
        for _ in range(args.peers):
            fut = window.sharing.engine.call(
                window.sharing.engine.invite(entry.id, "editor", 3_600_000)
            )
            links.append(fut.result(30).link())
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        nice = ["nice", "-n", str(args.peers_nice)] if args.peers_nice else []
        proc = subprocess.Popen(
            [
                *nice,
                sys.executable,
                "-c",
                PEERS,
                str(root),
                json.dumps(links),
                str(args.rate),
                str(args.seconds),
            ],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
        )
        assert proc.stdin is not None and proc.stdout is not None
        ready = 0
        while ready < args.peers:  # joining: keep the window's loop turning meanwhile
            spin(time.monotonic() + 0.05)
            line = proc.stdout.readline()
            if not line:
                raise SystemExit("the peers' process ended early")
            ready += line.startswith("ready")

        gaps: list[float] = []
        last = [time.perf_counter()]
        from bench.bench_feed import sched_ms

        last_sched = [sched_ms() or (0.0, 0.0)]
        # long gaps: (gap, on CPU, runnable waiting for a CPU, in the busy block)
        spent: list[tuple[float, float, float, bool]] = []
        phase = ["idle"]

        def tick() -> None:
            t = time.perf_counter()
            gap = (t - last[0]) * 1000 - TICK_MS
            gaps.append(gap)
            last[0] = t
            now = sched_ms() or (0.0, 0.0)
            if gap > 30:
                cpu, runq = now[0] - last_sched[0][0], now[1] - last_sched[0][1]
                spent.append((gap, cpu, runq, phase[0] == "busy"))
            last_sched[0] = now

        timer = QTimer(interval=TICK_MS)
        timer.timeout.connect(tick)

        def block(seconds: float) -> list[float]:
            gaps.clear()
            last[0] = time.perf_counter()
            timer.start()
            spin(time.monotonic() + seconds)
            timer.stop()
            return list(gaps)

        idle: list[float] = []
        busy: list[float] = []
        seq0 = window.space.last_seq() if window.space else 0
        idle += block(2.0)  # A: the window alone
        proc.stdin.write("go\n")
        proc.stdin.flush()
        import threading

        from bench.bench_feed import watch_stalls

        watch = watch_stalls(last, threading.get_ident())
        phase[0] = "busy"
        busy += block(args.seconds)  # B: the peers busy all along
        phase[0] = "idle"
        watch.stop.set()
        spin(time.monotonic() + 3, lambda: proc.poll() is not None)
        out = proc.communicate(timeout=120)[0]
        sent = json.loads(out.strip().splitlines()[-1])["sent"]
        idle += block(2.0)  # A again, after them
        applied = (window.space.last_seq() if window.space else 0) - seq0
        window.sharing.close()
        window.close()
        studio.close()

    def p(samples: list[float], q: float) -> float:
        ordered = sorted(samples)
        return ordered[min(len(ordered) - 1, int(q * (len(ordered) - 1)))]

    worst_idle, worst_busy = max(idle), max(busy)
    print(
        f"host window, {args.peers} peers x {args.rate:.0f} commands/s ({sent} commands sent, "
        f"{applied} steps applied): longest UI-thread stall {worst_busy:.1f} ms busy vs "
        f"{worst_idle:.1f} ms idle (p99 {p(busy, 0.99):.1f} vs {p(idle, 0.99):.1f} ms, median "
        f"{statistics.median(busy):.2f} vs {statistics.median(idle):.2f} ms); target <= 50 ms"
    )
    print("where stalls over 30 ms were spent:", watch.top())
    for gap, cpu, runq, in_busy in sorted(spent, reverse=True)[:8]:
        print(
            f"  {'busy' if in_busy else 'idle'} stall {gap:.1f} ms: UI thread on a CPU "
            f"{cpu:.1f} ms, runnable waiting for a CPU {runq:.1f} ms, blocked (the GIL, a "
            f"lock) {max(0.0, gap - cpu - runq):.1f} ms"
        )
    # what this process costs itself: a stall less the time the thread was runnable but
    # no CPU was free (the machine's other load); gaps under 30 ms are not broken down
    own = max([gap - runq for gap, _cpu, runq, in_busy in spent if in_busy] or [0.0])
    print(
        f"longest busy stall less its wait for a free CPU: {max(own, 0.0):.1f} ms "
        f"(under 30 ms when 0); load average {load0} before, "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())} after"
    )
    if worst_busy > 50:
        print(f"missed: longest stall {worst_busy:.0f} ms")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
