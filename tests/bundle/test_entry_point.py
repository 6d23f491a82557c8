"""Both entry points (the bundle's ``packaging/launch.py`` and ``python -m studio``) call
``multiprocessing.freeze_support()`` before anything of the app is imported: in the
bundle the import pool's fork server and workers are the bundled program re-run with
multiprocessing's arguments, and PyInstaller's runtime hook diverts them there."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.bundle.helpers import ROOT

PROBE = """
import json, multiprocessing, runpy, sys

def freeze_support():
    loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("studio", "workers"))
    print("FREEZE " + json.dumps(loaded), flush=True)
    raise SystemExit(0)  # what a helper process does here: run its code, then exit

multiprocessing.freeze_support = freeze_support
sys.frozen = True  # as in the bundle (python -m studio skips it otherwise: off the start path)
sys.argv = ["studio", "--version"]
how, target = {argv!r}
if how == "path":
    runpy.run_path(target, run_name="__main__")
else:
    runpy.run_module(target, run_name="__main__", alter_sys=True)
print("NO FREEZE", flush=True)
"""


@pytest.mark.parametrize(
    ("entry", "before"),
    [
        (("path", str(ROOT / "packaging" / "launch.py")), []),
        (("module", "studio"), ["studio"]),  # -m imports the package (its version) first
    ],
)
def test_the_entry_point_calls_freeze_support_before_the_app_loads(
    entry: tuple[str, str], before: list[str]
) -> None:
    done = subprocess.run(
        [sys.executable, "-c", PROBE.format(argv=entry)],
        env={**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = done.stdout.splitlines()
    assert lines and lines[0].startswith("FREEZE "), done.stdout[-2000:]
    assert json.loads(lines[0].removeprefix("FREEZE ")) == before  # no more of the app
