"""What storing results needs is imported before the queue runs, and only that: a
``generate --wait`` process never has Pillow import every format plugin it knows
(the first WebP thumbnail did, on a job thread, while the loop claimed the next job)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from studio.core.studio import Studio

ROOT = Path(__file__).resolve().parents[2]

RUN = """
import sys
from studio.cli.main import main
code = main(sys.argv[1:])
print("all-plugins" if "PIL.XVThumbImagePlugin" in sys.modules else "needed-plugins")
sys.exit(code)
"""


def test_a_waiting_cli_stores_pictures_without_importing_every_pillow_plugin(
    tmp_path: Path,
) -> None:
    home = tmp_path / "home"
    with Studio(home) as s:
        s.create_space("P")
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    args = ["--home", str(home), "generate", "p", "three red circles", "--provider", "local"]
    done = subprocess.run(
        [sys.executable, "-c", RUN, *args, "--size", "512", "--count", "2", "--wait"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.strip().splitlines()
    assert sum("completed" in line for line in lines) == 2, done.stdout
    assert lines[-1] == "needed-plugins"
