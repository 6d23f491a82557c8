"""Crash reports and the app's log file.

An unhandled exception — a bug, never an error the user caused (those are one
``StudioError`` line) — writes a report to ``<data folder>/logs/``: when and where it
happened, the versions (:mod:`studio.appinfo`) and the traceback, with every key
removed (:func:`workers.redaction.redact`, plus the value of every environment variable
named like a key, token, secret or password, registered or not). The user is told in one
line (CLI) or a message box (app) where the report is. At most :data:`KEEP_REPORTS`
reports are kept, the oldest go first.

The desktop app also logs to ``logs/studio.log``, rotated at :data:`LOG_BYTES` with
:data:`LOG_BACKUPS` older files kept (:func:`log_to_file`).
"""

from __future__ import annotations

import itertools
import logging
import logging.handlers
import os
import re
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from studio.paths import StudioPaths, default_home

KEEP_REPORTS = 20
LOG_NAME = "studio.log"
LOG_BYTES = 1_000_000
LOG_BACKUPS = 3
REPORT_PREFIX = "crash-"
_SECRET_NAMES = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIAL", re.IGNORECASE)
_serial = itertools.count(1)

Tell = Callable[[Path | None, BaseException], None]
"""What the user is shown: (the report's path or None when none could be written, the
exception)."""


def logs_dir(home: Path | None) -> Path:
    """``<data folder>/logs`` (the default data folder when ``home`` is None); a folder
    in the temp dir when not even the data folder's name can be had."""
    try:
        return StudioPaths(home if home is not None else default_home()).logs_dir
    except Exception:
        return Path(tempfile.gettempdir()) / "forge-studio-logs"


def _env_secrets() -> list[str]:
    return [v for k, v in os.environ.items() if _SECRET_NAMES.search(k) and len(v.strip()) >= 8]


def report_text(
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    where: str,
) -> str:
    """The report: header, versions, traceback — redacted."""
    from studio.appinfo import versions
    from workers.redaction import redact

    try:
        found = versions()
    except Exception as problem:  # a report must not fail on its header
        found = {"versions": f"unknown ({type(problem).__name__})"}
    lines = [
        "Forge Studio crash report",
        f"When: {time.strftime('%Y-%m-%d %H:%M:%S %Z')}",
        f"Where: {where}",
        "",
        *(f"{name}: {value}" for name, value in found.items()),
        "",
        "".join(traceback.format_exception(exc_type, exc, tb)).rstrip("\n"),
        "",
    ]
    return redact("\n".join(lines), _env_secrets())


def write_report(
    home: Path | None,
    exc_type: type[BaseException],
    exc: BaseException,
    tb: TracebackType | None,
    where: str,
) -> Path | None:
    """Write a crash report; its path, or None when it could not be written (never
    raises: it runs when something already went wrong)."""
    try:
        text = report_text(exc_type, exc, tb, where)
        folder = logs_dir(home)
        folder.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%d-%H%M%S")
        path = folder / f"{REPORT_PREFIX}{stamp}-{os.getpid()}-{next(_serial)}.txt"
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        # a hostile file name (lone surrogates) stays readable as \udcff, not "?"
        with os.fdopen(fd, "w", encoding="utf-8", errors="backslashreplace") as f:
            f.write(text)
        _prune(folder)
        return path
    except Exception:
        return None


def _prune(folder: Path) -> None:
    reports = sorted(folder.glob(f"{REPORT_PREFIX}*.txt"), key=lambda p: p.stat().st_mtime_ns)
    for old in reports[:-KEEP_REPORTS]:
        old.unlink(missing_ok=True)


def told(path: Path | None, exc: BaseException) -> str:
    """The one sentence that tells the user what happened and where the report is."""
    what = type(exc).__name__
    if path is None:
        return f"unexpected error ({what}); no crash report could be written"
    return f"unexpected error ({what}); a crash report was written to {path}"


def report_cli(home: Path | None, exc: BaseException, command: str) -> int:
    """A command ended in an unhandled exception: report it, say where in one line on
    stderr; the exit code (1)."""
    path = write_report(home, type(exc), exc, exc.__traceback__, f"studio {command}")
    print(f"studio: {told(path, exc)}", file=sys.stderr)
    return 1


def install(home: Path | None, tell: Tell, where: str) -> None:
    """Report every unhandled exception from here on — the main thread's (Qt passes an
    exception escaping a slot to ``sys.excepthook``) and any other thread's — and
    :data:`Tell` the user. KeyboardInterrupt and SystemExit go on as before."""
    previous = sys.excepthook
    previous_thread = threading.excepthook

    def hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(exc_type, KeyboardInterrupt | SystemExit):
            previous(exc_type, exc, tb)
            return
        path = write_report(home, exc_type, exc, tb, where)
        logging.getLogger("studio").error("%s", told(path, exc))
        tell(path, exc)

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            previous_thread(args)
            return
        name = args.thread.name if args.thread is not None else "?"
        path = write_report(
            home, args.exc_type, args.exc_value, args.exc_traceback, f"{where}, thread {name}"
        )
        logging.getLogger("studio").error("%s", told(path, args.exc_value))
        tell(path, args.exc_value)

    sys.excepthook = hook
    threading.excepthook = thread_hook


def log_to_file(home: Path | None, level: int = logging.INFO) -> Path | None:
    """Send the root logger's records to ``logs/studio.log`` too, rotated; the file's
    path (None when the folder cannot be written). Idempotent per file."""
    path = logs_dir(home) / LOG_NAME
    root = logging.getLogger()
    for h in root.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # strict UTF-8 dropped a whole record that named a hostile file
        handler = logging.handlers.RotatingFileHandler(
            path,
            maxBytes=LOG_BYTES,
            backupCount=LOG_BACKUPS,
            encoding="utf-8",
            errors="backslashreplace",
        )
    except OSError:
        return None
    handler.setLevel(level)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    return path


__all__ = [
    "KEEP_REPORTS",
    "LOG_BACKUPS",
    "LOG_BYTES",
    "install",
    "log_to_file",
    "logs_dir",
    "report_cli",
    "report_text",
    "told",
    "write_report",
]
