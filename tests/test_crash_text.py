"""A crash whose traceback holds a hostile file name (a lone surrogate from bytes that are
not UTF-8) is written so that the name can still be read: ``\\udcff``, not ``?``."""

from __future__ import annotations

import logging
from pathlib import Path

from studio import crash

HOSTILE = "photo\udcff\udc80.png"
ESCAPED = "photo\\udcff\\udc80.png"


def test_a_report_keeps_a_hostile_name_readable(tmp_path: Path) -> None:
    # the name shows up as a frame's file and in the exception's message
    code = compile(f"raise FileNotFoundError(2, 'gone', {HOSTILE!r})", HOSTILE, "exec")
    try:
        exec(code)
    except FileNotFoundError as exc:
        path = crash.write_report(tmp_path, type(exc), exc, exc.__traceback__, "test")
    assert path is not None
    text = path.read_bytes().decode("utf-8")
    assert f'File "{ESCAPED}", line 1' in text
    assert f"FileNotFoundError: [Errno 2] gone: '{ESCAPED}'" in text


def test_the_log_file_keeps_a_hostile_name_readable(tmp_path: Path) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    path = crash.log_to_file(tmp_path)
    assert path is not None
    try:
        logging.getLogger("studio.test_hostile").error("could not open %s", HOSTILE)
    finally:
        for h in root.handlers[:]:
            if h not in before:
                root.removeHandler(h)
                h.close()
    assert f"could not open {ESCAPED}" in path.read_bytes().decode("utf-8")
