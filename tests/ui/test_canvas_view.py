"""CanvasView gestures, driven with real mouse/wheel/drop events on a real space:
every gesture is one host.run = one undo step, and undo puts the space back."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDropEvent, QWheelEvent

from studio.core import commands as c
from studio.core.space import Space
from studio.ui.canvas.geometry import CARD_W
from tests.conftest import OWNER, add_asset
from tests.ui.test_canvas_kit import NO_MODS, Canvas, add_image, drag, make_canvas, mouse

SHIFT = Qt.KeyboardModifier.ShiftModifier
ALT = Qt.KeyboardModifier.AltModifier
CTRL = Qt.KeyboardModifier.ControlModifier


def two_cards(space: Space, qtbot) -> tuple[Canvas, str, str]:  # type: ignore[no-untyped-def]
    a = add_asset(space, "Alpha", x=0, y=0)
    b = add_asset(space, "Beta", x=280, y=0)
    cv = make_canvas(space, qtbot)
    cv.view.center_on(500, 300)
    return cv, a, b


def test_dragging_two_selected_cards_is_one_move_and_one_undo(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, b = two_cards(space, qtbot)
    cv.scene.select([a, b])
    drag(cv.view, cv.vp(100, 100), cv.vp(100 + 400, 100 + 300), modifiers=ALT)
    assert [text for text, _ in cv.host.runs] == ["Move 2 assets"]
    (cmd,) = cv.host.runs[0][1]
    assert isinstance(cmd, c.MoveAssets) and len(cmd.positions) == 2
    assert cv.pos(a) == (400, 300) and cv.pos(b) == (680, 300)
    assert (cv.scene.card(a).px, cv.scene.card(a).py) == (400, 300)  # type: ignore[union-attr]
    cv.host.stack.undo()
    assert cv.pos(a) == (0, 0) and cv.pos(b) == (280, 0)
    assert (cv.scene.card(b).px, cv.scene.card(b).py) == (280, 0)  # type: ignore[union-attr]
    cv.host.stack.redo()
    assert cv.pos(a) == (400, 300)


def test_moves_snap_to_the_grid_and_to_neighbours(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, _b = two_cards(space, qtbot)
    drag(cv.view, cv.vp(100, 100), cv.vp(100 + 7, 100 + 513))  # no Alt: snapping on
    x, y = cv.pos(a)
    assert (x, y) == (0, 520)  # nothing near: the 20 px grid
    # raw drop at (541, 6): the grid would say (540, 0); Beta's right edge (536) and top
    # (0) are within 8 px, so the card lines up with them instead
    drag(cv.view, cv.vp(100, 620), cv.vp(100 + 541, 620 - 514))
    assert cv.pos(a) == (536, 0)
    drag(cv.view, cv.vp(600, 100), cv.vp(600 + 541, 100), modifiers=ALT)  # Alt: no snapping
    assert cv.pos(a) == (536 + 541, 0)


def test_click_selects_and_ctrl_click_toggles(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, b = two_cards(space, qtbot)
    seen: list[list[str]] = []
    cv.view.selection_changed.connect(seen.append)
    mouse(cv.view, QEvent.Type.MouseButtonPress, cv.vp(50, 50))
    mouse(cv.view, QEvent.Type.MouseButtonRelease, cv.vp(50, 50))
    assert cv.scene.selected_ids() == [a]
    mouse(cv.view, QEvent.Type.MouseButtonPress, cv.vp(330, 50), modifiers=CTRL)
    mouse(cv.view, QEvent.Type.MouseButtonRelease, cv.vp(330, 50), modifiers=CTRL)
    assert cv.scene.selected_ids() == [a, b]
    assert seen[-1] == [a, b]
    assert cv.host.runs == []  # clicks change nothing in the space


def test_rubber_band_selects_cards(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, b = two_cards(space, qtbot)
    far = add_asset(space, "Far", x=2000, y=2000)
    drag(cv.view, cv.vp(-100, -100), cv.vp(600, 300))
    assert set(cv.scene.selected_ids()) == {a, b} and far not in cv.scene.selected_ids()


def test_drop_onto_a_card_reparents_and_undo(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, b = two_cards(space, qtbot)
    drag(cv.view, cv.vp(100, 100), cv.vp(400, 120))  # pointer ends over Beta
    assert [t for t, _ in cv.host.runs] == ["Put “Alpha” inside “Beta”"]
    assert space.asset(a).parent_asset_id == b
    assert cv.pos(a) == (0, 0)  # a relation, not a move: the card went back
    assert (cv.scene.card(a).px, cv.scene.card(a).py) == (0, 0)  # type: ignore[union-attr]
    assert cv.scene.ctx.drop_target is None
    cv.host.stack.undo()
    assert space.asset(a).parent_asset_id is None


def test_a_cycle_is_refused_and_nothing_changes(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, b = two_cards(space, qtbot)
    space.apply(c.ReparentAsset(a, b), OWNER)  # Alpha inside Beta
    hints: list[str] = []
    drag(
        cv.view, cv.vp(400, 100), cv.vp(100, 100), on_move=lambda: hints.append(cv.view.drag.hint)
    )  # Beta onto Alpha: a cycle, refused while hovering, and no message after
    assert hints[-1] == "Can't put “Beta” inside “Alpha”: it is inside “Beta”"
    assert cv.scene.ctx.drop_target is None
    assert cv.host.errors == []
    assert space.asset(b).parent_asset_id is None and space.asset(a).parent_asset_id == b
    assert cv.pos(b) == (280, 0)
    assert (cv.scene.card(b).px, cv.scene.card(b).py) == (280, 0)  # type: ignore[union-attr]
    assert not cv.host.stack.canUndo()


def test_shift_drop_takes_a_child_out_in_one_step(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, b = two_cards(space, qtbot)
    space.apply(c.ReparentAsset(a, b), OWNER)
    drag(cv.view, cv.vp(100, 100), cv.vp(100, 700), modifiers=SHIFT | ALT)
    assert space.asset(a).parent_asset_id is None and cv.pos(a) == (0, 600)
    assert cv.host.stack.count() == 1
    cv.host.stack.undo()
    assert space.asset(a).parent_asset_id == b and cv.pos(a) == (0, 0)


def test_a_refused_move_snaps_back(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, _b = two_cards(space, qtbot)
    cv.host.run = lambda cmds, text: False  # type: ignore[method-assign]
    drag(cv.view, cv.vp(100, 100), cv.vp(100, 700), modifiers=ALT)
    card = cv.scene.card(a)
    assert card is not None and (card.px, card.py) == (0, 0) and not card.dragging


def test_an_event_does_not_fight_a_drag(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, a, _b = two_cards(space, qtbot)
    start = QPointF(cv.vp(100, 100))
    mouse(cv.view, QEvent.Type.MouseButtonPress, start)
    for dy in (20, 60, 100):
        mouse(cv.view, QEvent.Type.MouseMove, start + QPointF(0, dy))
    card = cv.scene.card(a)
    assert card is not None and card.dragging
    held = (card.px, card.py)
    space.apply(c.MoveAssets((c.Position(a, 5000, 5000),)), OWNER)  # e.g. a LAN peer
    assert (card.px, card.py) == held  # the drag keeps the card
    mouse(cv.view, QEvent.Type.MouseButtonRelease, start + QPointF(0, 100))
    assert cv.pos(a) == held and (card.px, card.py) == held  # the user's drop wins


def test_escape_cancels_a_drag(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtTest import QTest

    cv, a, _b = two_cards(space, qtbot)
    start = QPointF(cv.vp(100, 100))
    mouse(cv.view, QEvent.Type.MouseButtonPress, start)
    mouse(cv.view, QEvent.Type.MouseMove, start + QPointF(0, 200))
    QTest.keyClick(cv.view, Qt.Key.Key_Escape)
    mouse(cv.view, QEvent.Type.MouseButtonRelease, start + QPointF(0, 200))
    assert cv.host.runs == [] and cv.scene.card(a).py == 0  # type: ignore[union-attr]


def test_dropping_files_imports_them_at_the_drop_point(space: Space, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    cv, _a, b = two_cards(space, qtbot)
    files = [tmp_path / "one.png", tmp_path / "two.wav"]
    data = QMimeData()
    data.setUrls([QUrl.fromLocalFile(str(p)) for p in files])
    at = QPointF(cv.vp(1000, 700))
    move = QDropEvent(at, Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, NO_MODS)
    cv.view.dropEvent(move)
    assert move.isAccepted()
    assert cv.host.imports == [(files, (1000.0, 700.0), None)]
    onto = QDropEvent(
        QPointF(cv.vp(400, 100)), Qt.DropAction.CopyAction, data, Qt.MouseButton.LeftButton, NO_MODS
    )
    cv.view.dropEvent(onto)
    assert cv.host.imports[-1][2] == b  # dropped onto Beta: new variants of Beta
    nothing = QMimeData()  # (the event does not own its data: keep a reference)
    empty = QDropEvent(at, Qt.DropAction.CopyAction, nothing, Qt.MouseButton.LeftButton, NO_MODS)
    cv.view.dropEvent(empty)
    assert len(cv.host.imports) == 2


def test_dragging_out_of_the_window_exports_the_files(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    made = add_image(space, "Hero", 0, 0)
    cv = make_canvas(space, qtbot)
    cv.view.center_on(500, 300)
    started: list[list[str]] = []
    cv.view.start_external_drag = lambda ids: started.append(ids) or True  # type: ignore[method-assign]
    drag(cv.view, cv.vp(100, 100), QPoint(-50, 200))
    assert started == [[made.asset_id]] and cv.host.runs == []
    assert cv.scene.card(made.asset_id).px == 0  # type: ignore[union-attr]
    mime = cv.view.canvas_actions.external_mime([made.asset_id])
    assert mime is not None
    (url,) = mime.urls()
    assert url.toLocalFile().endswith("original.png") and Path(url.toLocalFile()).is_file()


def test_frame_around_selection_and_frame_drag_moves_contents_in_one_step(
    space: Space, qtbot
) -> None:  # type: ignore[no-untyped-def]
    cv, a, b = two_cards(space, qtbot)
    outside = add_asset(space, "Outside", x=1400, y=0)
    cv.scene.select([a, b])
    assert cv.view.create_frame_around_selection("Cast")
    (frame,) = space.snapshot().frames
    assert frame.title == "Cast" and frame.x <= -32 and frame.x + frame.width >= 280 + CARD_W + 32
    item = cv.scene.frame(frame.id)
    assert item is not None
    title = item.title_rect().center() + QPointF(frame.x, frame.y)
    drag(cv.view, cv.vp(title.x(), title.y()), cv.vp(title.x() + 200, title.y() + 400))
    moved = space.snapshot().frames[0]
    assert (moved.x - frame.x, moved.y - frame.y) == (200, 400)
    assert cv.pos(a) == (200, 400) and cv.pos(b) == (480, 400) and cv.pos(outside) == (1400, 0)
    assert cv.host.runs[-1][0] == "Move frame “Cast”"
    cv.host.stack.undo()
    assert cv.pos(a) == (0, 0) and cv.pos(b) == (280, 0)
    assert space.snapshot().frames[0].x == frame.x


def test_frame_resize_rename_delete(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv = make_canvas(space, qtbot)
    cv.view.center_on(300, 200)
    fid = space.apply(c.CreateFrame("F", 0, 0, 400, 300), OWNER).created["frame_id"]
    drag(cv.view, cv.vp(395, 295), cv.vp(595, 395))
    row = space.snapshot().frames[0]
    assert (row.width, row.height) == (600, 400)
    cv.view.canvas_actions.ask_text = lambda title, label, default: "Renamed"
    item = cv.scene.frame(fid)
    assert item is not None
    title = item.title_rect().center()
    mouse(cv.view, QEvent.Type.MouseButtonDblClick, cv.vp(title.x(), title.y()))  # renames
    mouse(cv.view, QEvent.Type.MouseButtonRelease, cv.vp(title.x(), title.y()))
    assert space.snapshot().frames[0].title == "Renamed"
    assert cv.view.canvas_actions.delete_frame(fid)
    assert space.snapshot().frames == [] and cv.scene.frame(fid) is None
    cv.host.stack.undo()
    assert cv.scene.frame(fid) is not None


def test_wheel_zoom_keeps_the_point_under_the_cursor(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    cv, _a, _b = two_cards(space, qtbot)
    at = QPointF(900, 150)
    before = cv.view.to_scene(at)
    for delta in (120, 120, -360, -120):
        ev = QWheelEvent(
            at,
            cv.view.viewport().mapToGlobal(at),
            QPoint(),
            QPoint(0, delta),
            Qt.MouseButton.NoButton,
            NO_MODS,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        cv.view.wheelEvent(ev)
        after = cv.view.to_scene(at)
        tol = 1.5 / cv.view.current_scale()
        assert abs(after.x() - before.x()) <= tol and abs(after.y() - before.y()) <= tol
    assert cv.view.current_scale() < 1.0


def test_fit_all_shows_everything_and_view_state_round_trips(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    add_asset(space, "A", x=-3000, y=-1000)
    add_asset(space, "B", x=4000, y=2500)
    cv = make_canvas(space, qtbot)
    cv.view.fit_all()
    seen = cv.view.visible_scene_rect()
    content = cv.scene.content_rect()
    assert seen.contains(content)
    assert cv.view.current_scale() < 0.2
    state = cv.view.view_state()
    cv.view.zoom_reset()
    cv.view.center_on(0, 0)
    cv.view.restore_view_state(state)
    assert abs(cv.view.current_scale() - state["zoom"]) < 1e-9
    c2 = cv.view.center()
    assert abs(c2.x() - state["center"][0]) < 10 and abs(c2.y() - state["center"][1]) < 10
    cv.view.restore_view_state({"zoom": "nonsense"})  # ignored
    assert abs(cv.view.current_scale() - state["zoom"]) < 1e-9


def test_keyboard_delete_nudge_and_select_all(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtTest import QTest

    cv, a, b = two_cards(space, qtbot)
    cv.view.setFocus()
    QTest.keyClick(cv.view, Qt.Key.Key_A, CTRL)
    assert set(cv.scene.selected_ids()) == {a, b}
    QTest.keyClick(cv.view, Qt.Key.Key_Right)
    assert cv.pos(a) == (20, 0) and cv.host.stack.count() == 1
    QTest.keyClick(cv.view, Qt.Key.Key_Delete)
    assert cv.scene.cards() == []
    cv.host.stack.undo()
    assert {card.asset.id for card in cv.scene.cards()} == {a, b}


def test_context_menu_actions(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.canvas import menus

    made = add_image(space, "Hero", 0, 0)
    cv = make_canvas(space, qtbot)
    card = cv.scene.card(made.asset_id)
    assert card is not None
    cv.view.canvas_actions.ask_text = lambda title, label, default: (
        "Heroine" if "Rename" in title else "character"
    )
    offered: list[list[str]] = []  # Change type offers the details' list of types
    cv.view.canvas_actions.ask_choice = lambda title, label, choices, current: (
        offered.append(choices) or "character"
    )
    menu = menus.card_menu(cv.view, card)
    labels = [a.text() for a in menu.actions() if a.text()]
    assert labels[:6] == [
        "Open details",
        "Rename…",
        "Change type…",
        "Star active variant",
        "Fork",
        "Frame around…",
    ]

    def trigger(text: str) -> None:
        next(a for a in menus.card_menu(cv.view, card).actions() if a.text() == text).trigger()

    trigger("Open details")
    assert cv.host.details == [made.asset_id]
    trigger("Rename…")
    assert space.asset(made.asset_id).name == "Heroine"
    trigger("Change type…")
    assert space.asset(made.asset_id).type == "character" and "prop" in offered[0]
    trigger("Star active variant")
    assert card.facts.active is not None and card.facts.active.starred
    assert any(
        a.text() == "Unstar active variant" for a in menus.card_menu(cv.view, card).actions()
    )
    trigger("Fork")
    forks = [x for x in cv.scene.cards() if x is not card]
    assert len(forks) == 1 and forks[0].px >= 280 and forks[0].py == 0
    trigger("Delete")
    assert cv.scene.card(made.asset_id) is None
    assert cv.host.stack.count() == 5
    for _ in range(5):
        cv.host.stack.undo()
    assert space.asset(made.asset_id).name == "Hero" and len(cv.scene.cards()) == 1


def test_canvas_menu_new_frame_import_and_paste(space: Space, qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QColor, QGuiApplication, QImage

    from studio.ui.canvas import menus

    cv = make_canvas(space, qtbot)
    at = QPointF(640, 480)

    def trigger(text: str) -> None:
        next(a for a in menus.canvas_menu(cv.view, at).actions() if a.text() == text).trigger()

    trigger("New frame")
    (frame,) = space.snapshot().frames
    assert (frame.x, frame.y) == (640, 480)
    cv.view.canvas_actions.ask_files = lambda title: [tmp_path / "a.png"]
    trigger("Import here…")
    assert cv.host.imports[-1] == ([tmp_path / "a.png"], (640.0, 480.0), None)
    image = QImage(40, 30, QImage.Format.Format_RGB32)
    image.fill(QColor("#ff8800"))
    QGuiApplication.clipboard().setImage(image)
    trigger("Paste image")
    (pasted,), where, into = cv.host.imports[-1]
    assert pasted.suffix == ".png" and pasted.is_file() and where == (640.0, 480.0) and into is None
    assert QImage(str(pasted)).size().width() == 40


def test_view_state_restored_before_loading_survives_the_load(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    add_asset(space, "Far", x=40_000, y=25_000)
    from studio.ui.canvas import CanvasScene, CanvasView, ThumbnailCache

    scene = CanvasScene(ThumbnailCache(executor=lambda job: job()))
    view = CanvasView(scene)
    view.resize(800, 600)
    qtbot.addWidget(view)
    view.restore_view_state({"zoom": 0.5, "center": [40_100, 25_100]})
    scene.load(space, space.snapshot(), focus=view.visible_scene_rect())
    assert scene.wait_loaded()
    c = view.center()
    assert abs(c.x() - 40_100) < 4 and abs(c.y() - 25_100) < 4
    assert view.visible_scene_rect().contains(QPointF(40_128, 25_128))


def test_deleting_a_parent_with_its_child_selected_is_one_step(space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Deleting an asset takes its subtree: the child is not deleted a second time."""
    cv, a, b = two_cards(space, qtbot)
    space.apply(c.ReparentAsset(b, a), OWNER)
    assert cv.view.canvas_actions.delete([a, b])  # both chosen, the parent first
    assert cv.host.stack.count() == 1
    assert {x.id for x in space.snapshot().assets} == set()
    cv.host.stack.undo()
    assert {x.id for x in space.snapshot().assets} == {a, b}


def test_a_fitted_view_stays_fitted_as_the_viewport_resizes_until_the_user_moves_it(
    space: Space, qtbot
) -> None:  # type: ignore[no-untyped-def]
    """The docks take their places after the first fit (the window's later panels): a
    new user's Welcome frame was cut off at the right."""
    add_asset(space, "A", x=0, y=0)
    add_asset(space, "B", x=900, y=300)
    cv = make_canvas(space, qtbot)
    cv.view.resize(1400, 800)
    qtbot.waitUntil(lambda: cv.view.viewport().width() > 1300)
    cv.view.fit_all()
    cv.view.resize(600, 800)  # a dock came in beside it
    qtbot.waitUntil(lambda: cv.view.viewport().width() < 700)
    assert cv.view.visible_scene_rect().contains(cv.scene.content_rect())
    cv.view.zoom_in()  # the user takes over: a resize keeps their view
    scale = cv.view.current_scale()
    cv.view.resize(900, 800)
    qtbot.waitUntil(lambda: cv.view.viewport().width() > 800)
    assert cv.view.current_scale() == scale
