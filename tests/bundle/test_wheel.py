"""``pipx install .`` / a built wheel: the wheel, installed into a throwaway venv, gives
a working ``studio`` that finds its resources (icons) inside the installed package, with
the checkout out of reach. pipx does exactly this (a venv of its own, ``pip install``);
the dependencies come from this test's environment through a path entry, so nothing is
downloaded. Marked ``bundle``: ``make bundle-test``."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import studio
from tests.bundle.helpers import ROOT, clean_env

pytestmark = pytest.mark.bundle

SKIP = (".venv", ".git", "build", "dist", "tests", "bench", "docs", "*.egg-info", "__pycache__")
SKIP += (".mypy_cache", ".ruff_cache", ".pytest_cache", ".hypothesis", "tmp")


def test_a_wheel_in_a_fresh_venv_runs_with_its_resources(tmp_path: Path) -> None:
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(*SKIP))
    built = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "-q",
            "-w",
            str(tmp_path / "w"),
            str(src),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "w").glob("forge_studio-*.whl")
    assert wheel.name.startswith(f"forge_studio-{studio.__version__}-")
    names = zipfile.ZipFile(wheel).namelist()
    for name in ("forge-studio.svg", "icons/play.svg", "icons/pause.svg", "icons/close.svg"):
        assert f"studio/resources/{name}" in names

    venv = tmp_path / "venv"
    subprocess.run(
        [sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120
    )
    py = venv / "bin" / "python"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "--python",
            str(py),
            "install",
            "-q",
            "--no-deps",
            str(wheel),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    site = Path(
        subprocess.run(
            [str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
            capture_output=True, text=True, check=True, timeout=60,
        ).stdout.strip()
    )  # fmt: skip
    # the dependencies (PySide6, PyAV…) from here; a plain path line runs no .pth hooks,
    # so this environment's editable install of the checkout stays out
    (site / "zz-deps.pth").write_text(sysconfig.get_path("purelib") + "\n")

    home = tmp_path / "home"
    env = clean_env(home)
    env["PATH"] = f"{venv / 'bin'}:{env['PATH']}"
    version = subprocess.run(
        ["studio", "--version"], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert version.returncode == 0, version.stderr
    assert version.stdout.startswith(f"Forge Studio {studio.__version__} (Python ")

    probe = (
        "import json, studio, studio.resources as r\n"
        "from studio.ui.icons import ICONS_DIR, icon\n"
        "from PySide6.QtWidgets import QApplication\n"
        "app = QApplication([])\n"
        "print(json.dumps({'package': studio.__file__, 'icon': str(r.app_icon_path()),\n"
        "  'icons': str(ICONS_DIR), 'play': not icon('play').isNull()}))\n"
    )
    out = subprocess.run(
        [str(py), "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120
    )
    assert out.returncode == 0, out.stderr
    found = json.loads(out.stdout.splitlines()[-1])
    for key in ("package", "icon", "icons"):
        assert Path(found[key]).is_relative_to(site), found
        assert not Path(found[key]).is_relative_to(ROOT)
    assert Path(found["icon"]).is_file() and found["play"] is True

    data = tmp_path / "data"
    made = subprocess.run(
        ["studio", "--home", str(data), "space", "create", "Sketches"],
        env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert (made.returncode, made.stdout) == (0, "sketches\n"), made.stderr
