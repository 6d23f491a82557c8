"""The command line starts light: ``--help`` and ``space list`` import none of the heavy
packages (Qt, provider SDKs, Pillow, PyAV, numpy, the keyring) and not the core; the
quick index read agrees with the library's own."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core.studio import Studio
from studio.store.schema import LIBRARY_APPLICATION_ID as SCHEMA_APPLICATION_ID
from studio.store.schema import LIBRARY_MIGRATIONS

ROOT = Path(__file__).resolve().parents[2]
HEAVY = (
    "PySide6",
    "google.genai",
    "anthropic",
    "elevenlabs",
    "PIL",
    "av",
    "numpy",
    "keyring",
    "asyncio",
    "studio.core.studio",
    "studio.core.space",
    "studio.media",
)

PROBE = """
import json, runpy, sys
sys.argv = ["studio", *sys.argv[1:]]
try:
    runpy.run_module("studio", run_name="__main__")
except SystemExit as exc:
    code = exc.code
print(json.dumps({"code": code, "modules": sorted(sys.modules)}), file=sys.stderr)
"""


def _loaded(*args: str) -> tuple[int, set[str], str]:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["code"], set(report["modules"]), proc.stdout


@pytest.mark.parametrize(
    ("args", "shows"),
    [
        (("--help",), "COMMAND"),
        (("space", "list"), "Sketches"),
        (("space", "list", "--json"), '"sketches"'),
    ],
    ids=str,
)
def test_start_up_imports_nothing_heavy(tmp_path: Path, args: tuple[str, ...], shows: str) -> None:
    home = tmp_path / "home"
    with Studio(home) as s:
        s.create_space("Sketches")
    code, modules, out = _loaded("--home", str(home), *args)
    assert code in (0, None)  # --help exits 0, a command returns 0
    assert shows in out
    loaded = sorted(m for m in HEAVY if m in modules or any(k.startswith(m + ".") for k in modules))
    assert loaded == []


def test_the_quick_index_read_matches_the_library(tmp_path: Path) -> None:
    from studio.store.index import LIBRARY_APPLICATION_ID, LIBRARY_VERSION, read_spaces

    assert (
        len(LIBRARY_MIGRATIONS),
        SCHEMA_APPLICATION_ID,
    ) == (LIBRARY_VERSION, LIBRARY_APPLICATION_ID)
    home = tmp_path / "home"
    assert read_spaces(home / "library.db") is None  # no library yet: the full path makes it
    with Studio(home) as s:
        for name in ("B", "A", "C"):
            s.create_space(name)
        s.open_space("a").close()  # opened last: listed first
        expected = [tuple(e) for e in s.spaces()]
    assert read_spaces(home / "library.db") == expected


PROVIDERS = ("keyring", "workers.registry", "studio.providers_setup", "google.genai", "anthropic")


def test_import_builds_no_provider_catalog(tmp_path: Path) -> None:
    """An import generates nothing: its process never loads the keyring or the provider
    registry (building the catalog cost ~0.2 s of the importer's main process)."""
    from PIL import Image

    home = tmp_path / "home"
    with Studio(home) as s:
        s.create_space("Sketches")
    pic = tmp_path / "red.png"
    Image.new("RGB", (40, 30), (200, 10, 10)).save(pic)
    code, modules, out = _loaded("--home", str(home), "import", "sketches", str(pic))
    assert code in (0, None)
    assert "red.png: asset " in out
    loaded = sorted(
        m for m in PROVIDERS if m in modules or any(k.startswith(m + ".") for k in modules)
    )
    assert loaded == []
    with Studio(home) as s, s.open_space("sketches") as space:
        rows = space.read.asset_summaries()
    assert [(a.asset.name, a.active_status) for a in rows] == [("red", "completed")]


EARLY_PROBE = """
import json, runpy, sys
import studio.media.pool as pool
seen = []
real = pool.start_early
def early(paths, requested=None):
    seen.append(sorted(m for m in sys.modules if m.startswith("studio.core.")))
    return real(paths, requested)
pool.start_early = early
sys.argv = ["studio", *sys.argv[1:]]
try:
    runpy.run_module("studio", run_name="__main__")
except SystemExit:
    pass
print(json.dumps(seen), file=sys.stderr)
"""


def test_import_starts_the_fork_server_before_the_door_loads(tmp_path: Path) -> None:
    """The fork server's imports (~0.2 s) run beside this process's own (the door's
    modules, ~0.15 s) and the space's opening, not after them."""
    from PIL import Image

    home = tmp_path / "home"
    with Studio(home) as s:
        s.create_space("Sketches")
    pics = []
    for i in range(4):  # enough for a pool
        pics.append(tmp_path / f"p{i}.png")
        Image.new("RGB", (40, 30), (200, 10, 10 * i)).save(pics[-1])
    proc = subprocess.run(
        [sys.executable, "-c", EARLY_PROBE, "--home", str(home), "import", "sketches"]
        + [str(p) for p in pics],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=60,
    )
    assert proc.stdout.count(": asset ") == 4, proc.stderr[-2000:]
    (loaded,) = json.loads(proc.stderr.strip().splitlines()[-1])
    door = {"studio.core.imports", "studio.core.space", "studio.core.studio"}
    assert sorted(door & set(loaded)) == []
