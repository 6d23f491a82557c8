"""Bulk actions on a multi-selection (Edit ▸ Selected assets and the card menu): each is
one undoable step, and the status bar says what was done."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMenu

from studio.core import commands as c
from studio.core.imports import import_files
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui import file_jobs, spaces_panel
from studio.ui.bulk_actions import NEW_COLLECTION
from studio.ui.canvas import menus
from studio.ui.main_window import MainWindow
from studio.ui.widgets import TYPES
from tests.conftest import OWNER, add_variant


def _png(colour: str) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), colour).save(buf, "PNG")
    return buf.getvalue()


@pytest.fixture
def window(
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[MainWindow]:
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    monkeypatch.setattr(spaces_panel, "ask_text", lambda *a, **k: "Board")
    w.spaces.create_space()
    yield w
    w.close()
    studio.close()


def _three(window: MainWindow, qtbot) -> list[str]:  # type: ignore[no-untyped-def]
    space = window.space
    assert space is not None
    ids = [add_variant(space, name=n, payload=_png(n)).asset_id for n in ("red", "green", "blue")]
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 3, timeout=10_000)
    window.scene.select(ids)
    assert sorted(window.scene.selected_ids()) == sorted(ids)
    return ids


def _edit_entry(window: MainWindow, name: str) -> QAction:
    (sub,) = [m for m in window.menuBar().findChildren(QMenu) if m.objectName() == "bulkEditMenu"]
    (action,) = [a for a in sub.actions() if a.objectName() == name]
    return action


def _card_entry(window: MainWindow, aid: str, name: str) -> QAction:
    card = window.scene.card(aid)
    assert card is not None
    menu = menus.card_menu(window.view, card)
    (sub,) = [m for m in menu.findChildren(QMenu) if m.objectName() == "bulkMenu"]
    (action,) = [a for a in sub.actions() if a.objectName() == name]
    return action


def _status(window: MainWindow) -> str:
    return window.statusBar().currentMessage()


def test_tag_and_untag_are_one_step_each(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = _three(window, qtbot)
    space = window.space
    assert space is not None
    window.run([c.UpdateAsset(ids[0], tags=("red",))], "Tag one")
    before = window.undo_stack.count()
    window.view.bulk.ask_text = lambda *_a: "red, hero ,  "
    _edit_entry(window, "bulkAddTags").trigger()
    assert [space.asset(a).tags for a in ids] == [
        ("red", "hero"),
        ("red", "hero"),
        ("red", "hero"),
    ]
    assert window.undo_stack.count() == before + 1
    assert _status(window) == "Tagged 3 assets"

    qtbot.waitUntil(lambda: all("hero" in window.scene.asset_row(a).tags for a in ids))  # type: ignore[union-attr]
    offered: list[list[str]] = []

    def pick(_t: str, _l: str, choices: list[str], _cur: str) -> str:
        offered.append(choices)
        return "red"

    window.view.bulk.ask_choice = pick
    _card_entry(window, ids[1], "bulkRemoveTag").trigger()
    assert offered == [["hero", "red"]]
    assert [space.asset(a).tags for a in ids] == [("hero",), ("hero",), ("hero",)]
    assert _status(window) == "Untagged 3 assets"
    assert window.undo_stack.count() == before + 2

    window.undo_stack.undo()
    window.undo_stack.undo()
    assert [space.asset(a).tags for a in ids] == [("red",), (), ()]


def test_change_type_offers_the_details_list_and_is_one_step(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = _three(window, qtbot)
    space = window.space
    assert space is not None
    offered: list[list[str]] = []

    def pick(_t: str, _l: str, choices: list[str], _cur: str) -> str:
        offered.append(choices)
        return "prop"

    window.view.bulk.ask_choice = pick
    before = window.undo_stack.count()
    _edit_entry(window, "bulkSetType").trigger()
    assert offered == [list(TYPES)]
    assert {space.asset(a).type for a in ids} == {"prop"}
    assert window.undo_stack.count() == before + 1
    assert _status(window) == "Set type “prop” on 3 assets"
    window.undo_stack.undo()
    assert {space.asset(a).type for a in ids} == {""}


def test_star_and_rate_the_active_variants_from_the_card_menu(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = _three(window, qtbot)
    space = window.space
    assert space is not None

    def active(aid: str) -> tuple[int, str | None]:
        (v,) = space.variants_of(aid)
        return v.starred, v.rating

    before = window.undo_stack.count()
    _card_entry(window, ids[0], "bulkStar").trigger()
    assert [active(a)[0] for a in ids] == [1, 1, 1]
    assert _status(window) == "Starred 3 assets"
    qtbot.waitUntil(
        lambda: all(window.scene.card(a).facts.active.starred for a in ids)  # type: ignore[union-attr]
    )
    _card_entry(window, ids[2], "bulkApprove").trigger()
    assert [active(a)[1] for a in ids] == ["approved"] * 3
    assert _status(window) == "Approved 3 assets"
    assert window.undo_stack.count() == before + 2
    window.undo_stack.undo()
    assert [active(a)[1] for a in ids] != ["approved"] * 3
    assert {active(a)[1] or "none" for a in ids} == {"none"}
    window.undo_stack.undo()
    assert [active(a)[0] for a in ids] == [0, 0, 0]


def test_delete_is_one_step(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = _three(window, qtbot)
    before = window.undo_stack.count()
    _edit_entry(window, "bulkDelete").trigger()
    qtbot.waitUntil(lambda: not window.scene.cards(), timeout=5_000)
    assert _status(window) == "Deleted 3 assets"
    assert window.undo_stack.count() == before + 1
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 3, timeout=5_000)
    assert sorted(card.asset.id for card in window.scene.cards()) == sorted(ids)


def test_add_to_a_new_then_an_existing_collection(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    ids = _three(window, qtbot)
    space = window.space
    assert space is not None
    bulk = window.view.bulk
    bulk.ask_choice = lambda _t, _l, choices, _c: NEW_COLLECTION
    bulk.ask_text = lambda *_a: "Palette"
    before = window.undo_stack.count()
    window.scene.select(ids[:2])
    _edit_entry(window, "bulkAddToCollection").trigger()
    (col,) = space.collections()
    assert col.name == "Palette"
    assert sorted(i.asset_id or "" for i in space.collection_items(col.id)) == sorted(ids[:2])
    assert window.undo_stack.count() == before + 1  # created and filled in one step
    assert _status(window) == "Added 2 assets to “Palette”"

    offered: list[list[str]] = []

    def pick(_t: str, _l: str, choices: list[str], _cur: str) -> str:
        offered.append(choices)
        return "Palette"

    bulk.ask_choice = pick
    window.scene.select(ids)
    _edit_entry(window, "bulkAddToCollection").trigger()
    assert offered == [["Palette", NEW_COLLECTION]]
    assert sorted(i.asset_id or "" for i in space.collection_items(col.id)) == sorted(
        ids
    )  # only the new one added
    assert _status(window) == "Added 1 asset to “Palette”"

    window.undo_stack.undo()
    assert sorted(i.asset_id or "" for i in space.collection_items(col.id)) == sorted(ids[:2])
    window.undo_stack.undo()
    assert space.collections() == []


def _imported(window: MainWindow, qtbot, tmp_path: Path) -> list[str]:  # type: ignore[no-untyped-def]
    """Three real PNG imports (with a prompt each), selected."""
    space = window.space
    assert space is not None
    ids = []
    for n in ("red", "green", "blue"):
        path = tmp_path / f"{n}.png"
        info = PngImagePlugin.PngInfo()
        info.add_text("parameters", f"a {n} lamp\nSteps: 9, Seed: 5, Size: 32x24")
        Image.new("RGB", (32, 24), n).save(path, pnginfo=info)
        report = import_files(space, [path], OWNER)
        assert not report.refused, report.refused
        ids.append(report.imported[0].asset_id)
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 3, timeout=10_000)
    qtbot.waitUntil(
        lambda: all(
            (card := window.scene.card(a)) is not None
            and card.facts.active is not None
            and card.facts.active.status == "completed"
            for a in ids
        ),
        timeout=10_000,
    )
    window.scene.select(ids)
    return ids


def _wait_export(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    qtbot.waitUntil(lambda: not file_jobs._RUNNING, timeout=20_000)


def test_bulk_export_writes_provenance_off_the_ui_thread_to_the_remembered_folder(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ids = _imported(window, qtbot, tmp_path)
    out = tmp_path / "out"
    bulk = window.view.bulk
    asked: list[Path] = []

    def folder(_title: str, start: Path) -> Path:
        asked.append(start)
        return out

    bulk.ask_folder = folder
    threads: list[threading.Thread] = []
    real = getattr(file_jobs, "export_to_folder", None)

    def export(*args, **kwargs):  # type: ignore[no-untyped-def]
        threads.append(threading.current_thread())
        assert real is not None
        return real(*args, **kwargs)

    monkeypatch.setattr(file_jobs, "export_to_folder", export, raising=False)
    _edit_entry(window, "bulkExport").trigger()
    _wait_export(window, qtbot)
    assert asked == [window.studio.paths.exports_dir]  # the first export: the data folder's
    assert threads and threads[0] is not threading.main_thread()  # the UI never waited
    names = sorted(p.name for p in out.iterdir())
    assert len(names) == 3
    prompts = set()
    for name in names:
        with Image.open(out / name) as im:  # provenance embedded, not a bare copy
            prompts.add(json.loads(im.info["forge-studio:recipe"])["recipe"]["prompt"])
    assert prompts == {"a red lamp", "a green lamp", "a blue lamp"}
    assert _status(window) == f"Exported 3 files to {out}"

    # again, from the card menu: the same path, starting where the last export went,
    # never overwriting
    card = window.scene.card(ids[0])
    assert card is not None
    menu = menus.card_menu(window.view, card)
    next(a for a in menu.actions() if a.text() == "Export 3 files…").trigger()
    _wait_export(window, qtbot)
    assert asked[-1] == out
    assert len(list(out.iterdir())) == 6  # new names beside the old files
    assert len(threads) == 2


def test_export_leaves_out_cards_without_a_file_and_says_so(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    ids = _imported(window, qtbot, tmp_path)
    space = window.space
    assert space is not None
    empty = space.apply(c.CreateAsset("Nothing yet", c.MediaKindName("image")), OWNER)
    nothing = empty.created["asset_id"]
    qtbot.waitUntil(lambda: window.scene.card(nothing) is not None, timeout=10_000)
    out = tmp_path / "out"
    window.view.bulk.ask_folder = lambda _t, _s: out
    assert window.view.bulk.export([*ids, nothing])
    _wait_export(window, qtbot)
    assert len(list(out.iterdir())) == 3
    assert _status(window) == f"Exported 3 files to {out} (1 without a finished file left out)"
    window.view.bulk.export([nothing])
    assert _status(window) == "None of them has a finished file to export"


def test_nothing_selected_says_so(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _three(window, qtbot)
    window.scene.select([])
    before = window.undo_stack.count()
    _edit_entry(window, "bulkStar").trigger()
    assert _status(window) == "Select some cards first"
    assert window.undo_stack.count() == before
