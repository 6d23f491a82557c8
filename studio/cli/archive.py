"""CLI commands moving things in and out: ``space export``, ``space import``, ``convert``."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from studio.cli.common import EXIT_OK, print_json, studio_from, whole_number

TYPE_CHECKING = False  # typing is not imported at run time: `studio` starts faster
if TYPE_CHECKING:
    from typing import Any


def add_space_parsers(ss: Any) -> None:
    """``studio space export`` and ``studio space import`` (``ss``: the space actions)."""
    x = ss.add_parser("export", help="write a whole space to one .forgespace file")
    x.add_argument("space")
    x.add_argument(
        "file",
        nargs="?",
        type=Path,
        metavar="FILE",
        help="the archive to write, or a folder (default: exports/<slug>-<time>.forgespace)",
    )
    x.add_argument("--json", action="store_true")
    x = ss.add_parser("import", help="bring a .forgespace file in as a new space")
    x.add_argument("file", type=Path, metavar="FILE")
    x.add_argument("--name", help="name of the new space (default: the archived space's)")
    x.add_argument("--json", action="store_true")


def add_parsers(sub: Any) -> None:
    x = sub.add_parser(
        "export", help="copy variants out as files with their recipe and lineage embedded"
    )
    x.add_argument("space")
    x.add_argument("ids", nargs="+", metavar="ID", help="variant, asset or collection ids")
    x.add_argument("--out", type=Path, metavar="FOLDER", help="default: exports/<space>/")
    x.add_argument("--json", action="store_true")
    x = sub.add_parser("convert", help="write a variant's media in another format (exports/)")
    x.add_argument("space")
    x.add_argument("variant_id", metavar="VARIANT_ID")
    x.add_argument(
        "--to",
        required=True,
        choices=("png", "jpeg", "webp", "avif", "tiff", "wav", "mp3", "flac", "ogg", "mp4", "webm"),
    )
    x.add_argument("--quality", type=whole_number(1, 100), metavar="Q", help="1–100 (lossy)")
    x.add_argument(
        "--max-size", type=whole_number(1, 65_535), metavar="PX", help="longest image side"
    )
    x.add_argument("--out", type=Path, metavar="PATH", help="a file or a folder")
    x.add_argument("--json", action="store_true")


class ProgressBar:
    """A one-line bar on stderr when it is a terminal (silent otherwise), at most 10/s."""

    def __init__(self, what: str) -> None:
        self.what = what
        self.live = sys.stderr.isatty()
        self._last = 0.0
        self._started = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        frac = done / total if total else 1.0
        bar = "#" * int(frac * 30)
        rate = done / max(1e-6, now - self._started) / 2**20
        print(
            f"\r{self.what} [{bar:<30}] {frac:6.1%} {done / 2**20:,.0f}/{total / 2**20:,.0f} MiB "
            f"{rate:,.0f} MiB/s",
            end="",
            file=sys.stderr,
            flush=True,
        )

    def end(self) -> None:
        if self.live:
            print(file=sys.stderr)


class ConvertBar:
    """``converting [#####     ]  42% frame 105 of 250`` on ``stream`` (stderr) when it is
    a terminal, at most 10 lines a second; the text alone while the length is unknown."""

    def __init__(self, stream: Any = None, live: bool | None = None) -> None:
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty() if live is None else live
        self._last = 0.0
        self._width = 0

    def __call__(self, done: int, total: int, what: str) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if now - self._last < 0.1 and done < total:
            return
        self._last = now
        if total:
            frac = done / total
            line = f"converting [{'#' * int(frac * 30):<30}] {frac:5.0%} {what}"
        else:
            line = f"converting… {what}"
        pad = " " * max(0, self._width - len(line))  # clear what a longer line left
        self._width = len(line)
        print(f"\r{line}{pad}", end="", file=self.stream, flush=True)

    def end(self) -> None:
        if self.live and self._width:
            print(file=self.stream)


def space_export(studio: Any, args: argparse.Namespace) -> int:
    from studio.core.archive import export_space

    bar = ProgressBar("exporting")
    try:
        result = export_space(studio, args.space, args.file, progress=bar)
    finally:
        bar.end()
    m = result.manifest
    if args.json:
        print_json(
            {
                "file": str(result.path),
                "size_bytes": result.size_bytes,
                "format_version": m.format_version,
                "counts": dict(m.counts),
                "files": len(m.files),
            }
        )
    else:
        print(
            f"exported {args.space} to {result.path} ({result.size_bytes:,} bytes: "
            f"{m.counts['assets']} assets, {m.counts['variants']} variants, "
            f"{len(m.files)} files)"
        )
    return EXIT_OK


def space_import(studio: Any, args: argparse.Namespace) -> int:
    from studio.core.archive import import_space

    bar = ProgressBar("importing")
    try:
        result = import_space(studio, args.file, name=args.name, progress=bar)
    finally:
        bar.end()
    e = result.entry
    if args.json:
        print_json(dict(e._asdict(), counts=dict(result.manifest.counts)))
    else:
        print(e.slug)
    return EXIT_OK


SPACE_ACTIONS = {"export": space_export, "import": space_import}


def cmd_convert(args: argparse.Namespace) -> int:
    from studio.core.convert import ConvertOptions, convert_variant

    options = ConvertOptions(to=args.to, quality=args.quality, max_size=args.max_size)
    bar = ConvertBar()
    with studio_from(args) as studio, studio.open_space(args.space) as space:
        try:
            out = convert_variant(
                space,
                args.variant_id,
                options,
                out=args.out,
                exports=studio.paths.exports_dir,
                progress=bar,
            )
        finally:
            bar.end()
    if args.json:
        print_json({"file": str(out.path), "mime": out.mime, "size_bytes": out.size_bytes})
    else:
        print(out.path)
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from studio.core.exports import export_variants

    with studio_from(args) as studio, studio.open_space(args.space) as space:
        folder = args.out or studio.paths.exports_dir / space.slug
        done = export_variants(space, args.ids, folder)
    if args.json:
        print_json([{"variant_id": d.variant_id, "file": str(d.path), "how": d.how} for d in done])
    else:
        for d in done:
            note = {"c2pa-kept": " (C2PA kept: copied unchanged)", "copied": " (no tags)"}
            print(f"{d.path}{note.get(d.how, '')}")
    return EXIT_OK


COMMANDS = {"convert": cmd_convert, "export": cmd_export}
