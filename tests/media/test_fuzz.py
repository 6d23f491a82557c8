"""Mutation fuzzing of the import pipeline: no traceback, bounded memory.

The default (CI) set runs a short, meaningful variant; the full run (a few thousand
mutated files of every accepted format, fixed seed) is marked ``slow``:

    pytest -m slow tests/media/test_fuzz.py -s     # prints its figures
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SEED = 9


def fuzz(count: int, seed: int = SEED, timeout: float = 900) -> dict[str, object]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.run(
        [sys.executable, "-m", "tests.media.fuzzing", "--count", str(count), "--seed", str(seed)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    result: dict[str, object] = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"\nfuzz: {json.dumps({k: v for k, v in result.items() if k != 'formats'})}")
    return result


def check(result: dict[str, object], count: int, max_rss_mb: int) -> None:
    assert result["imported"] + result["refused"] == count  # type: ignore[operator]
    assert result["unexpected"] == [], (result["unexpected"], result["tracebacks"])
    assert result["bomb_warnings"] == 0
    assert result["bad_reasons"] == []  # one readable sentence each
    formats = result["formats"]
    assert isinstance(formats, dict) and len(formats) >= 14  # every accepted format
    assert result["imported"] and result["refused"]  # mutations both survive and break
    assert result["peak_rss_mb"] < max_rss_mb  # type: ignore[operator]


def test_sixty_mutated_files_import_or_are_refused_cleanly() -> None:
    result = fuzz(60)
    check(result, 60, max_rss_mb=400)


def slow_selected(config: pytest.Config) -> bool:
    """Slow tests run when asked for (``-m slow``, or STUDIO_SLOW=1), never by default."""
    expr = str(config.getoption("markexpr") or "")
    return os.environ.get("STUDIO_SLOW") == "1" or ("slow" in expr and "not slow" not in expr)


@pytest.mark.slow
def test_thousands_of_mutated_files_import_or_are_refused_cleanly(
    request: pytest.FixtureRequest,
) -> None:
    if not slow_selected(request.config):
        pytest.skip("slow: run with -m slow")
    result = fuzz(3000, timeout=1800)
    check(result, 3000, max_rss_mb=600)
