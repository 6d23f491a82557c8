"""The main window driven through its real widgets (offscreen)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox

from studio.core import commands as c
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui import spaces_panel
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    yield w
    w.close()
    studio.close()


def _files(tmp_path: Path) -> list[Path]:
    a, b = tmp_path / "red.png", tmp_path / "blue.jpg"
    Image.new("RGB", (64, 48), "red").save(a)
    Image.new("RGB", (80, 80), "blue").save(b)
    broken = tmp_path / "broken.png"
    broken.write_text("this is not a picture")
    return [a, broken, b]


def _drop(window: MainWindow, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    centre = QPointF(window.view.viewport().rect().center())
    event = QDropEvent(
        centre,
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    window.view.dropEvent(event)


def _error_boxes(window: MainWindow) -> list[QMessageBox]:
    return [w for w in window.findChildren(QMessageBox, "errorMessage") if w.isVisible()]


def test_create_space_drop_files_and_undo(
    window: MainWindow,
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(spaces_panel, "ask_text", lambda *a, **k: "Art board")
    window.spaces.create_space()
    assert window.space is not None and window.windowTitle().startswith("Art board")
    assert window.spaces.list.count() == 1

    _drop(window, _files(tmp_path))
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 2, timeout=15_000)
    qtbot.waitUntil(lambda: bool(_error_boxes(window)), timeout=5_000)
    (box,) = _error_boxes(window)
    assert box.text().startswith("Not imported: ") and "broken.png: " in box.text()
    status = window.statusBar().currentMessage()
    assert status.startswith("Not imported: ") and "broken.png: " in status
    assert not box.isModal()
    names = sorted(card.asset.name for card in window.scene.cards())
    assert names == ["blue", "red"]
    qtbot.waitUntil(
        lambda: all(
            card.facts.active is not None and card.facts.active.status == "completed"
            for card in window.scene.cards()
        ),
        timeout=5_000,
    )

    window.undo_stack.undo()  # the import is one undo step
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 0, timeout=5_000)
    window.undo_stack.redo()
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 2, timeout=5_000)


def test_move_and_undo_through_the_menu(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space("Moves")
    window.open_space(entry.id)
    space = window.space
    assert space is not None
    aid = space.apply(c.CreateAsset("Card", c.MediaKindName.IMAGE), OWNER).created["asset_id"]
    qtbot.waitUntil(lambda: window.scene.card(aid) is not None)
    assert window.run([c.MoveAssets((c.Position(aid, 300, 200),))], "Move")
    qtbot.waitUntil(lambda: window.scene.card(aid).asset.x == 300)  # type: ignore[union-attr]
    undo = next(a for a in window.menuBar().actions()[1].menu().actions() if "Undo" in a.text())
    undo.trigger()
    assert (space.asset(aid).x, space.asset(aid).y) == (0, 0)
    qtbot.waitUntil(lambda: window.scene.card(aid).asset.x == 0)  # type: ignore[union-attr]
    assert window.run([c.DeleteAsset("nope")], "Bad") is False
    qtbot.waitUntil(lambda: bool(_error_boxes(window)))


def test_generate_shows_pending_then_completed(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space("Gen")
    window.open_space(entry.id)
    seen: list[str] = []
    assert window.run(
        [
            c.RequestGeneration(
                "a lighthouse at dusk",
                c.MediaKindName.IMAGE,
                options=c.GenerationOptions(size="512"),
            )
        ],
        "Generate",
    )
    card = window.scene.cards()[0] if window.scene.cards() else None
    qtbot.waitUntil(lambda: bool(window.scene.cards()), timeout=3_000)
    card = window.scene.cards()[0]

    def status() -> str:
        active = card.facts.active
        if active is not None:
            seen.append(active.status)
        return "" if active is None else active.status

    qtbot.waitUntil(lambda: status() == "completed", timeout=30_000)
    assert seen[0] in ("pending", "processing")
    assert "Queue idle" in window.queue_label.text() or "Jobs" in window.queue_label.text()


def test_find_and_filter(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space("Find")
    window.open_space(entry.id)
    space = window.space
    assert space is not None
    for i, (name, kind) in enumerate(
        [("Red hero", "image"), ("Blue hero", "image"), ("Boom", "audio")]
    ):
        space.apply(c.CreateAsset(name, c.MediaKindName(kind), x=i * 300), OWNER)
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 3)
    window.find_bar.open_bar()
    qtbot.keyClicks(window.find_bar.text, "hero")
    qtbot.waitUntil(lambda: window.find_bar.count.text() == "1 of 2")
    window.find_bar.step.emit(1)
    assert window.find_bar.count.text() == "2 of 2"
    window.find_bar.kind.setCurrentText("audio")
    qtbot.waitUntil(lambda: window.find_bar.count.text() == "no matches")
    window.find_bar.text.clear()
    qtbot.waitUntil(lambda: window.find_bar.count.text() == "1 of 1")
    assert [space.asset(a).name for a in window.scene.finder.matches()] == ["Boom"]
    window.find_bar.close_bar()
    assert window.scene.finder.matches() == [] or len(window.scene.finder.matches()) == 3


def test_view_state_and_geometry_persist(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    entry = studio.create_space("Persist")
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.show()
    w.open_space(entry.id)
    w.resize(700, 500)  # small: restoreGeometry clamps to the (small) offscreen screen
    qtbot.wait(50)
    size = (w.width(), w.height())  # the docks' minimum sizes may have won
    w.view.set_scale(2.0)
    w.view.center_on(500, 400)
    w.close()
    w2 = MainWindow(studio, OWNER)
    qtbot.addWidget(w2)
    w2.show()
    w2.open_space(entry.id)
    qtbot.wait(50)
    assert abs(w2.view.current_scale() - 2.0) < 1e-6
    assert abs(w2.view.center().x() - 500) < 2 and abs(w2.view.center().y() - 400) < 2
    assert (w2.width(), w2.height()) == size
    w2.close()
    studio.close()


def test_main_window_renders_to_png(window: MainWindow, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.core.imports import import_files

    entry = window.studio.create_space("Render")
    window.open_space(entry.id)
    assert window.space is not None
    files = []
    for i, colour in enumerate(["tomato", "gold", "teal", "slateblue"]):
        p = tmp_path / f"{colour}.png"
        Image.new("RGB", (200 + i * 40, 160), colour).save(p)
        files.append(p)
    import_files(window.space, files, OWNER)
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 4)
    window.view.fit_all()
    QApplication.processEvents()
    out = tmp_path / "main.png"
    assert window.grab().save(str(out))
    with Image.open(out) as im:
        colours = im.convert("RGB").getcolors(maxcolors=1 << 24) or []
        assert im.size[0] >= 1000 and len(colours) > 50


def test_tray_generate_and_use_recipe_through_the_window(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QAction

    entry = window.studio.create_space("Tray")
    window.open_space(entry.id)
    qtbot.waitUntil(lambda: window.space is not None and window.tray.isEnabled())
    window.tray.prompt.setPlainText("a paper kite over green hills")
    generate = window.findChild(QAction, "generate")
    assert generate is not None and generate.shortcut().toString() == "Ctrl+Return"
    generate.trigger()
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=5_000)
    card = window.scene.cards()[0]
    qtbot.waitUntil(
        lambda: card.facts.active is not None and card.facts.active.status == "completed",
        timeout=30_000,
    )
    vid = card.facts.active.id  # type: ignore[union-attr]
    window.tray.prompt.clear()
    window.use_recipe(vid)
    assert window.tray.prompt.toPlainText() == "a paper kite over green hills"
    window.add_to_tray([vid])
    assert vid in window.tray.references()
    window.show_asset(card.asset.id)
    assert window.scene.selected_ids() == [card.asset.id]


def test_the_status_bar_says_why_the_queue_stopped(tmp_path: Path, window: MainWindow) -> None:
    entry = window.studio.create_space("Gone")
    window.open_space(entry.id)
    assert window.session is not None
    space_file = window.studio.paths.space_db(entry.slug)
    window.session.pump()
    assert window.queue_label.text() == "Queue idle"
    space_file.rename(tmp_path / "moved.db")  # the space is moved away while open
    window.session.pump()
    assert window.queue_label.text() == (
        f"Jobs stopped: the space {entry.slug} was deleted or moved while it was open"
    )
