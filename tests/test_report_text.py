"""A test whose output holds a lone surrogate still reports under xdist."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.report_text import safe_text

ROOT = Path(__file__).resolve().parents[1]


def test_safe_text_escapes_only_what_utf8_cannot_carry() -> None:
    data = {"longrepr": ("bad \udcff.png", 3, ["fine ✓", "\ud800"]), "ok": "plain"}
    assert safe_text(data) == {
        "longrepr": ("bad \\udcff.png", 3, ["fine ✓", "\\ud800"]),
        "ok": "plain",
    }


def test_a_failing_test_with_a_surrogate_in_its_output_reports_under_xdist(
    tmp_path: Path,
) -> None:
    (tmp_path / "test_hostile.py").write_text(
        "def test_hostile_name():\n"
        "    name = 'photo\\udcff.png'\n"
        "    print(name)\n"
        "    assert name == 'photo.png'\n"
    )
    # only the plugins this needs: the run's own (Qt, hypothesis) add seconds per worker
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    args = ["-q", "-p", "xdist", "-n", "1", "-p", "tests.report_text", "-p", "no:cacheprovider"]
    args += ["-c", os.devnull, "--rootdir", str(tmp_path), str(tmp_path / "test_hostile.py")]
    done = subprocess.run(
        [sys.executable, "-m", "pytest", *args],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=120,
    )
    # without the hook execnet refuses the report: INTERNALERROR, exit code 3
    assert "INTERNALERROR" not in done.stdout + done.stderr
    assert done.returncode == 1, done.stdout + done.stderr
    assert "1 failed" in done.stdout
    assert "photo\\udcff.png" in done.stdout
