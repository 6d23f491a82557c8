"""The collections panel: create, rename, delete, add (selection, card menu, a card
dragged from the canvas), reorder, open as a view of the canvas — each one undoable
step — and it follows changes another process makes."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QModelIndex, QPoint, QPointF, Qt
from PySide6.QtGui import QAction, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QMenu

from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui import spaces_panel
from studio.ui.canvas import menus
from studio.ui.collections.panel import EMPTY_TEXT
from studio.ui.main_window import MainWindow
from studio.ui.mime import ASSETS_MIME
from tests.conftest import OWNER, add_variant

ROOT = Path(__file__).resolve().parents[2]


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
    w.resize(1300, 850)
    w.show()
    monkeypatch.setattr(spaces_panel, "ask_text", lambda *a, **k: "Board")
    w.spaces.create_space()
    w.space_control.show_panels()  # (the panels take a new space on the next turn)
    yield w
    w.close()
    studio.close()


def _cards(window: MainWindow, qtbot, names: tuple[str, ...]) -> list[str]:  # type: ignore[no-untyped-def]
    space = window.space
    assert space is not None
    ids = [add_variant(space, name=n, payload=_png("red")).asset_id for n in names]
    qtbot.waitUntil(lambda: len(window.scene.cards()) == len(names), timeout=10_000)
    return ids


def _labels(window: MainWindow) -> list[str]:
    lst = window.collections.list
    return [lst.item(i).text() for i in range(lst.count())]


def _items(window: MainWindow) -> list[str]:
    items = window.collections.items
    return [items.item(i).text() for i in range(items.count())]


def _action(window: MainWindow, name: str) -> QAction:
    found = [a for a in window.findChildren(QAction) if a.objectName() == name]
    assert len(found) == 1, name
    return found[0]


def test_create_rename_delete_each_one_undoable_step(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.collections
    assert window.collections_dock.isVisible()
    assert panel.empty.isVisible() and panel.empty.text() == EMPTY_TEXT
    assert "Ctrl+Shift+C" in EMPTY_TEXT
    a, b, _c = _cards(window, qtbot, ("Knight", "Horse", "Tree"))
    space = window.space
    assert space is not None
    window.scene.select([a, b])
    panel.ask_text = lambda *_a: "Cast"
    before = window.undo_stack.count()
    _action(window, "newCollection").trigger()  # Edit ▸ New collection from selection
    assert window.undo_stack.count() == before + 1  # made and filled: one step
    (col,) = space.collections()
    assert col.name == "Cast"
    assert _labels(window) == ["Cast  (2)"] and not panel.empty.isVisible()
    assert panel.list.current_id() == col.id
    assert _items(window) == ["Knight", "Horse"]

    panel.ask_text = lambda *_a: "Main cast"
    assert panel.rename_current()
    assert space.collections()[0].name == "Main cast" and _labels(window) == ["Main cast  (2)"]
    assert panel.delete_current()
    assert space.collections() == [] and _labels(window) == [] and panel.empty.isVisible()
    assert window.undo_stack.count() == before + 3

    window.undo_stack.undo()  # the delete
    qtbot.waitUntil(lambda: _labels(window) == ["Main cast  (2)"], timeout=5_000)
    window.undo_stack.undo()  # the rename
    qtbot.waitUntil(lambda: _labels(window) == ["Cast  (2)"], timeout=5_000)
    window.undo_stack.undo()  # the creation
    qtbot.waitUntil(lambda: _labels(window) == [], timeout=5_000)
    assert space.collections() == []


def test_add_from_the_selection_and_the_card_menu(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.collections
    a, b, c_ = _cards(window, qtbot, ("Knight", "Horse", "Tree"))
    space = window.space
    assert space is not None
    window.scene.select([a])
    panel.ask_text = lambda *_a: "Cast"
    assert panel.new_collection()
    (col,) = space.collections()
    window.scene.select([b, c_])
    before = window.undo_stack.count()
    assert panel.add_selection()
    assert window.undo_stack.count() == before + 1
    assert _labels(window) == ["Cast  (3)"]
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: _labels(window) == ["Cast  (1)"], timeout=5_000)

    # the card menu: Add to collection ▸ Cast, for the whole selection
    card = window.scene.card(b)
    assert card is not None
    menu = menus.card_menu(window.view, card)
    (sub,) = [m for m in menu.findChildren(QMenu) if m.objectName() == "collectionMenu"]
    (entry,) = [x for x in sub.actions() if x.objectName() == f"collection:{col.id}"]
    assert entry.text() == "Cast"
    entry.trigger()
    assert sorted(i.asset_id or "" for i in space.collection_items(col.id)) == sorted([a, b, c_])
    qtbot.waitUntil(lambda: _labels(window) == ["Cast  (3)"], timeout=5_000)


def _drop_at(window: MainWindow, row: int, mime) -> None:  # type: ignore[no-untyped-def]
    lst = window.collections.list
    at = lst.visualItemRect(lst.item(row)).center() if row >= 0 else QPoint(20, lst.height() - 5)
    pos = QPointF(at)
    copy = Qt.DropAction.CopyAction
    enter = QDragEnterEvent(
        at, copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    lst.dragEnterEvent(enter)
    assert enter.isAccepted()
    move = QDragMoveEvent(at, copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    lst.dragMoveEvent(move)
    assert move.isAccepted()
    drop = QDropEvent(pos, copy, mime, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier)
    lst.dropEvent(drop)
    assert drop.isAccepted()


def test_a_card_dragged_onto_a_collection_joins_it(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.collections
    a, b = _cards(window, qtbot, ("Knight", "Horse"))
    space = window.space
    assert space is not None
    window.scene.select([a])
    panel.ask_text = lambda *_a: "Cast"
    assert panel.new_collection()
    panel.ask_text = lambda *_a: "Props"
    window.scene.select([])
    assert panel.new_collection()
    cast, props = space.collections()
    # what the canvas puts on its drag when cards leave the view (see canvas/drag.py)
    mime = window.view.canvas_actions.external_mime([b])
    assert mime is not None and mime.hasFormat(ASSETS_MIME)
    before = window.undo_stack.count()
    _drop_at(window, 0, mime)  # onto "Cast"
    assert [i.asset_id for i in space.collection_items(cast.id)] == [a, b]
    assert space.collection_items(props.id) == []
    assert window.undo_stack.count() == before + 1
    assert _labels(window) == ["Cast  (2)", "Props  (0)"]
    window.undo_stack.undo()
    assert [i.asset_id for i in space.collection_items(cast.id)] == [a]

    # a drag from another space's window is not taken
    mime.setData(ASSETS_MIME, json.dumps({"space_id": "other", "asset_ids": [b]}).encode())
    lst = panel.list
    at = lst.visualItemRect(lst.item(1)).center()
    enter = QDragEnterEvent(
        at,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    lst.dragEnterEvent(enter)
    assert not enter.isAccepted()


def test_drag_to_reorder_is_one_undoable_step(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.collections
    ids = _cards(window, qtbot, ("One", "Two", "Three"))
    space = window.space
    assert space is not None
    window.scene.select(ids)
    panel.ask_text = lambda *_a: "Order"
    assert panel.new_collection()
    (col,) = space.collections()
    assert _items(window) == ["One", "Two", "Three"]
    before = window.undo_stack.count()
    # what an internal drag-and-drop in the list does: a row moves in its model
    model = panel.items.model()
    assert model.moveRow(QModelIndex(), 0, QModelIndex(), 3)
    assert [i.asset_id for i in space.collection_items(col.id)] == [ids[1], ids[2], ids[0]]
    assert window.undo_stack.count() == before + 1
    qtbot.waitUntil(lambda: _items(window) == ["Two", "Three", "One"], timeout=5_000)
    window.undo_stack.undo()
    assert [i.asset_id for i in space.collection_items(col.id)] == ids
    qtbot.waitUntil(lambda: _items(window) == ["One", "Two", "Three"], timeout=5_000)


def test_open_as_a_view_shows_only_its_cards_under_a_banner(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.collections
    a, b, c_ = _cards(window, qtbot, ("Knight", "Horse", "Tree"))
    space = window.space
    assert space is not None
    window.scene.select([a, b])
    panel.ask_text = lambda *_a: "Cast"
    assert panel.new_collection()
    banner = window.collection_banner
    assert not banner.isVisible()

    def shown() -> set[str]:
        return {card.asset.id for card in window.scene.cards() if card.isVisible()}

    assert shown() == {a, b, c_}
    assert panel.open_current()
    assert shown() == {a, b}
    assert banner.isVisible() and banner.label.text() == "Collection: Cast — 2 assets"
    rect = window.scene.content_rect()  # Fit all fits the collection's cards only
    tree = window.scene.card(c_)
    assert tree is not None and not rect.intersects(tree.sceneBoundingRect())

    # the view follows the collection: a card added shows, a removed one hides
    window.scene.select([c_])  # (hidden cards are not selectable: select by id)
    assert panel.add_cards(panel.list.current_id() or "", [c_])
    qtbot.waitUntil(lambda: shown() == {a, b, c_}, timeout=5_000)
    assert banner.label.text() == "Collection: Cast — 3 assets"
    window.undo_stack.undo()
    qtbot.waitUntil(lambda: shown() == {a, b}, timeout=5_000)

    banner.button.click()  # Show all
    assert shown() == {a, b, c_} and not banner.isVisible()

    # deleting the open collection shows everything again; its undo does not reopen it
    assert panel.open_current()
    assert panel.delete_current()
    assert shown() == {a, b, c_} and not banner.isVisible()


def test_follows_another_process_adding_to_a_collection(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    panel = window.collections
    a, b = _cards(window, qtbot, ("Knight", "Horse"))
    space = window.space
    assert space is not None
    window.scene.select([a])
    panel.ask_text = lambda *_a: "Cast"
    assert panel.new_collection()
    (col,) = space.collections()
    entry = window.studio.resolve(space.id)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = {"command": "collection:item-add", "collection_id": col.id, "asset_id": b}
    cli = [sys.executable, "-m", "studio", "--home", str(window.studio.paths.home)]
    proc = subprocess.run(
        [*cli, "apply", entry.slug, json.dumps(command)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    qtbot.waitUntil(lambda: _labels(window) == ["Cast  (2)"], timeout=5_000)
    assert _items(window) == ["Knight", "Horse"]


def test_view_menu_toggles_the_panel_with_a_shortcut(window: MainWindow) -> None:
    toggle = _action(window, "toggleCollections")
    assert toggle.shortcut().toString() == "Ctrl+Shift+L"
    toggle.trigger()
    assert not window.collections_dock.isVisible()
    toggle.trigger()
    assert window.collections_dock.isVisible()


def test_export_a_collection_through_the_one_export_path(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from studio.ui import file_jobs

    panel = window.collections
    a, b, _c = _cards(window, qtbot, ("Knight", "Horse", "Tree"))
    window.scene.select([a, b])
    panel.ask_text = lambda *_a: "Cast"
    assert panel.new_collection()
    out = tmp_path / "cast"
    asked: list[Path] = []
    window.view.bulk.ask_folder = lambda _t, start: (asked.append(start), out)[1]
    panel.buttons["Export"].click()
    qtbot.waitUntil(lambda: not file_jobs._RUNNING, timeout=20_000)
    assert asked == [window.studio.paths.exports_dir]
    assert sorted(p.name.split("-")[0] for p in out.iterdir()) == ["horse", "knight"]
    assert window.statusBar().currentMessage() == f"Exported 2 files to {out}"


def test_your_new_card_outside_the_open_collection_shows_everything(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    from studio.core import commands as c

    panel = window.collections
    a, _b = _cards(window, qtbot, ("Knight", "Horse"))
    window.scene.select([a])
    panel.ask_text = lambda *_a: "Cast"
    assert panel.new_collection()
    assert panel.open_current() and window.scene.scope == frozenset([a])
    assert window.run([c.CreateAsset("Newcomer", c.MediaKindName.IMAGE)], "New asset")
    assert window.scene.scope is None and not window.collection_banner.isVisible()


def test_a_card_without_a_file_can_be_dragged_to_the_panel(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    from studio.core import commands as c
    from tests.ui.test_canvas_kit import drag

    space = window.space
    assert space is not None
    qtbot.waitExposed(window)
    panel = window.collections
    panel.ask_text = lambda *_a: "Cast"
    assert panel.new_collection()
    made = space.apply(c.CreateAsset("Sketch", c.MediaKindName.IMAGE), OWNER)
    aid = made.created["asset_id"]  # a card with no file yet: nothing for other apps
    qtbot.waitUntil(lambda: window.scene.card(aid) is not None, timeout=5_000)
    card = window.scene.card(aid)
    assert card is not None
    window.view.focus_rect(card.sceneBoundingRect())
    assert window.view.canvas_actions.external_paths([aid]) == []
    started: list[list[str]] = []
    window.view.start_external_drag = lambda ids: started.append(ids) or True  # type: ignore[method-assign]
    start = window.view.mapFromScene(card.sceneBoundingRect().center())
    lst = panel.list
    target = lst.viewport().mapToGlobal(lst.visualItemRect(lst.item(0)).center())
    end = window.view.viewport().mapFromGlobal(target)
    drag(window.view, start, end)
    assert started == [[aid]]  # the drag went out to the panel, carrying the card
    row = space.asset(aid)
    assert (row.x, row.y) == (card.px, card.py)  # the card itself did not move

    # past the canvas edge where nothing takes drops, such a card just moves
    started.clear()
    outside = window.view.viewport().mapFromGlobal(window.mapToGlobal(QPoint(-200, -200)))
    drag(window.view, start, outside)
    assert started == []
