"""Space archives: export and import throughput against a raw ``zipfile`` store of the
same files (write, then ``extractall``), measured A B A B in one process; peak memory.

Run: .venv/bin/python bench/bench_archive.py [--mb 256] [--file-mb 16] [--rounds 2]
(``STUDIO_BENCH_ARCHIVE_MB=2048`` for the 2 GB figure.)
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shutil
import statistics
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.archive import export_space, import_space
from studio.core.studio import Studio
from studio.store.archive_stream import second_core_free


def populate(studio: Studio, total_mb: int, file_mb: int) -> tuple[str, list[Path]]:
    """A space with ``total_mb`` of media in files of ``file_mb`` (no two alike)."""
    entry = studio.create_space("Bench")
    block = bytearray(os.urandom(1 << 20))
    files: list[Path] = []
    with studio.open_space(entry.slug) as sp:
        for i in range(max(1, total_mb // file_mb)):
            begun = sp.apply(
                c.BeginUpload(media_kind=c.MediaKindName("video"), original_name=f"f{i}.bin"),
                Actor.local_owner(),
            )
            aid, vid = begun.created["asset_id"], begun.created["variant_id"]
            rel = f"{sp.asset(aid).slug}/{vid}/original.bin"
            path = sp.media_dir / rel
            path.parent.mkdir(parents=True)
            digest = hashlib.sha256()
            with open(path, "wb") as f:
                for n in range(file_mb):
                    block[:8] = (i * 100_000 + n).to_bytes(8, "little")
                    digest.update(block)
                    f.write(block)
            sp.apply(
                c.CompleteVariant(
                    vid, rel, "application/octet-stream", file_mb << 20, digest.hexdigest()
                ),
                Actor.system(),
            )
            files.append(path)
    return entry.slug, [studio.paths.home / entry.file, *files]


def cpu_s() -> float:
    """CPU seconds of this process, every thread (user + system)."""
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


CPU: dict[str, list[float]] = {"ours": [], "raw": []}  # import / extract CPU seconds


def ours(studio: Studio, slug: str, scratch: Path) -> tuple[float, float]:
    out = scratch / "ours.forgespace"
    t0 = time.perf_counter()
    export_space(studio, slug, out)
    t1 = time.perf_counter()
    c1 = cpu_s()
    entry = import_space(studio, out).entry
    t2 = time.perf_counter()
    CPU["ours"].append(cpu_s() - c1)
    trash = studio.delete_space(entry.slug)
    shutil.rmtree(trash)
    out.unlink()
    return t1 - t0, t2 - t1


def raw_zip(files: list[Path], scratch: Path) -> tuple[float, float]:
    out = scratch / "raw.zip"
    t0 = time.perf_counter()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for i, f in enumerate(files):
            zf.write(f, f"{i}-{f.name}")
    t1 = time.perf_counter()
    c1 = cpu_s()
    with zipfile.ZipFile(out) as zf:
        zf.extractall(scratch / "raw")
    t2 = time.perf_counter()
    CPU["raw"].append(cpu_s() - c1)
    shutil.rmtree(scratch / "raw")
    out.unlink()
    return t1 - t0, t2 - t1


def raw_durable_extract(files: list[Path], scratch: Path) -> float:
    """``extractall`` then fsync of every file: what any import that must survive a
    power cut costs before verifying a byte (the disk's share of the gap to raw)."""
    out = scratch / "raw.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for i, f in enumerate(files):
            zf.write(f, f"{i}-{f.name}")
    t0 = time.perf_counter()
    with zipfile.ZipFile(out) as zf:
        zf.extractall(scratch / "raw")
    for f in sorted((scratch / "raw").iterdir()):
        fd = os.open(f, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
    t1 = time.perf_counter()
    shutil.rmtree(scratch / "raw")
    out.unlink()
    return t1 - t0


def raw_verified_extract(files: list[Path], scratch: Path) -> float:
    """The least a verifying, durable import must do: ``extractall``, then SHA-256 and
    fsync of every file (a reference; ours streams the same work in one pass)."""
    out = scratch / "raw.zip"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED, allowZip64=True) as zf:
        for i, f in enumerate(files):
            zf.write(f, f"{i}-{f.name}")
    t0 = time.perf_counter()
    with zipfile.ZipFile(out) as zf:
        zf.extractall(scratch / "raw")
    for f in sorted((scratch / "raw").iterdir()):
        digest = hashlib.sha256()
        with open(f, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
            os.fsync(fh.fileno())
    t1 = time.perf_counter()
    shutil.rmtree(scratch / "raw")
    out.unlink()
    return t1 - t0


TARGET = 0.8


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=int(os.environ.get("STUDIO_BENCH_ARCHIVE_MB", 256)))
    ap.add_argument("--file-mb", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("TMPDIR")) as tmp:
        scratch = Path(tmp) / "scratch"
        scratch.mkdir()
        with Studio(Path(tmp) / "home") as studio:
            slug, files = populate(studio, args.mb, args.file_mb)
            size = sum(f.stat().st_size for f in files)
            base_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            a_exp, a_imp, b_exp, b_imp, c_imp, d_imp = [], [], [], [], [], []
            loads = [os.getloadavg()[0]]
            for _ in range(args.rounds):  # A B A B
                e, i = ours(studio, slug, scratch)
                a_exp.append(e)
                a_imp.append(i)
                e, i = raw_zip(files, scratch)
                b_exp.append(e)
                b_imp.append(i)
                c_imp.append(raw_verified_extract(files, scratch))
                d_imp.append(raw_durable_extract(files, scratch))
                loads.append(os.getloadavg()[0])
            peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    mib = size / 2**20

    def rate(samples: list[float]) -> float:
        return mib / statistics.median(samples)

    print(f"space: {mib:,.0f} MiB in {len(files) - 1} media files + the space file")
    print(f"export  ours {rate(a_exp):8.0f} MiB/s   raw zipfile write   {rate(b_exp):8.0f} MiB/s")
    print(f"import  ours {rate(a_imp):8.0f} MiB/s   raw zipfile extract {rate(b_imp):8.0f} MiB/s")
    print(f"        (raw extract + fsync of each file:           {rate(d_imp):8.0f} MiB/s)")
    print(f"        (raw extract + SHA-256 + fsync of each file: {rate(c_imp):8.0f} MiB/s)")
    exp_ratio = statistics.median(b / a for a, b in zip(a_exp, b_exp, strict=True))
    imp_ratio = statistics.median(b / a for a, b in zip(a_imp, b_imp, strict=True))
    print(
        f"ratio (ours / raw, median of {args.rounds} A-B pairs; target >= 0.8): "
        f"export {exp_ratio:.2f}x, import {imp_ratio:.2f}x"
    )
    pairs = ", ".join(f"{b / a:.2f}" for a, b in zip(a_imp, b_imp, strict=True))
    print(f"        import, each pair: {pairs}")
    cpu_ours, cpu_raw = statistics.median(CPU["ours"]), statistics.median(CPU["raw"])
    print(
        f"import CPU (all threads, median): ours {cpu_ours:.2f} s, raw extract {cpu_raw:.2f} s; "
        f"wall/CPU ours {statistics.median(a_imp) / cpu_ours:.2f} "
        f"(< 1: its threads overlap; > 1: it waited for the disk or for a core)"
    )
    durable = statistics.median(d / a for a, d in zip(a_imp, d_imp, strict=True))
    print(f"import vs raw extract + fsync (median of pairs): {durable:.2f}x")
    print(
        f"load average (1 min) during the run: {min(loads):.1f}-{max(loads):.1f} "
        f"on {os.cpu_count()} cores; hash beside the copy: {second_core_free()} at the end"
    )
    print(
        f"peak RSS {peak_kib / 1024:,.0f} MiB (after setup {base_kib / 1024:,.0f} MiB; "
        f"grew {(peak_kib - base_kib) / 1024:,.1f} MiB)"
    )
    missed = [
        f"{what} {ratio:.2f}x"
        for what, ratio in (("export", exp_ratio), ("import", imp_ratio))
        if ratio < TARGET
    ]
    if missed:
        print(f"missed (target >= {TARGET}x raw): {', '.join(missed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
