"""Qt stays in studio/ui: nothing else imports it, and everything else runs without it."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
QT_MODULES = ("PySide6", "shiboken6", "qasync", "PyQt5", "PyQt6")


def _headless_files() -> list[Path]:
    files = [*ROOT.joinpath("studio").rglob("*.py"), *ROOT.joinpath("workers").rglob("*.py")]
    ui = ROOT / "studio" / "ui"
    return [f for f in files if not f.is_relative_to(ui)]


def test_no_qt_import_outside_ui() -> None:
    offenders = []
    files = _headless_files()
    assert len(files) > 10
    for path in files:
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            offenders += [
                f"{path.relative_to(ROOT)}: {n}" for n in names if n.split(".")[0] in QT_MODULES
            ]
    assert offenders == []


BLOCKER = """
import importlib.abc, sys
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name.split('.')[0] in {blocked!r}:
            raise ImportError('Qt is blocked in headless code: ' + name)
sys.meta_path.insert(0, Block())
import pkgutil, importlib, studio, workers
for pkg in (studio, workers):
    for info in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):
        if info.name.startswith('studio.ui') or info.name.endswith('__main__'):
            continue
        importlib.import_module(info.name)
from studio.cli.main import main
sys.exit(main(['--home', sys.argv[1], 'space', 'list']))
"""


def test_headless_packages_import_and_run_with_qt_blocked(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", BLOCKER.format(blocked=set(QT_MODULES)), str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr


def test_cli_help_is_fast_and_imports_no_heavy_modules() -> None:
    code = (
        "import sys; from studio.cli.main import _parser; _parser().format_help(); "
        "heavy = [m for m in ('PIL', 'av', 'numpy', 'PySide6', 'sqlite3') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == ""
