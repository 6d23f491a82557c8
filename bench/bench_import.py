"""Import throughput: the app's real import path against a raw parallel baseline.

    python bench/bench_import.py [--photos 200] [--size 2048] [--wavs 50] [--rounds 3]
                                 [--today PATH]

Makes ``photos`` photo-like JPEGs (``size``², quality 90) and ``wavs`` 8 s stereo WAVs
once (cached in the temp folder), then times, A B A B in the same run, each run in a
fresh process and a fresh space:

  ours:  ``python -m studio --home H import bench <files>`` (the CLI a user runs:
         staged copy + SHA-256, probe, previews with small tiers, metadata, rows through
         the door, fsync'd files; a process pool sized to the cores)
  raw:   a competent multiprocessing script (``multiprocessing.Pool`` of the same size):
         per JPEG a file copy, ``draft()`` decode at the target scale, a 512 px
         thumbnail saved as WebP (method 1); per WAV a file copy, the samples read with
         ``wave`` + numpy min/max per column drawn into a 512x256 WebP
  today: (with ``--today PATH``) the same CLI run from another checkout, e.g. the tree
         before the parallel import: ``git worktree add /tmp/before <commit>``

The ratios are taken run by run (ours/raw throughput, ours/today) and their medians
reported. Targets: ours >= 0.8x raw; ours >= 2.5x today (when given). Exits 1 when a
target is missed.
"""

from __future__ import annotations

import argparse
import os
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


def raw_main(out_dir: Path, files: list[str]) -> None:
    with Pool(_cores()) as pool:
        pool.map(_raw_one, [(f, str(out_dir)) for f in files], chunksize=1)


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


def _timed(cmd: list[str], env: dict[str, str]) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT)
    took = time.perf_counter() - t0
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
    cmd = [py, "-m", "studio", "--home", str(home), "import", "bench", *map(str, files)]
    return _timed(cmd, env)


def run_raw(out: Path, files: list[Path]) -> float:
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    cmd = [sys.executable, str(Path(__file__).resolve()), "--raw-into", str(out), *map(str, files)]
    return _timed(cmd, _env(ROOT))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--photos", type=int, default=200)
    parser.add_argument("--size", type=int, default=2048)
    parser.add_argument("--wavs", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--today", type=Path, help="a checkout to compare against")
    parser.add_argument("--raw-into", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("files", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.raw_into is not None:  # the baseline's own process
        raw_main(args.raw_into, args.files)
        return 0

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
    vs_raw: list[float] = []
    vs_today: list[float] = []
    try:
        for r in range(args.rounds):
            ours = run_cli(ROOT, work / "ours", files)
            raw = run_raw(work / "raw", files)
            line = f"  round {r + 1}: ours {n / ours:.1f} files/s ({ours:.1f} s)  raw {n / raw:.1f} files/s ({raw:.1f} s)"
            vs_raw.append(raw / ours)
            if args.today is not None:
                today = run_cli(args.today, work / "today", files)
                vs_today.append(today / ours)
                line += f"  today {n / today:.1f} files/s ({today:.1f} s)"
            print(line, flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
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
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
