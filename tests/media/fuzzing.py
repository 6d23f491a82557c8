"""A mutation fuzzer for the import pipeline (driven by tests/media/test_fuzz.py).

Small valid seed files of every accepted format are generated, then mutated with a
fixed seed (bit flips, interesting integers in size fields, truncation, cut/copied
slices, splices of two formats, junk) and imported through ``import_files`` into a
real space. Every file must end imported or refused with a reason we wrote: an
"unexpected error" means an exception escaped a decoder. Run in its own process, so
the peak memory it reports is the fuzzer's own.

    python -m tests.media.fuzzing --count 3000 --seed 9
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import struct
import sys
import tempfile
import time
import warnings
from pathlib import Path

from PIL import Image

from tests.media.conftest import (
    encode_audio,
    encode_video,
    first_encoder,
    photo_like,
    write_wav,
)

BATCH = 25
INTERESTING_8 = (0x00, 0x01, 0x7F, 0x80, 0xFF)
INTERESTING_16 = (0, 1, 0x7FFF, 0x8000, 0xFFFF, 16000)
INTERESTING_32 = (0, 1, 0x7FFFFFFF, 0x80000000, 0xFFFFFFFF, 0x10000, 65535 * 65535)


def make_seeds(root: Path) -> dict[str, bytes]:
    """One small file per accepted format (and a few variants that take other paths)."""
    root.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}

    def image(name: str, im: Image.Image, fmt: str, **kw: object) -> None:
        p = root / name
        im.save(p, fmt, **kw)
        paths[name] = p

    rgb = photo_like(48, 32)
    rgba = photo_like(40, 30, alpha=True)
    frames = [photo_like(32, 24, seed=i) for i in range(3)]
    image("a.png", rgba, "PNG")
    image("anim.png", frames[0], "PNG", save_all=True, append_images=frames[1:], duration=80)
    image("a.jpg", rgb, "JPEG", quality=80)
    image("p.jpg", rgb, "JPEG", quality=80, progressive=True)
    image("a.webp", rgba, "WEBP", quality=70)
    image("l.webp", rgb, "WEBP", lossless=True)
    image("anim.webp", frames[0], "WEBP", save_all=True, append_images=frames[1:], duration=90)
    image("a.gif", rgb.convert("P", palette=Image.Palette.ADAPTIVE), "GIF")
    pal = [f.convert("P", palette=Image.Palette.ADAPTIVE) for f in frames]
    image("anim.gif", pal[0], "GIF", save_all=True, append_images=pal[1:], duration=70)
    image("a.bmp", rgb, "BMP")
    image("a.tiff", rgb, "TIFF", compression="tiff_lzw")
    image("i16.tiff", Image.new("I;16", (24, 16), 300), "TIFF")
    p = root / "a.wav"
    write_wav(p, 0.3, rate=8000, channels=1)
    paths["a.wav"] = p
    if mp3 := first_encoder("libmp3lame", "mp3"):
        p = root / "a.mp3"
        encode_audio(p, "mp3", mp3, 0.3, rate=22050)
        paths["a.mp3"] = p
    p = root / "a.flac"
    encode_audio(p, "flac", "flac", 0.3, rate=22050)
    paths["a.flac"] = p
    if vorbis := first_encoder("libvorbis", "vorbis"):
        p = root / "a.ogg"
        encode_audio(p, "ogg", vorbis, 0.3, rate=22050, strict="experimental")
        paths["a.ogg"] = p
    p = root / "a.m4a"
    encode_audio(p, "ipod", "aac", 0.3, rate=22050)
    paths["a.m4a"] = p
    if h264 := first_encoder("libx264", "h264"):
        for name, fmt in (("a.mp4", "mp4"), ("a.mov", "mov")):
            p = root / name
            encode_video(p, fmt, h264, "aac", size=(48, 32), seconds=0.4, preset="ultrafast")
            paths[name] = p
    if vp9 := first_encoder("libvpx-vp9", "libvpx"):
        p = root / "a.webm"
        encode_video(
            p,
            "webm",
            vp9,
            None,
            size=(48, 32),
            seconds=0.4,
            deadline="realtime",
            **{"cpu-used": "8"},
        )
        paths["a.webm"] = p
    return {name: path.read_bytes() for name, path in sorted(paths.items())}


def mutate(rng: random.Random, data: bytes, other: bytes) -> tuple[bytes, str]:
    """One to three mutations; most land in the first KiB, where the headers are."""
    buf = bytearray(data)
    done: list[str] = []
    for _ in range(rng.choice((1, 1, 2, 3))):
        if not buf:
            buf += bytes(rng.randrange(256) for _ in range(16))
        n = len(buf)
        head = min(n, 1024)
        at = rng.randrange(head) if rng.random() < 0.7 else rng.randrange(n)
        op = rng.randrange(9)
        if op == 0:  # bit flips
            for _ in range(rng.randint(1, 8)):
                i = rng.randrange(head)
                buf[i] ^= 1 << rng.randrange(8)
            done.append("flip")
        elif op == 1:
            buf[at] = rng.choice(INTERESTING_8)
            done.append("byte")
        elif op == 2 and n >= 2:
            at = min(at, n - 2)
            struct.pack_into(rng.choice("<>") + "H", buf, at, rng.choice(INTERESTING_16))
            done.append("u16")
        elif op == 3 and n >= 4:
            at = min(at, n - 4)
            struct.pack_into(rng.choice("<>") + "I", buf, at, rng.choice(INTERESTING_32))
            done.append("u32")
        elif op == 4:  # truncate
            del buf[rng.randrange(1, n + 1) :]
            done.append("cut")
        elif op == 5:  # delete a slice
            end = min(n, at + rng.randint(1, 256))
            del buf[at:end]
            done.append("delete")
        elif op == 6:  # duplicate a slice (repeated chunks, boxes, frames)
            end = min(n, at + rng.randint(1, 512))
            buf[at:at] = buf[at:end] * rng.randint(1, 4)
            done.append("repeat")
        elif op == 7:  # splice with another format
            cut = rng.randrange(1, n + 1)
            buf = buf[:cut] + other[rng.randrange(len(other)) :]
            done.append("splice")
        else:  # junk
            junk = bytes(rng.randrange(256) for _ in range(rng.randint(1, 64)))
            buf[at:at] = junk
            done.append("junk")
    return bytes(buf), "+".join(done)


def peak_rss_mb() -> int:
    """VmHWM of this process (ru_maxrss would include a parent's peak after exec)."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM")) // 1024


class _Tracebacks(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(logging.Formatter().formatException(record.exc_info)[-1500:])


def run(count: int, seed: int, work: Path) -> dict[str, object]:
    from studio.clock import CountingIds
    from studio.core.actor import Actor
    from studio.core.imports import NO_MEMORY, UNEXPECTED, import_files
    from studio.core.studio import Studio
    from studio.providers_setup import build_providers

    seeds = make_seeds(work / "seeds")
    names = list(seeds)
    rng = random.Random(seed)
    catcher = _Tracebacks()
    log = logging.getLogger("studio.core.imports")
    log.addHandler(catcher)
    log.setLevel(logging.DEBUG)
    imported = refused = 0
    unexpected: list[dict[str, str]] = []
    bad_reasons: list[str] = []
    bomb_warnings = 0
    per_format: dict[str, int] = {}
    started = time.monotonic()
    slowest = (0.0, "")
    owner = Actor.local_owner()
    with Studio(work / "home", ids=CountingIds("f"), providers=build_providers) as studio:
        entry = studio.create_space("Fuzz")
        with studio.open_space(entry.slug) as space:
            for start in range(0, count, BATCH):
                batch: list[Path] = []
                what: dict[Path, str] = {}
                for i in range(start, min(count, start + BATCH)):
                    name = names[i % len(names)]
                    other = seeds[rng.choice(names)]
                    data, how = mutate(rng, seeds[name], other)
                    p = work / "in" / f"{i:05d}-{name}"
                    p.parent.mkdir(exist_ok=True)
                    p.write_bytes(data)
                    batch.append(p)
                    what[p] = how
                    per_format[name] = per_format.get(name, 0) + 1
                t0 = time.monotonic()
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    report = import_files(space, batch, owner)
                took = time.monotonic() - t0
                if took > slowest[0]:
                    slowest = (took, batch[0].name)
                bomb_warnings += sum("DecompressionBomb" in type(w.message).__name__ for w in seen)
                imported += len(report.imported)
                refused += len(report.refused)
                for r in report.refused:
                    if "\n" in r.line() or not r.reason or not r.reason[0].islower():
                        bad_reasons.append(r.reason)
                    if r.reason.startswith(UNEXPECTED) or r.reason == NO_MEMORY:
                        unexpected.append(
                            {"file": r.path.name, "mutation": what[r.path], "reason": r.reason}
                        )
                for p in batch:
                    p.unlink()
    log.removeHandler(catcher)
    return {
        "count": count,
        "seed": seed,
        "formats": per_format,
        "imported": imported,
        "refused": refused,
        "unexpected": unexpected,
        "bad_reasons": bad_reasons[:5],
        "tracebacks": catcher.records[:5],
        "bomb_warnings": bomb_warnings,
        "seconds": round(time.monotonic() - started, 1),
        "slowest_batch_s": round(slowest[0], 2),
        "peak_rss_mb": peak_rss_mb(),
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--count", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=9)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="studio-fuzz-") as tmp:
        result = run(args.count, args.seed, Path(tmp))
    print(json.dumps(result))


if __name__ == "__main__":
    sys.exit(main())
