"""The window reports an import file by file (the files are prepared in parallel)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()
    studio.close()


def test_the_status_bar_counts_the_files_of_an_import(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    entry = window.studio.create_space("Board")
    window.open_space(entry.id)
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)
    paths = []
    for i in range(5):
        p = tmp_path / f"pic{i}.png"
        Image.new("RGB", (96, 64), (40 * i, 90, 200)).save(p)
        paths.append(p)
    messages: list[str] = []
    window.statusBar().messageChanged.connect(messages.append)
    window.import_control.import_paths(paths, (0.0, 0.0))
    space = window.space
    assert space is not None
    qtbot.waitUntil(lambda: "Imported 5 files" in messages, timeout=30_000)
    steps = [m for m in messages if m.startswith("Importing ") and " of " in m]
    assert steps == [f"Importing {n} of 5 files…" for n in range(2, 6)]
    assert len(space.snapshot().assets) == 5
