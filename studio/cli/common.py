"""Shared bits of the command line."""

from __future__ import annotations

import argparse
import json
import math
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

TYPE_CHECKING = False  # typing is not imported at run time: `studio` starts faster
if TYPE_CHECKING:
    from typing import Any, NoReturn

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


class UserError(Exception):
    """A one-line problem to report with exit code 1."""


class Parser(argparse.ArgumentParser):
    """argparse, with usage errors as one line (exit 2) instead of a usage block.

    ``wanted``: the words on the command line. A sub-command none of them names is
    only listed (its name and help, for ``--help`` and "invalid choice"): its parser,
    the costly part of building the whole tree, is never made. None builds all."""

    wanted: frozenset[str] | None = None

    def error(self, message: str) -> NoReturn:
        from studio.core.limits import shown

        self.exit(EXIT_USAGE, f"{self.prog}: error: {shown(message, 300)} (see --help)\n")

    def add_subparsers(self, **kwargs: Any) -> Any:
        action = super().add_subparsers(**kwargs)
        return action if self.wanted is None else _ListedSubparsers(action, self.wanted)


class _ListedSubparsers:
    """A sub-commands action that builds only the wanted sub-commands' parsers."""

    def __init__(self, action: Any, wanted: frozenset[str]) -> None:
        self._action = action
        self._wanted = wanted

    def add_parser(self, name: str, **kwargs: Any) -> Any:
        if name in self._wanted:
            parser = self._action.add_parser(name, **kwargs)
            parser.wanted = self._wanted
            return parser
        if "help" in kwargs:  # listed as argparse lists it, without a parser
            pseudo = self._action._ChoicesPseudoAction(name, (), kwargs["help"])
            self._action._choices_actions.append(pseudo)
        self._action._name_parser_map[name] = None  # a choice; never parsed (not wanted)
        return _Unbuilt()


class _Unbuilt:
    """Stands for a parser that is not built: takes every call and does nothing."""

    def __getattr__(self, name: str) -> Any:
        return lambda *args, **kwargs: _Unbuilt()


def safe_streams() -> None:
    """Never die printing user text: characters the terminal can't show (or lone
    surrogates from undecodable argv bytes) are written as escapes."""
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="backslashreplace")
            except (ValueError, OSError):  # pragma: no cover - a closed or odd stream
                pass


def check_text_args(args: argparse.Namespace) -> None:
    """Every text argument must be real text (no undecodable bytes, no NUL) of bounded
    length; file paths are ``Path`` objects and stay as they are."""
    from studio.core.limits import MAX_JSON_BYTES, check_text

    for name, value in vars(args).items():
        what = f"the {name.replace('_', ' ')} argument"
        if isinstance(value, str):
            check_text(value, what, MAX_JSON_BYTES)
        elif isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    check_text(item, what, MAX_JSON_BYTES)


_WHOLE = re.compile(r"[+-]?[0-9]{1,20}")


def whole_number(lo: int, hi: int) -> Callable[[str], int]:
    """An argparse type: a whole number from ``lo`` to ``hi``."""

    def convert(text: str) -> int:
        t = text.strip().replace("_", "")
        if not _WHOLE.fullmatch(t):
            raise argparse.ArgumentTypeError(f"{_quote(text)} is not a whole number")
        value = int(t)
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value} is not between {lo} and {hi}")
        return value

    return convert


def number(lo: float, hi: float) -> Callable[[str], float]:
    """An argparse type: a finite number from ``lo`` to ``hi``."""

    def convert(text: str) -> float:
        try:
            value = float(text) if len(text) <= 40 else math.nan
        except ValueError:
            value = math.nan
        if not math.isfinite(value):
            raise argparse.ArgumentTypeError(f"{_quote(text)} is not a finite number")
        if not lo <= value <= hi:
            raise argparse.ArgumentTypeError(f"{value:g} is not between {lo:g} and {hi:g}")
        return value

    return convert


def _quote(text: str) -> str:
    from studio.core.limits import shown

    return repr(shown(text, 24))


def read_stdin(limit: int) -> str | bytes:
    """At most ``limit + 1`` bytes of stdin, undecoded (so invalid UTF-8 gets a clear
    error from the reader instead of a UnicodeDecodeError here)."""
    buffer = getattr(sys.stdin, "buffer", None)
    if buffer is not None:
        data: bytes = buffer.read(limit + 1)
        return data
    text: str = sys.stdin.read(limit + 1)  # a text stream handed in by a caller
    return text


def studio_from(args: argparse.Namespace) -> Any:
    from studio.core.studio import Studio
    from studio.providers_setup import build_providers

    return Studio(args.home, providers=build_providers)


@contextmanager
def library_from(args: argparse.Namespace) -> Iterator[Any]:
    """The library alone, opened as a :class:`Studio` opens it but without loading the
    core: for commands that only read the index of spaces (``space list``)."""
    from studio.clock import system_clock
    from studio.core.errors import StorageError
    from studio.paths import StudioPaths, default_home
    from studio.store.library import Library

    paths = StudioPaths(args.home if args.home is not None else default_home())
    try:
        paths.ensure()
    except OSError as exc:
        raise StorageError(f"could not open the studio folder {paths.home}: {exc}") from exc
    library = Library(paths.library_db, now_ms=system_clock())
    try:
        yield library
    finally:
        library.close()


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, default=str))


def table(rows: list[list[str]], header: list[str]) -> None:
    """Columns padded to their widest cell, written at once (a listing of 10,000 rows
    costs a few ms here, not a print per row)."""
    lines = [header, *rows]
    widths = [max(map(len, map(str, column))) for column in zip(*lines, strict=True)]
    sys.stdout.write(
        "".join(
            "  ".join([str(v).ljust(w) for v, w in zip(r, widths, strict=True)]).rstrip() + "\n"
            for r in lines
        )
    )


def when(ms: int | None) -> str:
    if not ms:
        return "-"
    import datetime

    return datetime.datetime.fromtimestamp(ms / 1000).strftime("%Y-%m-%d %H:%M")
