"""Import throughput: the app's real import path against a raw parallel baseline.

    python bench/bench_import.py [--photos 200] [--size 2048] [--wavs 50] [--rounds 4]
                                 [--today PATH|auto|none]

Makes ``photos`` photo-like JPEGs (``size``², quality 90) and ``wavs`` 8 s stereo WAVs
once (cached in the temp folder), then times, A B B A in the same run (every other round
in the reverse order: a run may pay for what the one before it left the kernel to do),
each run in a fresh process and a fresh space:

  ours:  ``python -m studio --home H import bench <files>`` (the CLI a user runs:
         staged copy + SHA-256, probe, previews with small tiers, metadata, rows through
         the door, fsync'd files; a process pool sized to the cores)
  raw:   a competent multiprocessing script (``multiprocessing.Pool`` of the same size):
         per JPEG a file copy, ``draft()`` decode at the target scale, a 512 px
         thumbnail saved as WebP (method 1); per WAV a file copy, the samples read with
         ``wave`` + numpy min/max per column drawn into a 512x256 WebP
  today: the same CLI run from another checkout (its own folder as the working
         folder, so its code is what runs): ``--today PATH``; by default (``auto``)
         the serial import before the parallel one, :data:`SERIAL_COMMIT` (the
         integration branch before w-importer was merged), taken from this checkout's
         git history with ``git archive`` into a temporary folder (skipped, and said
         so, where there is no such history; ``--today none`` skips it)

The ratios are taken run by run (ours/raw throughput, ours/today) and their medians
reported. Targets: ours >= 0.8x raw; ours >= 2.5x today (when given). Exits 1 when a
target is missed.

CPU time is counted too, robust to a shared machine's load: each CLI run's own process
(the door, the rows, the moves) and all its children (the pool's workers), per file.
From them, the CPU-bound ratio ours/today expected with ``--cores`` free cores (default:
this machine's): today's CPU (one process, serial) over ours spread on the cores, but
never less than our main process's own share (it runs beside the workers, not split).
That is what the wall-clock ratio reaches on a quiet machine when the disk keeps up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from multiprocessing import Pool
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.bench_thumbnails import make_photo  # noqa: E402

WAV_SECONDS = 8
SERIAL_COMMIT = "315ead9"
"""The tree whose import is the issue's "today" (serial, one process)."""


def _make_one(job: tuple[str, int, int]) -> None:
    path, size, seed = job
    p = Path(path)
    if p.suffix == ".jpg":
        make_photo(p, size, seed)
        return
    rng = np.random.default_rng(seed)
    t = np.arange(44100 * WAV_SECONDS) / 44100
    tone = 0.4 * np.sin(2 * np.pi * (110 + seed) * t) * np.exp(-t / (2 + seed % 5))
    noise = rng.normal(0, 0.05, len(t))
    pcm = (np.stack([tone + noise, tone - noise], axis=1) * 32767).astype("<i2")
    with wave.open(str(p), "wb") as w:
        w.setnchannels(2)
        w.setsampwidth(2)
        w.setframerate(44100)
        w.writeframes(pcm.tobytes())


def make_set(folder: Path, photos: int, size: int, wavs: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    jobs = [(str(folder / f"photo_{i:03d}.jpg"), size, i) for i in range(photos)]
    jobs += [(str(folder / f"sound_{i:03d}.wav"), 0, i) for i in range(wavs)]
    todo = [j for j in jobs if not Path(j[0]).exists()]
    if todo:
        t0 = time.perf_counter()
        with Pool(os.cpu_count() or 2) as pool:
            pool.map(_make_one, todo)
        print(f"made {len(todo)} files in {time.perf_counter() - t0:.1f} s (kept in {folder})")
    return [Path(j[0]) for j in jobs]


# --------------------------------------------------------------------------- raw baseline


def _raw_one(job: tuple[str, str]) -> None:
    src, out_dir = Path(job[0]), Path(job[1])
    dest = out_dir / src.stem
    dest.mkdir()
    shutil.copyfile(src, dest / src.name)
    if src.suffix == ".jpg":
        with Image.open(src) as im:
            im.draft("RGB", (512, 512))
            im.thumbnail((512, 512))
            im.save(dest / "thumb.webp", "WEBP", quality=80, method=1)
        return
    with wave.open(str(src), "rb") as w:
        pcm = np.frombuffer(w.readframes(w.getnframes()), "<i2").reshape(-1, w.getnchannels())
    mono = pcm.mean(axis=1) / 32768
    cols = np.array_split(mono, 512)
    lo = np.array([c.min() for c in cols])
    hi = np.array([c.max() for c in cols])
    ys = np.arange(256)[:, None]
    mid = 127.5
    canvas = np.zeros((256, 512, 3), np.uint8)
    canvas[(ys >= mid - hi * mid) & (ys <= mid - lo * mid)] = (86, 182, 194)
    Image.fromarray(canvas, "RGB").save(dest / "thumb.webp", "WEBP", quality=80, method=1)


def raw_main(out_dir: Path, files: list[str], cpu_out: Path | None = None) -> None:
    with Pool(_cores()) as pool:
        pool.map(_raw_one, [(f, str(out_dir)) for f in files], chunksize=1)
    if cpu_out is not None:
        r = resource.getrusage(resource.RUSAGE_SELF)
        cpu_out.write_text(json.dumps({"self": r.ru_utime + r.ru_stime}))


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover
        return os.cpu_count() or 1


# --------------------------------------------------------------------------- runs


def _env(tree: Path) -> dict[str, str]:
    """The environment of a run: ``tree`` on the path, and byte-code caching on as in
    an installed app (a shell with PYTHONDONTWRITEBYTECODE would recompile every module
    in every process, workers included)."""
    env = {**os.environ, "PYTHONPATH": str(tree)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


# Runs the CLI as ``python -m studio`` does, then writes its own process's CPU seconds
# (every thread; the pool's workers are children) to the file named first.
CLI_CPU = """
import atexit, json, resource, runpy, sys
out = sys.argv.pop(1)
def _report():
    r = resource.getrusage(resource.RUSAGE_SELF)
    with open(out, "w") as f:
        json.dump({"self": r.ru_utime + r.ru_stime}, f)
atexit.register(_report)
sys.argv[0] = "studio"
runpy.run_module("studio", run_name="__main__", alter_sys=True)
"""


class Cpu:
    """CPU seconds of the last run: its own process and all its children."""

    own = 0.0
    total = 0.0


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _adopt_orphans() -> None:
    """Become the subreaper of our descendants (Linux): a pool's workers and its fork
    server outlive the CLI's own process, and their CPU time counts only once some
    process reaps them (:func:`_reap_orphans`)."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):  # pragma: no cover - not Linux: children only
        pass


def _own_children() -> set[int]:
    """The pids whose parent is this process (adopted orphans included), from /proc."""
    me, out = os.getpid(), set()
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        if len(fields) > 1 and int(fields[1]) == me:
            out.add(int(entry))
    return out


def _reap_orphans(before: set[int], limit_s: float = 30.0) -> None:
    """Wait for the children that came (or were adopted) since ``before`` — a pool's
    workers outlive the CLI — and reap them; children we had already (a test run's
    own) are left alone."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end:
        new = _own_children() - before
        if not new:
            return
        for pid in new:
            with contextlib.suppress(ChildProcessError):
                os.waitpid(pid, os.WNOHANG)
        time.sleep(0.01)


def _timed(cmd: list[str], env: dict[str, str], own: Path | None = None, *, cwd: Path) -> float:
    """Seconds ``cmd`` took; its CPU (and its descendants') in :class:`Cpu`. ``cwd``:
    ``python -c`` / ``-m`` put the working folder first on the path, so it must be the
    tree under test (from this checkout's folder, ``--today`` would run this code)."""
    before = _own_children()
    c0 = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    took = time.perf_counter() - t0
    _reap_orphans(before)
    Cpu.total = _children_cpu() - c0
    Cpu.own = json.loads(own.read_text())["self"] if own is not None else Cpu.total
    if proc.returncode != 0:
        raise SystemExit(
            f"failed: {' '.join(cmd[:6])}…\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}"
        )
    return took


def run_cli(tree: Path, home: Path, files: list[Path]) -> float:
    env = _env(tree)
    shutil.rmtree(home, ignore_errors=True)
    py = sys.executable
    subprocess.run(
        [py, "-m", "studio", "--home", str(home), "space", "create", "bench"],
        check=True,
        capture_output=True,
        env=env,
        cwd=tree,
    )
    own = home / "cpu.json"
    cmd = [py, "-c", CLI_CPU, str(own), "--home", str(home), "import", "bench", *map(str, files)]
    return _timed(cmd, env, own, cwd=tree)


def run_raw(out: Path, files: list[Path]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    own = out.parent / "raw-cpu.json"
    cmd = [sys.executable, str(Path(__file__).resolve()), "--raw-into", str(out)]
    cmd += ["--cpu-out", str(own), *map(str, files)]
    return _timed(cmd, _env(ROOT), own, cwd=ROOT)


def _today_tree(choice: str, into: Path) -> Path | None:
    """The checkout ``--today`` names: a path, none, or (auto) :data:`SERIAL_COMMIT`
    extracted from this checkout's git history."""
    if choice == "none":
        return None
    if choice != "auto":
        return Path(choice)
    into.mkdir(parents=True)
    try:
        archive = subprocess.run(
            ["git", "-C", str(ROOT), "archive", SERIAL_COMMIT],
            capture_output=True,
            check=True,
            timeout=120,
        )
        subprocess.run(["tar", "-x", "-C", str(into)], input=archive.stdout, check=True)
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"no serial tree ({SERIAL_COMMIT} not in this checkout's history: {exc})")
        return None
    return into


def cpu_report(cpu: dict[str, list[tuple[float, float]]], n: int, cores: int) -> None:
    """CPU per file of each side (median over the rounds), and the CPU-bound ratios."""
    med = {
        k: (statistics.median(o for o, _ in v), statistics.median(t for _, t in v))
        for k, v in cpu.items()
        if v
    }
    for k, (own, total) in med.items():
        print(
            f"CPU {k:<5}: {total:6.1f} s in all, {total / n * 1000:5.0f} ms per file "
            f"(its main process {own:.1f} s)"
        )

    def bound(own: float, total: float) -> float:  # wall on ``cores`` free cores, CPU-bound
        return max(own, total / cores)

    ours = bound(*med["ours"])
    print(
        f"CPU-bound ours/raw on {cores} free cores: {bound(*med['raw']) / ours:.2f} "
        "(raw: a pool of that many workers)"
    )
    if "today" in med:
        today = bound(*med["today"])  # serial: its main process does it all
        print(
            f"CPU-bound ours/today on {cores} free cores: {today / ours:.2f}x "
            f"(today {today:.1f} s; ours max(main {med['ours'][0]:.1f} s, "
            f"all {med['ours'][1]:.1f} s / {cores}))"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--wavs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument(
        "--today",
        default="auto",
        help=f"a checkout to compare against; auto: {SERIAL_COMMIT} from git; none: skip",
    )
    parser.add_argument(
        "--cores", type=int, default=_cores(), help="free cores for the CPU-bound estimate"
    )
    parser.add_argument("--raw-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cpu-out", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw_into is not None:  # the baseline's own process
        raw_main(args.raw_into, args.files, args.cpu_out)
        return 0

    _adopt_orphans()
    base = Path(tempfile.gettempdir())
    files = make_set(
        base / f"bench-import-{args.photos}x{args.size}-{args.wavs}",
        args.photos,
        args.size,
        args.wavs,
    )
    mib = sum(p.stat().st_size for p in files) / 1024**2
    n = len(files)
    try:
        load = os.getloadavg()[0]
    except OSError:  # pragma: no cover
        load = float("nan")
    print(
        f"{args.photos} JPEGs {args.size}² + {args.wavs} WAVs ({mib:.0f} MiB), {_cores()} cores, load {load:.1f}"
    )
    work = Path(tempfile.mkdtemp(prefix="bench-import-"))
    today_tree = _today_tree(args.today, work / "serial-tree")
    vs_raw: list[float] = []
    vs_today: list[float] = []
    cpu: dict[str, list[tuple[float, float]]] = {"ours": [], "raw": [], "today": []}
    try:
        for r in range(args.rounds):
            # every other round in the reverse order: a run may pay for what the one
            # before it left the kernel to do (writing back, freeing the last run's
            # files); a fixed order would charge it to the same one every round
            took: dict[str, float] = {}
            order = ["ours", "raw", "today"] if today_tree is not None else ["ours", "raw"]
            for name in order if r % 2 == 0 else order[::-1]:
                if name == "raw":
                    took[name] = run_raw(work / "raw", files)
                else:
                    tree = ROOT if name == "ours" else today_tree
                    assert tree is not None
                    took[name] = run_cli(tree, work / name, files)
                cpu[name].append((Cpu.own, Cpu.total))
            ours, raw = took["ours"], took["raw"]
            line = f"  round {r + 1}: ours {n / ours:.1f} files/s ({ours:.1f} s)  raw {n / raw:.1f} files/s ({raw:.1f} s)"
            vs_raw.append(raw / ours)
            if "today" in took:
                today = took["today"]
                vs_today.append(today / ours)
                line += f"  today {n / today:.1f} files/s ({today:.1f} s)"
            print(line + ("" if r % 2 == 0 else "  (reversed order)"), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    cpu_report(cpu, n, args.cores)
    ok = True
    ratio = statistics.median(vs_raw)
    print(
        f"import ours/raw: median {ratio:.2f} (runs {', '.join(f'{x:.2f}' for x in vs_raw)}); target >= 0.8"
    )
    ok &= ratio >= 0.8
    if vs_today:
        speedup = statistics.median(vs_today)
        print(
            f"import ours/today: median {speedup:.2f}x (runs {', '.join(f'{x:.2f}' for x in vs_today)}); target >= 2.5"
        )
        ok &= speedup >= 2.5
    else:
        print("import ours/today: not measured (give --today TREE: the serial import's tree)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
