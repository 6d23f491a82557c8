"""More fixes of what a first-time user trips on (issue 11: items 3, 5, 9, 10, 12-15),
each driven through the real window (offscreen) the way a user does it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.layout import GRID_STEP
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER, add_variant

IMAGE = c.MediaKindName.IMAGE
CTRL = Qt.KeyboardModifier.ControlModifier
SHIFT = Qt.KeyboardModifier.ShiftModifier


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1400, 900)
    w.show()
    w.activateWindow()
    qtbot.waitExposed(w)
    yield w
    w.close()
    studio.close()


def _open(window: MainWindow, qtbot, name: str = "Board") -> str:  # type: ignore[no-untyped-def]
    entry = window.studio.create_space(name)
    window.open_space(entry.id)
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)
    return entry.id


def _space(window: MainWindow):  # type: ignore[no-untyped-def]
    space = window.space
    assert space is not None
    return space


# --------------------------------------------------------------------------- item 3


def test_a_fork_lands_in_free_space_selected_and_in_sight(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _open(window, qtbot)
    space = _space(window)
    made = add_variant(space, name="Hero")
    # a card where the fork would go: it must not be covered
    other = space.apply(c.CreateAsset("Other", IMAGE, x=GRID_STEP, y=0), OWNER)
    qtbot.waitUntil(lambda: window.scene.card(made.asset_id) is not None, timeout=2_000)
    window.view.center_on(20_000, 20_000)  # the user looks elsewhere
    assert window.view.canvas_actions.fork(made.asset_id)
    new = [a.id for a in space.snapshot().assets if a.name == "Hero (fork)"]
    assert len(new) == 1
    fork = space.asset(new[0])
    blocker = space.asset(other.created["asset_id"])
    assert (fork.x, fork.y) != (blocker.x, blocker.y)
    assert abs(fork.x - blocker.x) >= 256 or abs(fork.y - blocker.y) >= 256
    qtbot.waitUntil(lambda: window.scene.selected_ids() == new, timeout=3_000)
    card = window.scene.card(new[0])
    assert card is not None
    assert window.view.visible_scene_rect().contains(card.sceneBoundingRect())


def test_generated_cards_never_cover_the_card_at_the_view_centre(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    _open(window, qtbot)
    space = _space(window)
    qtbot.waitUntil(window.tray.isEnabled)
    cx, cy = window.centre()
    old = space.apply(c.CreateAsset("Old", IMAGE, x=cx, y=cy), OWNER).created["asset_id"]
    for i in range(3):
        window.tray.prompt.setPlainText(f"a tiny robot {i}")
        window.tray.generate()
    assets = space.snapshot().assets
    assert len(assets) == 4
    spots = {(a.x, a.y) for a in assets}
    assert len(spots) == 4
    o = space.asset(old)
    for a in assets:
        if a.id != o.id:
            assert abs(a.x - o.x) >= 256 or abs(a.y - o.y) >= 256

    # the user's new cards: selected, on screen
    def selected_names() -> list[str]:
        cards = [window.scene.card(i) for i in window.scene.selected_ids()]
        return [card.asset.name for card in cards if card is not None]

    # each new card is revealed as its event arrives: the last one ends selected
    qtbot.waitUntil(lambda: selected_names() == ["a tiny robot 2"], timeout=5_000)
    card = window.scene.card(window.scene.selected_ids()[0])
    assert card is not None
    assert window.view.visible_scene_rect().contains(card.sceneBoundingRect())


def _names_in_reading_order(window: MainWindow) -> list[str]:
    rows = _space(window).snapshot().assets
    return [a.name for a in sorted(rows, key=lambda a: (a.y, a.x))]


def test_arrange_the_whole_space_by_name_is_one_undoable_step(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    _open(window, qtbot)
    space = _space(window)
    names = ["delta", "Alpha", "charlie", "Bravo", "echo"]
    space.apply_step(
        [c.CreateAsset(n, IMAGE, x=i * 1000.0, y=(i % 2) * 700.0) for i, n in enumerate(names)],
        OWNER,
    )
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 5, timeout=2_000)
    before = {a.id: (a.x, a.y) for a in space.snapshot().assets}
    depth = window.undo_stack.count()
    by_name = window.findChild(QAction, "arrangeByName")
    assert by_name is not None
    by_name.trigger()
    assert window.undo_stack.count() == depth + 1
    assert window.undo_stack.undoText() == "Arrange 5 assets by name"
    assert _names_in_reading_order(window) == ["Alpha", "Bravo", "charlie", "delta", "echo"]
    xs = sorted({a.x for a in space.snapshot().assets})
    assert xs == [0.0, GRID_STEP, 2 * GRID_STEP]  # a 3-wide grid from the top-left
    window.undo_stack.undo()
    assert {a.id: (a.x, a.y) for a in space.snapshot().assets} == before


def test_arrange_a_selection_by_kind_with_the_shortcut(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _open(window, qtbot)
    space = _space(window)
    step = space.apply_step(
        [
            c.CreateAsset("Bird song", c.MediaKindName.AUDIO, x=0, y=0),
            c.CreateAsset("Owl", IMAGE, x=600, y=0),
            c.CreateAsset("Wind", c.MediaKindName.AUDIO, x=1200, y=0),
            c.CreateAsset("Left alone", IMAGE, x=0, y=280),
        ],
        OWNER,
    )
    ids = [a.created["asset_id"] for a in step.applied]
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 4, timeout=2_000)
    window.scene.select(ids[:3])
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    qtbot.keyClick(window.view.viewport(), Qt.Key.Key_A, CTRL | SHIFT)
    qtbot.waitUntil(lambda: "by kind" in window.undo_stack.undoText(), timeout=2_000)
    rows = {a.name: a for a in space.snapshot().assets}
    assert rows["Bird song"].y == rows["Wind"].y  # audio: one row
    assert rows["Owl"].y == rows["Bird song"].y + GRID_STEP  # images: the next
    assert (rows["Left alone"].x, rows["Left alone"].y) == (0.0, 280.0)  # not chosen: stays
    for n in ("Bird song", "Owl", "Wind"):  # and nothing landed on it
        r = rows[n]
        assert abs(r.x - 0.0) >= 256 or abs(r.y - 280.0) >= 256
    QApplication.processEvents()


# --------------------------------------------------------------------------- items 12, 9


def _imported(window: MainWindow, tmp_path: Path) -> str:
    """A real picture, imported (the local provider can refine it)."""
    from PIL import Image

    from studio.core.imports import import_files

    path = tmp_path / "hero.png"
    Image.new("RGB", (64, 48), (200, 80, 40)).save(path)
    (item,) = import_files(_space(window), [path], OWNER).imported
    return item.asset_id


def _refine(window: MainWindow, aid: str, prompt: str = "make it blue") -> str:
    ok = window.run([c.RequestRefine(aid, prompt)], "Refine")
    assert ok
    variants = _space(window).variants_of(aid)
    return variants[-1].id


def test_a_completed_refine_becomes_the_active_variant_undoably(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    _open(window, qtbot)
    space = _space(window)
    aid = _imported(window, tmp_path)
    first = space.asset(aid).active_variant_id
    vid = _refine(window, aid)
    assert space.asset(aid).active_variant_id == first  # a placeholder is not shown yet
    qtbot.waitUntil(lambda: space.asset(aid).active_variant_id == vid, timeout=15_000)
    assert space.variants_of(aid)[-1].status == "completed"
    qtbot.waitUntil(lambda: window.undo_stack.undoText() == "Show refined variant", timeout=2_000)
    card = window.scene.card(aid)
    qtbot.waitUntil(lambda: card is not None and card.facts.active is not None, timeout=2_000)
    assert card is not None and card.facts.active is not None and card.facts.active.id == vid
    window.undo_stack.undo()
    assert space.asset(aid).active_variant_id == first


def test_use_this_recipe_on_a_refined_variant_refines_the_same_asset_again(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    _open(window, qtbot)
    space = _space(window)
    aid = _imported(window, tmp_path)
    vid = _refine(window, aid, "paint it in watercolour")
    qtbot.waitUntil(lambda: space.variants_of(aid)[-1].status == "completed", timeout=15_000)
    window.tray.set_destination(None)
    window.use_recipe(vid)
    tray = window.tray
    assert tray.destination_id() == aid
    assert tray.prompt.toPlainText() == "paint it in watercolour"
    verdict = tray.verdict()
    assert verdict.op is not None and verdict.op.value == "refine"
    before = len(space.variants_of(aid))
    tray.generate()
    assert len(space.variants_of(aid)) == before + 1  # a new variant of the same asset
    assert len(space.snapshot().assets) == 1  # and no new asset


# --------------------------------------------------------------------------- item 13


def test_ctrl_a_takes_frames_and_a_frame_carries_exactly_its_members(
    space,  # type: ignore[no-untyped-def]
    qtbot,
) -> None:
    from PySide6.QtCore import QPointF
    from PySide6.QtTest import QTest

    from tests.conftest import add_asset
    from tests.ui.test_canvas_kit import drag, make_canvas

    inside = add_asset(space, "Inside", x=40, y=40)
    # overlaps the frame's right edge, with its centre inside it: not a member
    edge = add_asset(space, "On the edge", x=500, y=40)
    fid = space.apply(c.CreateFrame("Cast", 0, 0, 700, 400), OWNER).created["frame_id"]
    cv = make_canvas(space, qtbot)
    cv.view.center_on(400, 300)
    item = cv.scene.frame(fid)
    assert item is not None
    title = item.title_rect().center() + QPointF(0, 0)
    drag(cv.view, cv.vp(title.x(), title.y()), cv.vp(title.x() + 100, title.y() + 600))
    assert cv.host.runs[-1][0] == "Move frame “Cast”"
    assert cv.pos(inside) == (140, 640)
    assert cv.pos(edge) == (500, 40)  # merely overlapping: left where it was
    cv.host.stack.undo()
    # Ctrl+A: every card and every frame; a move and a delete take the frame along
    cv.view.setFocus()
    QTest.keyClick(cv.view, Qt.Key.Key_A, CTRL)
    assert set(cv.scene.selected_ids()) == {inside, edge}
    assert cv.scene.selected_frame_ids() == [fid]
    QTest.keyClick(cv.view, Qt.Key.Key_Right)
    assert (space.snapshot().frames[0].x, cv.pos(inside)) == (20, (60, 40))
    QTest.keyClick(cv.view, Qt.Key.Key_Delete)
    assert space.snapshot().frames == [] and space.snapshot().assets == []
    assert cv.host.runs[-1][0] == "Delete 2 assets and 1 frame"
    cv.host.stack.undo()
    assert len(space.snapshot().frames) == 1
    QTest.keyClick(cv.view, Qt.Key.Key_Escape)
    assert cv.scene.selected_frame_ids() == []


# --------------------------------------------------------------------------- item 5


def test_a_parent_is_a_stack_with_a_count_that_opens_and_closes(
    space,  # type: ignore[no-untyped-def]
    qtbot,
) -> None:
    from PySide6.QtCore import QPointF

    from studio.ui.canvas import menus
    from tests.conftest import add_asset
    from tests.ui.test_canvas_kit import make_canvas, mouse

    parent = add_asset(space, "Hero", x=0, y=0)
    kids = [add_asset(space, f"Pose {i}", x=600 + i * 280.0, y=0) for i in range(2)]
    grandchild = add_asset(space, "Detail", x=600, y=600)
    cv = make_canvas(space, qtbot)
    cv.view.center_on(500, 300)
    cv.host.run([c.ReparentAsset(k, parent) for k in kids], "Put inside")
    cv.host.run([c.ReparentAsset(grandchild, kids[0])], "Put inside")
    card = cv.scene.card(parent)
    assert card is not None and card.children == 2 and not card.collapsed
    assert card.boundingRect().width() > 256  # the stack's edges show behind it
    # a click on the count badge closes the stack: the children (and theirs) hide
    badge = card.badge_rect().center() + QPointF(card.px, card.py)
    mouse(cv.view, QEvent.Type.MouseButtonPress, cv.vp(badge.x(), badge.y()))
    mouse(cv.view, QEvent.Type.MouseButtonRelease, cv.vp(badge.x(), badge.y()))
    assert card.collapsed
    hidden = [cv.scene.card(a) for a in (*kids, grandchild)]
    assert all(h is not None and not h.isVisible() for h in hidden)
    assert cv.view.view_state()["collapsed"] == [parent]
    # the card menu opens it again
    menu = menus.card_menu(cv.view, card)
    (entry,) = [a for a in menu.actions() if a.text().startswith("Expand stack")]
    assert entry.text() == "Expand stack (2 inside)"
    entry.trigger()
    assert all(h is not None and h.isVisible() for h in hidden)
    # taking a child out updates the count
    cv.host.run([c.ReparentAsset(kids[1], None)], "Take out")
    assert card.children == 1


# --------------------------------------------------------------------------- item 10


def test_the_spaces_list_keeps_counts_after_a_restart_and_its_times_move_on(
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import datetime

    from studio.ui import spaces_panel

    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as studio:
        board = studio.create_space("Board")
        other = studio.create_space("Other")
        with studio.open_space(board.id) as space:
            for i in range(3):
                space.apply(c.CreateAsset(f"A{i}", IMAGE), OWNER)
        with studio.open_space(other.id) as space:
            space.apply(c.CreateAsset("B", IMAGE), OWNER)
    studio = Studio(home, providers=build_providers)  # a restart: nothing open yet
    w = MainWindow(studio, OWNER)
    try:
        texts = {w.spaces.list.item(i).text() for i in range(w.spaces.list.count())}
        assert "Board\n3 assets · just now" in texts
        assert "Other\n1 asset · just now" in texts
        # two minutes later the list says so by itself
        later = datetime.datetime.now() + datetime.timedelta(minutes=2, seconds=5)
        monkeypatch.setattr(spaces_panel, "_now", lambda: later)
        timer = w.spaces._clock
        assert timer.isActive() and timer.interval() <= 60_000
        timer.timeout.emit()
        texts = {w.spaces.list.item(i).text() for i in range(w.spaces.list.count())}
        assert "Board\n3 assets · 2 min ago" in texts
    finally:
        w.close()
        w.deleteLater()
        studio.close()


# --------------------------------------------------------------------------- item 14


def _folder_messages(parent) -> list:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QMessageBox

    return [
        b
        for b in parent.findChildren(QMessageBox)
        if b.objectName() == "folderMessage" and b.isVisible()
    ]


def test_open_data_folder_and_reveal_without_a_file_manager_show_the_path_to_copy(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QPushButton

    from studio.ui.details import actions as details_actions

    window.menus.opener = lambda _p: False  # no file manager on this desktop
    action = next(a for a in window.findChildren(QAction) if a.text() == "Open data &folder")
    action.trigger()
    action.trigger()  # twice: still one message
    boxes = _folder_messages(window)
    assert len(boxes) == 1
    box = boxes[0]
    home = str(window.studio.paths.home)
    assert not box.isModal() and home in box.text()
    copy = box.findChild(QPushButton, "copyPath")
    assert copy is not None
    copy.click()
    assert QGuiApplication.clipboard().text() == home
    # Reveal in the details: the same message, not an error
    _open(window, qtbot)
    aid = _imported(window, tmp_path)
    monkeypatch.setattr(details_actions, "open_folder", lambda _p: False)
    window.open_details(aid)
    qtbot.waitUntil(lambda: window.inspector.current_asset() == aid, timeout=2_000)
    errors: list[str] = []
    monkeypatch.setattr(window, "show_error", errors.append)
    window.inspector.core.variant_actions.trigger("reveal")
    boxes = _folder_messages(window.inspector)
    assert len(boxes) == 1 and str(window.space.media_dir) in boxes[0].text()  # type: ignore[union-attr]
    assert errors == []
    QApplication.processEvents()


# --------------------------------------------------------------------------- item 15


def test_play_and_pause_are_shipped_icons_not_font_glyphs(qapp) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.details.playback import TransportBar as Transport
    from studio.ui.icons import icon, icon_path

    for name in ("play", "pause", "close"):
        assert icon_path(name).is_file() and not icon(name).isNull()
    t = Transport()
    assert t.play_button.text() == "" and not t.play_button.icon().isNull()
    ui = Path(__file__).resolve().parents[2] / "studio" / "ui"
    for path in ui.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert not any(g in text for g in ("\u23f8", "\u23f5", "\u23ef", "\u23f9")), path


def test_text_questions_are_wide_enough_for_their_title(qtbot, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QDialog, QInputDialog

    from studio.ui import widgets

    seen: list[QInputDialog] = []

    def answer(dialog: QInputDialog) -> int:
        seen.append(dialog)
        return int(QDialog.DialogCode.Accepted)

    monkeypatch.setattr(QInputDialog, "exec", answer)
    assert widgets.ask_text(None, "Rename frame", "Title:", "Cast") == "Cast"  # type: ignore[arg-type]
    (dialog,) = seen
    need = dialog.fontMetrics().horizontalAdvance("Rename frame")
    assert dialog.minimumWidth() >= max(360, 2 * need)


def test_change_type_on_a_card_offers_the_same_list_as_the_details(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from studio.ui.canvas import view as view_module

    _open(window, qtbot)
    space = _space(window)
    aid = space.apply(c.CreateAsset("Hero", IMAGE, type="hero"), OWNER).created["asset_id"]
    qtbot.waitUntil(lambda: window.scene.card(aid) is not None, timeout=2_000)
    offered: list[list[str]] = []

    def pick(_parent, _title, _label, choices, current):  # type: ignore[no-untyped-def]
        offered.append(list(choices))
        assert current == "hero"
        return "prop"

    monkeypatch.setattr(view_module, "ask_choice", pick)
    assert window.view.canvas_actions.change_type(aid)
    assert space.asset(aid).type == "prop"
    window.open_details(aid)
    qtbot.waitUntil(lambda: window.inspector.current_asset() == aid, timeout=2_000)
    combo = window.inspector.form.type
    details = [combo.itemText(i) for i in range(combo.count())]
    assert offered[0][0] == "hero" and offered[0][1:] == details


def test_arrange_keeps_frame_members_inside_their_frame_and_others_off_it(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    from studio.ui.canvas.geometry import Rect, card_in_frame

    _open(window, qtbot)
    space = _space(window)
    space.apply_step(
        [
            c.CreateFrame("Cast", 0, 0, 400, 400),
            c.CreateAsset("Zed", IMAGE, x=100, y=100),  # inside the frame
            c.CreateAsset("Amy", IMAGE, x=1200, y=0),
            c.CreateAsset("Bob", IMAGE, x=-700, y=0),
        ],
        OWNER,
    )
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 3, timeout=2_000)
    window.findChild(QAction, "arrangeByName").trigger()
    snap = space.snapshot()
    (frame,) = snap.frames
    area = Rect(frame.x, frame.y, frame.width, frame.height)
    rows = {a.name: a for a in snap.assets}
    assert card_in_frame(Rect(rows["Zed"].x, rows["Zed"].y, 256, 256), area)
    for n in ("Amy", "Bob"):
        r = Rect(rows[n].x, rows[n].y, 256, 256)
        assert not r.intersects(Rect(frame.x, frame.y - 40, frame.width, frame.height + 40)), n
    assert rows["Bob"].x - rows["Amy"].x == GRID_STEP and rows["Amy"].y == rows["Bob"].y


def test_arrange_grows_a_full_frame_and_keeps_other_cards_off_the_grown_frame(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    from studio.ui.canvas.geometry import Rect

    _open(window, qtbot)
    space = _space(window)
    step = space.apply_step(
        [c.CreateFrame("Small", 0, 0, 360, 360)]
        + [c.CreateAsset(f"In{i}", IMAGE, x=40, y=40) for i in range(5)]
        + [c.CreateAsset("Out", IMAGE, x=0, y=560)],
        OWNER,
    )
    # new cards never overlap: piled into the frame by hand, as a user might
    members = {a.created["asset_id"] for a in step.applied[1:6]}
    out = step.applied[6].created["asset_id"]
    piled = tuple(c.Position(m, 40, 40) for m in members)
    # "Out" sits under the frame, where the grown frame will reach
    space.apply(c.MoveAssets((*piled, c.Position(out, 0, 560))), OWNER)
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 6, timeout=2_000)
    window.scene.select([])
    window.findChild(QAction, "arrangeByName").trigger()
    snap = space.snapshot()
    (frame,) = snap.frames
    grown = Rect(frame.x, frame.y - 40, frame.width, frame.height + 40)
    assert frame.width > 360 and frame.height > 360
    for a in snap.assets:
        r = Rect(a.x, a.y, 256, 256)
        if a.id in members:
            assert grown.x <= r.x and r.right <= grown.right and r.bottom <= grown.bottom
        else:
            assert not r.intersects(grown), a.name


def test_import_and_export_dialogs_start_in_the_last_folder_used(
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from PySide6.QtWidgets import QFileDialog

    home = tmp_path / "home"
    pics = tmp_path / "pictures"
    pics.mkdir()
    from PIL import Image

    Image.new("RGB", (16, 16), (10, 200, 30)).save(pics / "leaf.png")
    starts: list[str] = []

    def pick_files(_parent, _title, start, _filter):  # type: ignore[no-untyped-def]
        starts.append(start)
        return [str(pics / "leaf.png")], _filter

    saves: list[str] = []
    outside = tmp_path / "elsewhere"
    outside.mkdir()

    def save_to(_parent, _title, default, filters):  # type: ignore[no-untyped-def]
        saves.append(default)
        return str(outside / Path(default).name), filters

    monkeypatch.setattr(QFileDialog, "getOpenFileNames", pick_files)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", save_to)
    for _run in range(2):  # the second run is a restart: the folders come from library.db
        studio = Studio(home, providers=build_providers)
        w = MainWindow(studio, OWNER)
        try:
            if _run == 0:
                _open(w, qtbot)
            else:
                w.open_space(studio.spaces()[0].id)
                qtbot.waitUntil(lambda w=w: w.space_control._held is None, timeout=10_000)
            w.import_control.import_dialog()
            space = w.space
            assert space is not None
            want = _run + 1
            qtbot.waitUntil(lambda s=space, n=want: len(s.snapshot().assets) == n, timeout=15_000)
            aid = space.snapshot().assets[-1].id
            w.open_details(aid)
            qtbot.waitUntil(lambda w=w, a=aid: w.inspector.current_asset() == a, timeout=2_000)
            qtbot.waitUntil(
                lambda s=space, a=aid: s.variants_of(a)[0].status == "completed", timeout=5_000
            )
            w.inspector.show_asset(aid)
            assert w.inspector.core.variant_actions.trigger("export") is not None
        finally:
            w.close()
            w.deleteLater()
            studio.close()
    assert starts[0] == str(Path.home()) and starts[1] == str(pics)
    assert Path(saves[0]).parent == home / "exports"  # the data folder's exports/ at first
    assert Path(saves[1]).parent == outside  # then where the last export went


def test_compare_tick_boxes_have_a_visible_border_and_tick(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    tmp_path: Path,
) -> None:
    from PySide6.QtGui import QColor

    _open(window, qtbot)
    aid = _imported(window, tmp_path)
    window.open_details(aid)
    qtbot.waitUntil(lambda: window.inspector.current_asset() == aid, timeout=2_000)
    full = window.inspector.open_full_view()
    assert full is not None
    try:
        picker = full.picker
        style = picker.styleSheet()
        assert "::indicator" in style and "check.svg" in style
        picker.show()
        full.tabs.setCurrentIndex(1)
        QApplication.processEvents()
        img = picker.grab().toImage()
        light = sum(
            1
            for x in range(0, min(img.width(), 60))
            for y in range(0, min(img.height(), 80))
            if QColor(img.pixel(x, y)).lightness() > 180
        )
        assert light > 20  # the box's bright border shows on the dark list
    finally:
        full.close()
        QApplication.processEvents()


PLAYER_SCRIPT = """
import sys, time
from PySide6.QtCore import QUrl
from PySide6.QtWidgets import QApplication
app = QApplication(sys.argv[:1])
from studio.ui.quiet import quiet_media_logs
quiet_media_logs()
from PySide6.QtMultimedia import QMediaPlayer
player = QMediaPlayer()
player.setSource(QUrl.fromLocalFile(sys.argv[1]))
end = time.monotonic() + 3
while time.monotonic() < end and player.mediaStatus() != QMediaPlayer.MediaStatus.LoadedMedia:
    app.processEvents()
    time.sleep(0.02)
print("status", player.mediaStatus().name)
"""


def test_opening_media_leaves_no_ffmpeg_dump_or_probing_chatter_on_the_console(
    tmp_path: Path,
) -> None:
    import os
    import subprocess
    import sys
    import wave

    path = tmp_path / "beep.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x10" * 8000)
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": str(root), "QT_QPA_PLATFORM": "offscreen"}

    def run(**extra: str) -> str:
        done = subprocess.run(
            [sys.executable, "-c", PLAYER_SCRIPT, str(path)],
            env={**env, **extra},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert "status LoadedMedia" in done.stdout, done.stdout + done.stderr
        return done.stderr

    loud = run(FORGE_STUDIO_VERBOSE_MEDIA="1")
    assert "Input #0" in loud  # what the console used to show for every file opened
    quiet = run()
    assert "Input #0" not in quiet and "symbolsresolver" not in quiet, quiet
