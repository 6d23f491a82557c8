"""The change feed under load, in the real window: the longest UI-thread stall while a
50-job batch runs here and another process writes to the same space, how soon the window
sees each change, and what a command step's commit costs.

Targets (issue 10): no UI-thread stall over 50 ms; every change seen by the window
within 1 s of its commit (measured from the change's ``at``, taken when its transaction
began, so the figure is an upper bound); command-step commit median under 1 ms.
Exits 1 on a miss.

Run: .venv/bin/python bench/bench_feed.py [--jobs 50] [--writes 150] [--rate 30]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYTHON_KEYRING_BACKEND", "keyring.backends.fail.Keyring")

WRITER = """
import sys, time
from pathlib import Path
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.studio import Studio
from workers.registry import ProviderRegistry

home, slug, n, rate = Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
me = Actor.local_owner()
with Studio(home, providers=ProviderRegistry([])) as studio, studio.open_space(slug) as sp:
    made = []
    for i in range(n):
        if i % 3 == 2 and made:
            pos = c.Position(made[-1], 400.0 + i, 300.0)
            sp.apply(c.MoveAssets((pos,)), me)
        else:
            a = sp.apply(c.CreateAsset(f"w{i}", c.MediaKindName.IMAGE, x=i * 10.0, y=900.0), me)
            made.append(a.created["asset_id"])
        time.sleep(1 / rate)
"""

STALL_TICK_MS = 2
GESTURE_MS = 100


class StallWatch(threading.Thread):
    """Samples the UI thread's stack while it has not ticked for over 30 ms (to name what
    a stall was spent in)."""

    def __init__(self, last_tick: list[float], ui_ident: int) -> None:
        super().__init__(daemon=True)
        self.last_tick = last_tick
        self.ui = ui_ident
        self.stop = threading.Event()
        self.seen: collections.Counter[str] = collections.Counter()

    def run(self) -> None:
        while not self.stop.wait(0.01):
            if time.perf_counter() - self.last_tick[0] < 0.03:
                continue
            frame = sys._current_frames().get(self.ui)
            where = []
            while frame is not None and len(where) < 3:
                name = frame.f_code.co_filename
                if "/studio/" in name or "/bench/" in name:
                    where.append(f"{Path(name).name}:{frame.f_code.co_name}")
                frame = frame.f_back
            self.seen[" < ".join(where) or "Qt / outside studio"] += 1

    def top(self) -> list[tuple[str, int]]:
        return self.seen.most_common(4)


def watch_stalls(last_tick: list[float], ui_ident: int) -> StallWatch:
    w = StallWatch(last_tick, ui_ident)
    w.start()
    return w


def sched_ms() -> tuple[float, float] | None:
    """This thread's time on a CPU and time runnable but waiting for one (Linux
    schedstat), in ms: what a stall was spent on."""
    try:
        with open("/proc/thread-self/schedstat") as f:
            on_cpu, waiting, _ = f.read().split()
    except (OSError, ValueError):
        return None
    return int(on_cpu) / 1e6, int(waiting) / 1e6


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--jobs", type=int, default=50)
    ap.add_argument("--latency", type=float, default=0.15, help="provider latency, seconds")
    ap.add_argument("--writes", type=int, default=150, help="commands by the other process")
    ap.add_argument("--rate", type=float, default=30, help="its commands per second")
    ap.add_argument("--steps", type=int, default=400, help="commits timed for the median")
    ap.add_argument(
        "--nice", type=int, default=None, help="background threads' nice value (default: the app's)"
    )
    ap.add_argument("--switch-ms", type=float, default=None, help="sys.setswitchinterval, ms")
    args = ap.parse_args()
    if args.switch_ms is not None:
        sys.setswitchinterval(args.switch_ms / 1000)
    if args.nice is not None:
        import studio.jobs.pump

        studio.jobs.pump.BACKGROUND_NICE = args.nice

    from PySide6.QtCore import Qt, QTimer
    from PySide6.QtWidgets import QApplication

    from studio.core import commands as c
    from studio.core.actor import Actor
    from studio.core.events import Event
    from studio.core.feed import Change
    from studio.core.studio import Studio
    from studio.ui.feed_follower import FeedFollower
    from studio.ui.main_window import MainWindow
    from workers.registry import ProviderRegistry
    from workers.testing import ScriptedProvider

    app = QApplication.instance() or QApplication([])
    me = Actor.local_owner()
    failures: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        provider = ScriptedProvider("scripted", latency_s=args.latency)
        studio = Studio(home, providers=ProviderRegistry([provider]))
        entry = studio.create_space("Bench")
        window = MainWindow(studio, me)
        window.resize(1400, 900)
        window.show()
        handled: list[float] = []  # one follower turn: read the feed + every view applies
        real_poll = FeedFollower.poll

        def timed_turn(self: FeedFollower) -> None:
            t = time.perf_counter()
            real_poll(self)
            handled.append((time.perf_counter() - t) * 1000)

        FeedFollower.poll = timed_turn  # type: ignore[method-assign]
        window.open_space(entry.id)
        session = window.session
        assert session is not None
        space = session.space
        t_end = time.monotonic() + 30
        while (
            window.space_control._held is not None and time.monotonic() < t_end
        ):  # snapshot loaded
            app.processEvents()

        arrived: dict[int, int] = {}

        def on_event(event: Event) -> None:
            if event.seq and event.seq not in arrived:
                arrived[event.seq] = now_ms()

        session.core_event.connect(on_event)

        reads: list[float] = []  # the follower's reads of the feed, on the UI thread
        feed_poll = session.follower._feed.poll

        def timed_poll() -> list[Change]:
            t = time.perf_counter()
            try:
                return feed_poll()
            finally:
                reads.append((time.perf_counter() - t) * 1000)

        session.follower._feed.poll = timed_poll  # type: ignore[method-assign]

        gaps: list[float] = []
        last_tick = [time.perf_counter()]
        last_sched = [sched_ms()]
        stalls: list[tuple[float, float, float]] = []  # (gap, on CPU, waiting for a CPU)

        def tick() -> None:
            t = time.perf_counter()
            now_sched = sched_ms()
            gap = (t - last_tick[0]) * 1000 - STALL_TICK_MS
            gaps.append(gap)
            if gap > 30 and now_sched is not None and last_sched[0] is not None:
                cpu = now_sched[0] - last_sched[0][0]
                queued = now_sched[1] - last_sched[0][1]
                stalls.append((gap, cpu, queued))
            last_tick[0] = t
            last_sched[0] = now_sched

        sampler = QTimer()
        sampler.setTimerType(Qt.TimerType.PreciseTimer)
        sampler.setInterval(STALL_TICK_MS)
        sampler.timeout.connect(tick)

        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        writer = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(home), entry.slug, str(args.writes), str(args.rate)],
            env=env,
        )
        # let the writer start (its interpreter start-up), then the batch, then measure
        t0 = time.monotonic()
        while time.monotonic() - t0 < 0.8:
            app.processEvents()
        # the user nudges a card now and then while the batch runs: a command on the UI
        # thread, which waits for the write lock whenever a job thread holds it
        nudged = space.apply(c.CreateAsset("Nudged", c.MediaKindName.IMAGE), me)
        nudged_id = nudged.created["asset_id"]
        gestures: list[float] = []

        def nudge() -> None:
            pos = c.Position(nudged_id, float(len(gestures)), -200.0)
            t = time.perf_counter()
            space.apply(c.MoveAssets((pos,)), me)
            gestures.append((time.perf_counter() - t) * 1000)

        nudger = QTimer()
        nudger.setInterval(GESTURE_MS)
        nudger.timeout.connect(nudge)
        opts = c.GenerationOptions(no_style=True)
        done = 0
        while done < args.jobs:  # the app asks for at most 16 per batch command
            n = min(16, args.jobs - done)
            space.apply(c.RequestBatch("bench", c.MediaKindName.IMAGE, n, options=opts), me)
            done += n
        last_tick[0] = time.perf_counter()
        sampler.start()
        nudger.start()
        started = time.monotonic()
        culprits = watch_stalls(last_tick, threading.get_ident())

        def settled() -> bool:
            if writer.poll() is None:
                return False
            unfinished = [j for j in space.jobs(limit=10_000) if j.status != "succeeded"]
            return not unfinished and max(arrived, default=0) >= space.last_seq()

        next_check = 0.0
        while time.monotonic() - started < 180:
            app.processEvents()
            time.sleep(0.001)
            if time.monotonic() >= next_check:  # the bench's own reads: rarely
                if settled():
                    break
                next_check = time.monotonic() + 0.25
        sampler.stop()
        nudger.stop()
        culprits.stop.set()
        elapsed = time.monotonic() - started
        writer.wait(30)

        changes = list(space.changes(0))
        first_seen = min(arrived, default=0)
        followed = [ch for ch in changes if ch.seq >= first_seen]
        missing = [ch.seq for ch in followed if ch.seq not in arrived]
        lat = sorted(arrived[ch.seq] - ch.at for ch in followed if ch.seq in arrived)
        by_other = sum(1 for ch in followed if ch.command in ("asset:create", "asset:move"))
        ok_jobs = sum(j.status == "succeeded" for j in space.jobs(limit=10_000))
        stall = max(gaps, default=0.0)
        p99 = statistics.quantiles(gaps, n=100)[98] if len(gaps) > 100 else stall
        print(f"run: {elapsed:.1f} s, {ok_jobs}/{args.jobs} jobs done here,")
        print(f"     {by_other} commands by another process, {len(followed)} changes followed")
        print(f"UI-thread stall: longest {stall:.1f} ms, p99 {p99:.1f} ms (target <= 50 ms)")
        print(
            f"feed reads on the UI thread: {len(reads)}, median {statistics.median(reads):.3f} ms,"
            f" longest {max(reads):.2f} ms"
        )
        print(
            f"follower turns (read + views apply): median {statistics.median(handled):.3f} ms,"
            f" longest {max(handled):.2f} ms"
        )
        if gestures:
            print(
                f"UI gestures (a nudge every {GESTURE_MS} ms, {len(gestures)} in all): "
                f"median {statistics.median(gestures):.2f} ms, longest {max(gestures):.1f} ms"
            )
        if lat:
            print(
                f"change seen by the window after: median {statistics.median(lat):.0f} ms, "
                f"longest {lat[-1]} ms (target <= 1000 ms)"
            )
        for gap, cpu, queued in sorted(stalls, reverse=True)[:3]:
            print(
                f"  a {gap:.1f} ms stall: UI thread on a CPU {cpu:.1f} ms, waiting for a CPU "
                f"(run queue) {queued:.1f} ms, blocked (GIL, locks, I/O) "
                f"{max(0.0, gap + STALL_TICK_MS - cpu - queued):.1f} ms"
            )
        for where, n in culprits.top():
            print(f"  UI thread seen stalled (> 30 ms) {n}x in: {where}")
        if missing:
            failures.append(f"{len(missing)} changes never reached the window: {missing[:5]}")
        if ok_jobs != args.jobs:
            failures.append(f"only {ok_jobs} of {args.jobs} jobs finished")
        if stall > 50:
            failures.append(f"UI-thread stall {stall:.1f} ms > 50 ms")
        if not lat or lat[-1] > 1000:
            failures.append("a change took over 1 s to reach the window")

        # the follower's cheap check, on the UI thread at every timer tick
        feed = space.feed()
        feed.poll()
        checks = []
        for _ in range(2000):
            t = time.perf_counter()
            feed.changed()
            checks.append(time.perf_counter() - t)
        feed.close()
        print(f"feed check (PRAGMA data_version): median {statistics.median(checks) * 1e6:.1f} us")

        # a command step's commit, with the window following
        aid = space.apply(c.CreateAsset("Timed", c.MediaKindName.IMAGE), me).created["asset_id"]
        times = []
        for i in range(args.steps):
            cmd = c.MoveAssets((c.Position(aid, float(i), 0.0),))
            t = time.perf_counter()
            space.apply(cmd, me)
            times.append(time.perf_counter() - t)
            if i % 50 == 0:
                app.processEvents()
        median = statistics.median(times) * 1000
        print(f"command-step commit: median {median:.3f} ms (target < 1 ms)")
        if median >= 1:
            failures.append(f"commit median {median:.3f} ms >= 1 ms")

        window.close()
        app.processEvents()
        studio.close()
    for f in failures:
        print(f"MISS: {f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
