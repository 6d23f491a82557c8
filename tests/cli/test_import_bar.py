"""`studio import` on a terminal shows one progress step per file."""

from __future__ import annotations

from pathlib import Path

import pytest

from studio.cli.main import _import_bar


def test_the_bar_moves_once_per_file_and_ends_its_line(capsys: pytest.CaptureFixture[str]) -> None:
    show = _import_bar()
    for done in range(1, 5):
        show(done, 4, Path(f"f{done}.png"))
    err = capsys.readouterr().err
    steps = err.split("\r")[1:]
    assert [s.rstrip("\n").split()[-1] for s in steps] == ["1/4", "2/4", "3/4", "4/4"]
    assert steps[1].startswith("importing [###############---------------]")
    assert err.endswith("4/4\n") and err.count("\n") == 1  # one line, ended at the last file
