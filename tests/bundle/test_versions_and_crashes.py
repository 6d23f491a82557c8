"""``studio --version``, the About text, crash reports (redacted, pruned, the user told
where) and the rotating log — in the default run."""

from __future__ import annotations

import logging
import logging.handlers
import platform
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

import studio
from studio import crash
from tests.bundle.helpers import ROOT, source_env

CANARY = "canaryKEY-7f3c9a1e5b2d4068"


def test_version_flag_prints_the_app_qt_and_python_versions(tmp_path: Path) -> None:
    import PySide6
    from PySide6.QtCore import qVersion

    done = subprocess.run(
        [sys.executable, "-m", "studio", "--version"],
        env=source_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == (
        f"Forge Studio {studio.__version__} (Python {platform.python_version()}, "
        f"PySide6 {PySide6.__version__}, Qt {qVersion()})"
    )
    assert not (tmp_path / "logs").exists()


def test_the_version_is_written_in_one_place() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "version" not in project["project"]
    assert project["project"]["dynamic"] == ["version"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "studio.__version__"}


CRASHING_COMMAND = r"""
import os, sys
from studio.cli import main as m

def boom(args):
    raise RuntimeError("broken while holding " + os.environ["GEMINI_API_KEY"])

m._COMMANDS["space"] = boom
sys.exit(m.main(sys.argv[1:]))
"""


def test_a_cli_crash_writes_a_report_without_keys_and_says_where(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_COMMAND, "--home", str(home), "space", "list"],
        env=source_env(GEMINI_API_KEY=CANARY),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    (report,) = (home / "logs").glob("crash-*.txt")
    assert done.stderr == (
        f"studio: unexpected error (RuntimeError); a crash report was written to {report}\n"
    )
    text = report.read_text()
    assert "Where: studio space" in text
    assert f"Forge Studio: {studio.__version__}" in text
    assert f"Python: {platform.python_version()}" in text
    assert "Traceback (most recent call last)" in text
    assert "RuntimeError: broken while holding [redacted]" in text
    assert CANARY not in text and CANARY[:12] not in text
    assert report.stat().st_mode & 0o077 == 0


def _raise_and_report(home: Path, n: int) -> Path:
    try:
        raise ValueError(f"number {n}")
    except ValueError as exc:
        path = crash.write_report(home, ValueError, exc, exc.__traceback__, "test")
    assert path is not None
    return path


def test_old_reports_are_pruned(tmp_path: Path) -> None:
    paths = [_raise_and_report(tmp_path, n) for n in range(crash.KEEP_REPORTS + 5)]
    left = sorted((tmp_path / "logs").glob("crash-*.txt"))
    assert len(left) == crash.KEEP_REPORTS
    assert set(left) == set(paths[5:])


@pytest.fixture
def file_log(tmp_path: Path) -> Iterator[Path]:
    root = logging.getLogger()
    before = list(root.handlers)
    level = root.level
    path = crash.log_to_file(tmp_path)
    assert path is not None
    yield path
    for h in root.handlers[:]:
        if h not in before:
            root.removeHandler(h)
            h.close()
    root.setLevel(level)


def test_the_log_file_rotates(file_log: Path) -> None:
    assert crash.log_to_file(file_log.parents[1]) == file_log  # once per file
    handlers = [h for h in logging.getLogger().handlers if isinstance(h, logging.FileHandler)]
    assert [Path(h.baseFilename) for h in handlers].count(file_log) == 1
    log = logging.getLogger("studio.test_rotation")
    log.setLevel(logging.INFO)
    line = "x" * 1000
    for i in range(3 * crash.LOG_BYTES // 1000):
        log.info("%d %s", i, line)
    rotated = sorted(p.name for p in file_log.parent.glob("studio.log*"))
    assert rotated == ["studio.log", *(f"studio.log.{n}" for n in range(1, crash.LOG_BACKUPS + 1))]
    assert file_log.stat().st_size <= crash.LOG_BYTES


def test_the_about_text_has_the_versions_and_the_data_folder(qtbot) -> None:  # type: ignore[no-untyped-def]
    import PySide6
    from PySide6.QtCore import qVersion

    from studio.ui.help_dialog import about_text

    text = about_text("/data/forge")
    assert text.startswith(f"Forge Studio {studio.__version__}\n")
    assert f"Qt {qVersion()}" in text
    assert f"PySide6 {PySide6.__version__}" in text
    assert f"Python {platform.python_version()}" in text
    assert "Data folder: /data/forge" in text
    assert "Logs and crash reports: /data/forge/logs" in text


@pytest.fixture
def hooks() -> Iterator[None]:
    saved = sys.excepthook, threading.excepthook
    root = logging.getLogger()
    before = list(root.handlers)
    yield
    sys.excepthook, threading.excepthook = saved
    for h in root.handlers[:]:
        if h not in before:
            root.removeHandler(h)
            h.close()


def test_an_error_in_a_slot_writes_a_report_and_one_box_says_where(
    tmp_path: Path, qtbot, hooks: None, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtCore import QObject, Signal
    from PySide6.QtWidgets import QApplication, QMessageBox

    from studio.ui.app_guard import install_crash_reports

    monkeypatch.setenv("ELEVENLABS_API_KEY", CANARY)
    log_file = install_crash_reports(tmp_path)
    assert log_file == tmp_path / "logs" / "studio.log"

    class Emitter(QObject):
        fired = Signal()

    def slot() -> None:
        raise KeyError(f"lost {CANARY}")

    emitter = Emitter()
    emitter.fired.connect(slot)
    emitter.fired.emit()  # PySide6 hands the slot's exception to sys.excepthook
    emitter.fired.emit()
    reports = sorted((tmp_path / "logs").glob("crash-*.txt"))
    assert len(reports) == 2
    assert all(CANARY not in r.read_text() for r in reports)
    assert "KeyError" in reports[0].read_text()
    boxes = [
        w
        for w in QApplication.topLevelWidgets()
        if isinstance(w, QMessageBox) and w.objectName() == "crashBox" and w.isVisible()
    ]
    assert len(boxes) == 1  # the second error did not stack another box
    assert str(reports[0]) in boxes[0].text()
    assert CANARY not in boxes[0].text()
    logged = log_file.read_text()
    assert f"a crash report was written to {reports[0]}" in logged
    assert CANARY not in logged
    boxes[0].close()


CRASHING_APP_START = r"""
import sys
import studio.ui.app as app
from studio.cli import main as m

def broken(home=None, target=None):
    raise OSError("the display went away")

app.run = broken
sys.exit(m.main(sys.argv[1:]))
"""


def test_a_crash_while_the_app_starts_is_reported_too(tmp_path: Path) -> None:
    home = tmp_path / "home"
    done = subprocess.run(
        [sys.executable, "-c", CRASHING_APP_START, "--home", str(home)],
        env=source_env(),
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    (report,) = (home / "logs").glob("crash-*.txt")
    assert (
        done.stderr
        == f"studio: unexpected error (OSError); a crash report was written to {report}\n"
    )
    assert "Where: studio (the app)" in report.read_text()
    assert "OSError: the display went away" in report.read_text()
