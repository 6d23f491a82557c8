"""Job throughput through the real command line, and the local provider's cost per job.

Throughput (issue 18, item 6): ``studio worker --until-idle`` and ``studio generate
--count N --wait`` run in their own processes against a provider with a fixed latency L
(the local provider's models, answering after L with a realistic PNG: a 512x512
picture, ~300 KB, stored, probed and thumbnailed like any result) at concurrency C = 8.
Rate = jobs / (first call start .. last job end), from the space file. Paired run by
run (A B A B) with a raw baseline: C threads that sleep L, then write, fsync and
thumbnail the same PNG (what any job system must do with a result), no database.
Targets: rate >= 0.9 x C/L at L = 200 ms and >= 0.8 x C/L at L = 50 ms. The verdict is
always against C/L. Where it is missed and the machine itself can't store pictures that
fast (the raw baseline misses the same share of C/L: CPU bound on a busy or small
machine), the line says so plainly ("C/L NOT SHOWN on this machine") and a fallback
check against the raw baseline (ours/raw paired >= the same share) is printed as such;
only a missed fallback, or C/L missed while the baseline reached it, exits 1
(``--strict``: a C/L target not shown exits 1 too). The CPU time of the CLI's process
per job is printed beside (robust to the machine's load).

Per-job cost (item 6, the local provider): its run and the storing of its result at
512 and 1K, one job at a time, medians.

Exits 1 when a target is missed.
Run: .venv/bin/python bench/bench_scheduler.py [--jobs 200] [--rounds 3] [--concurrency 8]
     [--size 512] [--only throughput|local] [--latency 0.05] [--before TREE]
(``--before TREE``: an older checkout's CLI in the same rounds, A/B; the voluntary
context switches of the CLI's process per job are printed beside its CPU.)
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import resource
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path, PurePosixPath

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
ENV["PYTHONPATH"] = str(ROOT)
SIZE = 512
TARGETS = {0.2: 0.9, 0.05: 0.8}

# The CLI in its own process, with the local provider's models answering after L.
LAUNCH = """
import sys
latency, png = float(sys.argv.pop(1)), sys.argv.pop(1)
import studio.providers_setup as setup
from workers.base import GenerationOutput
from workers.local import LocalProvider
from workers.registry import ProviderRegistry

DATA = open(png, "rb").read()


class Fixed(LocalProvider):
    def run(self, request, context):
        context.sleep(latency)
        return GenerationOutput(mime="image/png", ext="png", data=DATA, units=1.0, unit="image")


setup.build_providers = lambda library: ProviderRegistry([Fixed()])
from studio.cli.main import main

sys.exit(main(sys.argv[1:]))
"""


def picture(size: int) -> bytes:
    """A picture as a provider sends it: the local renderer's shapes, PNG at zlib 6."""
    from workers.local_image import render_scene
    from workers.local_prompt import parse_scene

    img = render_scene(parse_scene("a red kite over green hills at dusk", 11, None), size, size)
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _children_switches() -> int:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_nvcsw


SWITCHES: list[int] = []
"""Voluntary context switches of each CLI process run (the last one's last)."""


def cli(home: Path, latency: float, png: Path, *args: str, tree: Path = ROOT) -> float:
    """Run the CLI (this checkout's, or ``tree``'s); returns its process's CPU seconds
    (and appends its voluntary context switches to :data:`SWITCHES`)."""
    cmd = [sys.executable, "-c", LAUNCH, str(latency), str(png), "--home", str(home), *args]
    env = dict(ENV, PYTHONPATH=str(tree))
    c0, s0 = _children_cpu(), _children_switches()
    done = subprocess.run(cmd, env=env, cwd=tree, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{args[0]} failed: {done.stderr.strip()[-500:]}")
    SWITCHES.append(_children_switches() - s0)
    return _children_cpu() - c0


def span_rate(home: Path, jobs: int) -> float:
    """Jobs per second over the last ``jobs`` jobs: first start to last end."""
    conn = sqlite3.connect(f"file:{home / 'spaces' / 'b.db'}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT started_at, finished_at, status FROM jobs ORDER BY created_at DESC, id DESC "
            "LIMIT ?",
            (jobs,),
        ).fetchall()
    finally:
        conn.close()
    if len(rows) != jobs or any(s != "succeeded" for _, _, s in rows):
        raise SystemExit(f"expected {jobs} succeeded jobs, found {[s for *_, s in rows][:5]}…")
    start = min(r[0] for r in rows)
    end = max(r[1] for r in rows)
    return jobs / max(0.001, (end - start) / 1000)


def ours(
    home: Path, how: str, latency: float, png: Path, jobs: int, tree: Path = ROOT
) -> tuple[float, float, float]:
    """(jobs per second, CPU seconds and voluntary context switches per job of the
    process that ran them)."""
    if how == "worker":
        cli(home, latency, png, "generate", "b", "a kite", "--count", str(jobs), tree=tree)
        cpu = cli(home, latency, png, "worker", "b", "--until-idle", tree=tree)
    else:
        args = ("generate", "b", "a kite", "--count", str(jobs), "--wait")
        cpu = cli(home, latency, png, *args, tree=tree)
    return span_rate(home, jobs), cpu / jobs, SWITCHES[-1] / jobs


def raw(
    tmp: Path, latency: float, data: bytes, jobs: int, conc: int, *, same_files: bool = False
) -> float:
    """The baseline: a thread pool doing the provider wait and the result's files.
    ``same_files``: also what every result of ours has beside its thumbnail (the 64 and
    16 px tiers of #18 item 3, and the original's SHA-256), written the same way."""
    from PIL import Image

    out = tmp / ("raw-same" if same_files else "raw")
    out.mkdir(exist_ok=True)

    def job(i: int) -> None:
        time.sleep(latency)
        d = out / str(i)
        d.mkdir(exist_ok=True)
        with open(d / "original.png", "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        with Image.open(d / "original.png") as im:
            im.thumbnail((512, 512))
            # the app's thumbnail encode (quality 80, libwebp effort 1): a baseline
            # at Pillow's default effort 4 (~3x the time) was an easier bar
            im.save(d / "thumb.webp", "WEBP", quality=80, method=1)
            if same_files:
                hashlib.sha256(data).hexdigest()
                small = im
                for side in (64, 16):
                    small = small.copy()
                    small.thumbnail((side, side))
                    small.save(d / f"thumb.{side}.webp", "WEBP", quality=80, method=1)

    t0 = time.perf_counter()
    c0 = _own_cpu()
    with ThreadPoolExecutor(conc) as pool:
        list(pool.map(job, range(jobs)))
    (RAW_SAME_CPU if same_files else RAW_CPU).append((_own_cpu() - c0) / jobs)
    return jobs / (time.perf_counter() - t0)


RAW_SAME_CPU: list[float] = []
"""The same-files baseline's CPU seconds per job, each run."""

RAW_CPU: list[float] = []
"""The raw baseline's CPU seconds per job, each run."""


def _own_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def setup_home(home: Path, conc: int) -> None:
    from studio.core.studio import Studio

    with Studio(home) as s:
        s.create_space("B")
        s.library.set_setting("jobs.local.concurrency", str(conc))


def verdict(rate: float, base: float, paired: float, ideal: float, target: float) -> str:
    """ "ok", "MISSED" or "NOT SHOWN": against C/L first; the raw baseline only when the
    machine itself can't reach the target share of C/L (then said so)."""
    if rate / ideal >= target:
        return "ok"
    if base / ideal >= target:
        return "MISSED"  # the machine can, ours doesn't
    return "NOT SHOWN" if paired >= target else "MISSED"


def throughput(args: argparse.Namespace, tmp: Path, png: Path, data: bytes) -> list[str]:
    missed = []
    latencies = {lat: TARGETS[lat] for lat in TARGETS if args.latency in (None, lat)}
    for latency, target in latencies.items():
        ideal = args.concurrency / latency
        for how in ("worker", "generate --wait"):
            home = tmp / f"h-{latency}-{how.split()[0]}"
            setup_home(home, args.concurrency)
            rates, bases, sames, cpus, switches = [], [], [], [], []
            before: list[tuple[float, float, float]] = []
            # the CLI's start (imports, opening the space): an idle worker run, CPU
            start_cpu = statistics.median(
                cli(home, latency, png, "worker", "b", "--until-idle") for _ in range(3)
            )
            RAW_CPU.clear()
            RAW_SAME_CPU.clear()
            for _ in range(args.rounds):  # A B A B: the baselines right before each run
                bases.append(raw(tmp, latency, data, args.jobs, args.concurrency))
                sames.append(raw(tmp, latency, data, args.jobs, args.concurrency, same_files=True))
                if args.before is not None:  # the older checkout, in the same round
                    before.append(ours(home, how, latency, png, args.jobs, args.before))
                rate, cpu, switched = ours(home, how, latency, png, args.jobs)
                rates.append(rate)
                cpus.append(cpu)
                switches.append(switched)
            rate, base = statistics.median(rates), statistics.median(bases)
            paired = statistics.median(r / b for r, b in zip(rates, bases, strict=True))
            said = verdict(rate, base, paired, ideal, target)
            print(
                f"{how:<16} L={latency * 1000:.0f} ms C={args.concurrency} {args.jobs} jobs: "
                f"{rate:.1f} jobs/s = {rate / ideal:.2f} x C/L ({ideal:.0f}/s), target >= "
                f"{target} x C/L: {'ok' if said == 'ok' else 'MISSED'}; "
                f"CLI process {statistics.median(cpus) * 1000:.1f} ms CPU and "
                f"{statistics.median(switches):.0f} voluntary context switches per job",
                flush=True,
            )
            loop_cpu = statistics.median(cpus) - start_cpu / args.jobs
            print(
                f"{'':<16} of which the process's start {start_cpu * 1000:.0f} ms CPU "
                f"({start_cpu / args.jobs * 1000:.1f} ms per job); the job loop alone "
                f"{loop_cpu * 1000:.1f} ms CPU per job",
                flush=True,
            )
            if before:
                b_rate = statistics.median(b[0] for b in before)
                b_paired = statistics.median(r / b[0] for r, b in zip(rates, before, strict=True))
                print(
                    f"{'':<16} before ({args.before}): {b_rate:.1f} jobs/s = "
                    f"{b_rate / ideal:.2f} x C/L, CLI process "
                    f"{statistics.median(b[1] for b in before) * 1000:.1f} ms CPU and "
                    f"{statistics.median(b[2] for b in before):.0f} voluntary context switches "
                    f"per job; now/before paired {b_paired:.2f}",
                    flush=True,
                )
            same_paired = statistics.median(r / b for r, b in zip(rates, sames, strict=True))
            print(
                f"{'':<16} raw baseline {base:.1f}/s = {base / ideal:.2f} x C/L; "
                f"ours/raw paired {paired:.2f}; the same files as ours (+ 64/16 px tiers, "
                f"SHA-256) {statistics.median(sames):.1f}/s, ours/that {same_paired:.2f} "
                "(reported, not the target)",
                flush=True,
            )
            cores = os.cpu_count() or 1
            raw_cpu = statistics.median(RAW_CPU)
            print(
                f"{'':<16} CPU-bound ceiling on {cores} free cores (CPU per job, robust to "
                f"load): ours {cores / loop_cpu / ideal:.2f} x C/L ({loop_cpu * 1000:.1f} ms, "
                "the loop), "
                f"raw {cores / raw_cpu / ideal:.2f} x C/L ({raw_cpu * 1000:.1f} ms; same "
                f"files {statistics.median(RAW_SAME_CPU) * 1000:.1f} ms)",
                flush=True,
            )
            if base / ideal < target:  # the machine can't show the target: say so
                fallback = "ok" if paired >= target else "MISSED"
                print(
                    f"{'':<16} C/L NOT SHOWN on this machine: the raw baseline itself reaches "
                    f"only {base / ideal:.2f} x C/L here. Fallback (not the target): ours/raw "
                    f"{paired:.2f} >= {target}: {fallback}",
                    flush=True,
                )
            if said == "MISSED" or (said == "NOT SHOWN" and args.strict):
                missed.append(f"{how} at L={latency * 1000:.0f} ms ({said})")
    return missed


def local_cost(rounds: int = 9) -> None:
    """The local provider's own cost per image job: run (render + encode) and storing
    (write, fsync, probe, thumbnail), one at a time, in CPU time of this process (wall
    time on a shared 2-core machine mostly measures the neighbours; fsync waits are
    not counted)."""
    from studio.jobs.output import store_output
    from workers.base import BasicContext, GenerationRequest, Operation
    from workers.local import LocalProvider

    provider = LocalProvider()
    with tempfile.TemporaryDirectory() as tmp:
        for size in ("512", "1K"):
            runs, stores = [], []
            for i in range(rounds):
                request = GenerationRequest(
                    operation=Operation.GENERATE,
                    media_kind="image",
                    prompt="three red circles over blue hills",
                    model="local-image",
                    size=size,
                    seed=i,
                )
                t0 = time.process_time()
                out = provider.run(request, BasicContext(Path(tmp) / "scratch"))
                t1 = time.process_time()
                stage = Path(tmp) / f"{size}-{i}"
                stage.mkdir()
                store_output(stage, PurePosixPath("a") / f"v{i}", "image", out)
                stores.append(time.process_time() - t1)
                runs.append(t1 - t0)
            run_ms, store_ms = statistics.median(runs) * 1000, statistics.median(stores) * 1000
            print(
                f"local image {size}: per job {run_ms + store_ms:.0f} ms CPU = run {run_ms:.0f} ms "
                f"(render + PNG) + storing {store_ms:.0f} ms (write, fsync, probe, thumbnail)"
            )


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--jobs", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument("--only", choices=("throughput", "local"), default=None)
    ap.add_argument(
        "--strict", action="store_true", help="a C/L target not shown on this machine fails too"
    )
    ap.add_argument(
        "--size", type=int, default=SIZE, help="the result pictures' side (the loop alone: 64)"
    )
    ap.add_argument(
        "--latency", type=float, choices=sorted(TARGETS), help="only this provider latency (s)"
    )
    ap.add_argument(
        "--before",
        type=Path,
        metavar="TREE",
        help="also run an older checkout's CLI (e.g. `git worktree` or `git archive` of a "
        "commit) in every round, paired with this one",
    )
    args = ap.parse_args()
    missed: list[str] = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        data = picture(args.size)
        png = tmp / "picture.png"
        png.write_bytes(data)
        print(f"result picture: {args.size}x{args.size} PNG, {len(data) // 1024} KiB")
        if args.only != "local":
            missed = throughput(args, tmp, png, data)
    if args.only != "throughput":
        local_cost()
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    if missed:
        print(f"missed: {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
