"""Actions on every card of a big space: a select-all's delete or move is one step and
one undo (the door took at most 1,000 commands a step, an ``asset:move`` at most 10,000
positions: both were refused), and building the step is linear (the delete rebuilt the
chosen set for every card: a select-all of 50,000 cards never finished)."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from bench._util import fill_big_space
from studio.core import commands as c
from studio.core.commands import validate_command
from studio.core.limits import MAX_POSITIONS
from studio.core.space import Space
from studio.core.studio import Studio
from studio.ui.canvas.actions import CanvasActions
from tests.ui.test_canvas_kit import make_canvas

ASSETS = 3_000


class Recording:
    """A host that keeps the step it is asked to run."""

    def __init__(self) -> None:
        self.steps: list[tuple[list[c.Command], str]] = []

    def run(self, cmds: Sequence[c.Command], text: str) -> bool:
        self.steps.append((list(cmds), text))
        return True


def _stub_actions(n: int) -> tuple[CanvasActions, Recording, list[str]]:
    """CanvasActions over a scene of ``n`` top-level cards (no Qt scene: just rows)."""
    ids = [f"a{i:06d}" for i in range(n)]
    rows = {a: SimpleNamespace(id=a, name=a, parent_asset_id=None) for a in ids}
    scene: Any = SimpleNamespace(asset_row=rows.get, model=SimpleNamespace(frames={}, assets=rows))
    host = Recording()
    no_text = lambda *_a: None  # noqa: E731
    return CanvasActions(scene, host, no_text, lambda *_a: []), host, ids  # type: ignore[arg-type]


def test_deleting_fifty_thousand_chosen_cards_builds_its_step_at_once() -> None:
    actions, host, ids = _stub_actions(50_000)
    t0 = time.perf_counter()
    assert actions.delete(ids)
    took = time.perf_counter() - t0
    ((cmds, text),) = host.steps
    assert len(cmds) == 50_000 and text == "Delete 50000 assets"
    assert took < 5, f"{took:.1f} s to build the step"  # before: minutes (a set per card)


def test_moving_more_cards_than_one_command_holds_is_one_step_of_valid_commands() -> None:
    actions, host, ids = _stub_actions(25_000)
    assert actions.move({a: (float(i), 0.0) for i, a in enumerate(ids)})
    ((cmds, _text),) = host.steps
    assert [len(m.positions) for m in cmds if isinstance(m, c.MoveAssets)] == [
        MAX_POSITIONS,
        MAX_POSITIONS,
        25_000 - 2 * MAX_POSITIONS,
    ]
    for cmd in cmds:
        validate_command(cmd)  # before: one command of 25,000 positions, refused


@pytest.fixture
def big_space(tmp_path: Path) -> Iterator[Space]:
    studio = Studio(tmp_path / "home")
    entry = studio.create_space("Big")
    path, media = studio.paths.home / entry.file, studio.paths.space_media(entry.slug)
    studio.close()
    fill_big_space(path, media, ASSETS, per_asset=1, make_files=False)
    with Studio(tmp_path / "home") as s, s.open_space(entry.slug) as space:
        yield space


def _live(space: Space) -> int:
    return len(space.snapshot().assets)


def test_a_select_all_delete_of_thousands_of_cards_is_one_step_and_one_undo(
    big_space: Space, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """...and the door's work for it runs off the UI thread (it froze the window for
    13 s at 50,000 cards; its undo for 23 s) while a local event loop keeps painting."""
    threads: list[str] = []
    for name in ("apply_step", "undo", "redo"):
        real = getattr(big_space, name)

        def spy(*a: Any, _real: Any = real, **k: Any) -> Any:
            threads.append(threading.current_thread().name)
            return _real(*a, **k)

        monkeypatch.setattr(big_space, name, spy)
    cv = make_canvas(big_space, qtbot)
    ids = [a.id for a in big_space.snapshot().assets]
    assert len(ids) == ASSETS
    cv.scene.select(ids)
    told: list[list[str]] = []
    cv.scene.selection_changed.connect(told.append)
    assert cv.view.canvas_actions.delete(ids), cv.host.errors
    assert cv.host.errors == []
    assert cv.host.stack.count() == 1
    assert _live(big_space) == 0
    qtbot.waitUntil(lambda: cv.scene.selected_ids() == [] and told[-1:] == [[]], timeout=10_000)
    # once a turn of the event loop at most, not once per card (each time the whole
    # choice: quadratic, minutes at 50,000)
    assert len(told) < 100, len(told)
    cv.host.stack.undo()
    assert cv.host.errors == []
    assert _live(big_space) == ASSETS
    cv.host.stack.redo()
    assert _live(big_space) == 0
    assert threads == ["long-work"] * 3  # delete, undo, redo


def test_a_small_step_stays_on_the_ui_thread(big_space: Space, qtbot: Any) -> None:
    cv = make_canvas(big_space, qtbot)
    ids = [a.id for a in big_space.snapshot().assets][:10]
    seen: list[str] = []
    real = big_space.apply_step
    big_space.apply_step = lambda *a, **k: (  # type: ignore[method-assign]
        seen.append(threading.current_thread().name) or real(*a, **k)
    )
    assert cv.view.canvas_actions.delete(ids)
    assert seen == [threading.main_thread().name]


def test_the_window_reloads_its_canvas_for_a_huge_step_instead_of_following_it_card_by_card(
    tmp_path: Path, qtbot: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A select-all's delete (and its undo) in the real window: the canvas reads a
    fresh snapshot and builds its cards as an opening does; following the step's events
    a card at a time, with the overview repainted between, took over a minute at 50,000
    cards. The other panels follow the events as usual."""
    from studio.providers_setup import build_providers
    from studio.ui.canvas.scene_sync import SceneSync
    from studio.ui.main_window import MainWindow
    from tests.conftest import OWNER

    studio = Studio(tmp_path / "home")
    entry = studio.create_space("Big")
    path, media = studio.paths.home / entry.file, studio.paths.space_media(entry.slug)
    studio.close()
    fill_big_space(path, media, ASSETS, per_asset=1, make_files=False)
    removed: list[str] = []
    real_remove = SceneSync._remove_card
    monkeypatch.setattr(
        SceneSync, "_remove_card", lambda self, aid: removed.append(aid) or real_remove(self, aid)
    )
    with Studio(tmp_path / "home", providers=build_providers) as s:
        w = MainWindow(s, OWNER)
        qtbot.addWidget(w)
        w.resize(1000, 700)
        w.show()
        try:
            w.open_space(entry.id)
            qtbot.waitUntil(lambda: w.space_control._held is None, timeout=30_000)
            assert w.scene.wait_loaded()
            assert len(w.scene.card_map()) == ASSETS
            ids = list(w.scene.card_map())
            w.scene.select(ids)
            assert w.view.canvas_actions.delete(ids), w.undo_stack.count()
            qtbot.waitUntil(lambda: not w.scene.card_map() and w.space_control._held is None)
            assert len(removed) < 100  # not one by one: a fresh load
            assert w.scene.selected_ids() == []
            w.undo_stack.undo()
            qtbot.waitUntil(
                lambda: len(w.scene.card_map()) == ASSETS and not w.scene.is_loading(),
                timeout=30_000,
            )
            assert w.space is not None and len(w.space.snapshot().assets) == ASSETS
        finally:
            w.close()
