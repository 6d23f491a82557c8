"""Switching spaces reads no whole table or folder on the UI thread: the status bar's
asset count comes from the canvas's rows, the spaces list is relabelled
without counting every space file, and interrupted imports and leftover files are
looked for by the snapshot job, off the UI thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from studio.core import imports, leftovers
from studio.core.reads import Reads
from studio.ui import space_jobs, spaces_panel
from studio.ui.main_window import MainWindow
from tests.conftest import add_variant


def test_a_switch_leaves_whole_table_reads_to_other_threads(
    window: MainWindow, qtbot, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    first = window.studio.create_space("First")
    second = window.studio.create_space("Second")
    space = window.studio.open_space(second.id)
    for name in ("Hero", "Sword", "Shield"):
        add_variant(space, name=name)
    space.close()
    window.open_space(first.id)
    qtbot.waitUntil(lambda: not window.scene.is_loading(), timeout=5_000)

    where: dict[str, set[int]] = {}

    def spy(name: str, real: Callable[..., Any]) -> Callable[..., Any]:
        def call(*args: Any, **kwargs: Any) -> Any:
            where.setdefault(name, set()).add(threading.get_ident())
            return real(*args, **kwargs)

        return call

    monkeypatch.setattr(Reads, "asset_count", spy("asset_count", Reads.asset_count))
    monkeypatch.setattr(
        spaces_panel, "asset_counts", spy("asset_counts", spaces_panel.asset_counts)
    )
    monkeypatch.setattr(
        space_jobs,
        "recover_interrupted",
        spy("recover", imports.recover_interrupted),
        raising=False,
    )
    monkeypatch.setattr(
        space_jobs,
        "sweep_leftovers_at_open",
        spy("sweep", leftovers.sweep_leftovers_at_open),
        raising=False,
    )
    window.open_space(second.id)
    qtbot.waitUntil(
        lambda: len(window.scene.cards()) == 3 and not window.scene.is_loading(), timeout=5_000
    )
    window.status_control.update_status()
    ui = threading.get_ident()
    assert ui not in where.get("asset_count", set())
    assert ui not in where.get("asset_counts", set())
    assert where.get("recover") and ui not in where["recover"]
    assert where.get("sweep") and ui not in where["sweep"]
    label = next(
        window.spaces.list.item(i).text()
        for i in range(window.spaces.list.count())
        if window.spaces.list.item(i).data(spaces_panel.ID_ROLE) == second.id
    )
    assert "3 assets" in label  # from the canvas's rows
