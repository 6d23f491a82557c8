"""The benches' own honesty: what they compare is what they say they compare."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from bench import bench_import
from bench.bench_scheduler import verdict

FAKE_MAIN = """
import json, sys
from pathlib import Path
home = Path(sys.argv[sys.argv.index("--home") + 1])
home.mkdir(parents=True, exist_ok=True)
with open(home / "ran.jsonl", "a") as f:
    f.write(json.dumps({"tree": __file__, "args": sys.argv[1:]}) + "\\n")
"""


def test_the_today_run_runs_the_other_checkout(tmp_path: Path) -> None:
    """``--today TREE`` times TREE's CLI, not this checkout's: ``python -c`` and ``-m``
    put the working folder first on the path, so it must be TREE."""
    tree = tmp_path / "today"
    (tree / "studio").mkdir(parents=True)
    (tree / "studio" / "__init__.py").write_text("")
    (tree / "studio" / "__main__.py").write_text(FAKE_MAIN)
    home = tmp_path / "home"
    bench_import.run_cli(tree, home, [tmp_path / "a.jpg", tmp_path / "b.wav"])
    runs = [json.loads(line) for line in (home / "ran.jsonl").read_text().splitlines()]
    assert [r["args"][2:] for r in runs] == [
        ["space", "create", "bench"],
        ["import", "bench", str(tmp_path / "a.jpg"), str(tmp_path / "b.wav")],
    ]
    assert {Path(r["tree"]).resolve() for r in runs} == {(tree / "studio/__main__.py").resolve()}
    assert bench_import.Cpu.total >= bench_import.Cpu.own > 0


@pytest.mark.parametrize(
    ("rate", "base", "said"),
    [
        (38.0, 39.0, "ok"),  # 0.95 x C/L
        (30.0, 39.0, "MISSED"),  # the machine reaches C/L (the baseline does), ours not
        (20.0, 21.0, "NOT SHOWN"),  # nobody reaches C/L here; ours keeps up with raw
        (12.0, 21.0, "MISSED"),  # nobody reaches C/L, and ours is behind raw too
    ],
)
def test_the_scheduler_verdict_is_against_c_over_l_first(
    rate: float, base: float, said: str
) -> None:
    ideal, target = 40.0, 0.9  # C = 8, L = 200 ms
    assert verdict(rate, base, rate / base, ideal, target) == said


def test_the_cli_cpu_wrapper_reports_its_own_process(tmp_path: Path) -> None:
    out = tmp_path / "cpu.json"
    tree = tmp_path / "t"
    (tree / "studio").mkdir(parents=True)
    (tree / "studio" / "__init__.py").write_text("")
    (tree / "studio" / "__main__.py").write_text("sum(range(10**6))\n")
    took = bench_import._timed(
        [sys.executable, "-c", bench_import.CLI_CPU, str(out), "--home", "x"],
        bench_import._env(tree),
        out,
        cwd=tree,
    )
    assert took > 0 and json.loads(out.read_text())["self"] > 0
