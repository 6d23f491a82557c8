"""`studio apply` with an array (one step), `studio undo` / `studio redo`. The array's
apply and its refusal run in real subprocesses (argv, stdout, stderr and the exit code
across the process boundary); the rest of the round trip runs `main` in this process,
the same code without an interpreter start per command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from studio.cli.main import main
from studio.core.studio import Studio
from studio.providers_setup import build_providers

ROOT = Path(__file__).resolve().parents[2]


def _run(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    return subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
    )


def _json(home: Path, *args: str) -> Any:
    proc = _run(home, *args, "--json")
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _main(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> tuple[int, str, str]:
    """The CLI in this process: exit code, stdout, stderr."""
    capsys.readouterr()
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def _main_json(capsys: pytest.CaptureFixture[str], home: Path, *args: str) -> Any:
    code, out, err = _main(capsys, home, *args, "--json")
    assert code == 0, err
    return json.loads(out)


def _log(capsys: pytest.CaptureFixture[str], home: Path) -> list[dict[str, Any]]:
    code, out, err = _main(capsys, home, "log", "s", "--json")
    assert code == 0, err
    return [json.loads(line) for line in out.splitlines()]


def _names(home: Path) -> list[str]:
    """Read in this process (quicker than another subprocess)."""
    with Studio(home, providers=build_providers) as studio, studio.open_space("s") as space:
        return sorted(a.name for a in space.snapshot().assets)


def _steps(home: Path) -> list[str | None]:
    with Studio(home, providers=build_providers) as studio, studio.open_space("s") as space:
        return [ch.step_id for ch in space.changes()]


def test_apply_array_is_one_step_and_undo_redo_round_trip(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    assert main(["--home", str(home), "space", "create", "S"]) == 0  # in-process: quicker
    step = [
        {"command": "asset:create", "name": "A", "media_kind": "image", "asset_id": "a1"},
        {"command": "asset:create", "name": "B", "media_kind": "image", "parent_asset_id": "a1"},
        {"command": "frame:create", "title": "F", "x": 0, "y": 0, "width": 9, "height": 9},
    ]
    out = _json(home, "apply", "s", json.dumps(step))
    assert out["seqs"] == [1, 2, 3]
    log = _log(capsys, home)
    assert [row["seq"] for row in log] == [1, 2, 3]
    assert {row["step"] for row in log} == {out["step"]}  # one unit in the log

    # a failing command in the array leaves the space unchanged
    bad = [
        {"command": "asset:update", "asset_id": "a1", "name": "Renamed"},
        {"command": "asset:delete", "asset_id": "missing"},
        {"command": "asset:create", "name": "C", "media_kind": "image"},
    ]
    proc = _run(home, "apply", "s", json.dumps(bad))
    assert proc.returncode == 1
    assert proc.stderr == "studio: there is no asset missing\n"
    assert _names(home) == ["A", "B"] and len(_steps(home)) == 3

    undone = _main_json(capsys, home, "undo", "s")
    assert undone["action"] == "undo" and len(undone["seqs"]) == 3
    assert _names(home) == []
    assert len(set(_steps(home))) == 2
    redone = _main_json(capsys, home, "redo", "s")
    assert redone["action"] == "redo"
    assert _names(home) == ["A", "B"]
    code, out, _ = _main(capsys, home, "undo", "s")
    assert code == 0 and out.startswith("undid your last step")
    assert _names(home) == []

    # nothing more to undo: one clear line, exit 1, nothing written
    before = len(_steps(home))
    code, out, err = _main(capsys, home, "undo", "s")
    assert code == 1 and out == ""
    assert err.startswith("studio: there is nothing to undo for ")
    assert err.count("\n") == 1
    assert len(_steps(home)) == before


def test_apply_refuses_an_empty_array_and_redo_says_when_there_is_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    assert main(["--home", home, "space", "create", "S"]) == 0
    capsys.readouterr()
    assert main(["--home", home, "apply", "s", "[]"]) == 1
    err = capsys.readouterr().err
    assert err == "studio: COMMAND_JSON is an empty array: give at least one command\n"
    assert main(["--home", home, "redo", "s", "--json"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("studio: there is nothing to redo for ")


def test_the_text_log_marks_the_later_commands_of_a_step(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(tmp_path / "home")
    assert main(["--home", home, "space", "create", "S"]) == 0
    one = {"command": "asset:create", "name": "A", "media_kind": "image"}
    assert main(["--home", home, "apply", "s", json.dumps(one)]) == 0
    assert main(["--home", home, "apply", "s", json.dumps([one, one])]) == 0
    capsys.readouterr()
    assert main(["--home", home, "log", "s"]) == 0
    rows = [line.split()[4:6] for line in capsys.readouterr().out.splitlines()]
    assert rows == [["asset:create", "asset:created"]] * 2 + [["+", "asset:create"]]
