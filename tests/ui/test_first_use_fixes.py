"""Fixes of what a first-time user trips on (issue 11), each driven through the real
window (offscreen) the way a user does it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QMessageBox, QStyleOptionGraphicsItem

from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.imports import import_files
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.canvas.card import AssetCardItem
from studio.ui.canvas.geometry import CARD_H, CARD_W
from studio.ui.jobs.model import Column
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


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


def test_ctrl_d_opens_the_asset_details(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    """View ▸ Open asset details (Ctrl+D): the action's ``checked`` argument used to
    reach ``open_full_view`` as the list of variants to compare (TypeError)."""
    _open(window, qtbot)
    space = window.space
    assert space is not None
    aid = space.apply(c.CreateAsset("Hero", c.MediaKindName.IMAGE), OWNER).created["asset_id"]
    qtbot.waitUntil(lambda: window.scene.card(aid) is not None, timeout=2_000)
    window.scene.select([aid])
    qtbot.waitUntil(lambda: window.inspector.current_asset() == aid, timeout=2_000)
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_D, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: len(window.inspector.dialogs) == 1, timeout=2_000)
    dialog = window.inspector.dialogs[0]
    assert dialog.asset_id() == aid and dialog.isVisible()
    assert dialog.ticked() == []
    dialog.close()
    QApplication.processEvents()


def _generated(window: MainWindow) -> int:
    space = window.space
    assert space is not None
    return len(space.snapshot().assets)


@pytest.mark.parametrize("key", [Qt.Key.Key_Return, Qt.Key.Key_Enter])
def test_ctrl_return_generates_from_the_prompt_and_the_canvas(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
    key: Qt.Key,
) -> None:
    """One owner per place, no ``Ambiguous shortcut overload``: the prompt box takes
    Ctrl+Return itself; elsewhere the Generate menu's action does."""
    _open(window, qtbot)
    qtbot.waitUntil(window.tray.isEnabled)
    prompt = window.tray.prompt
    prompt.setFocus()
    qtbot.waitUntil(prompt.hasFocus)
    prompt.setPlainText("a tiny robot")
    qtbot.keyClick(prompt, key, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _generated(window) == 1, timeout=2_000)
    assert prompt.toPlainText() == "a tiny robot"  # no newline typed
    window.view.setFocus()
    qtbot.waitUntil(window.view.hasFocus)
    qtbot.keyClick(window.view.viewport(), key, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: _generated(window) == 2, timeout=2_000)


def _queue(window: MainWindow, prompt: str) -> str:
    space = window.space
    assert space is not None
    cmd = c.RequestGeneration(
        prompt, c.MediaKindName.IMAGE, options=c.GenerationOptions(no_style=True)
    )
    return str(space.apply(cmd, OWNER).created["job_id"])


def _fail(window: MainWindow, job_id: str, code: str, message: str) -> None:
    space = window.space
    assert space is not None
    me = Actor.system()
    space.apply(c.StartJob(job_id, space.holder_id, 60_000), me)
    space.apply(c.FailJob(job_id, code, message), me)


def test_the_right_dock_keeps_its_width_and_problems_read_in_full(
    window: MainWindow,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    """Jobs starting, waiting, failing and the queue pausing never change the dock's
    width (buttons stay under the mouse); a job's problem reads in full, wrapped, at
    the default width."""
    _open(window, qtbot)
    window.jobs_dock.raise_()
    panel = window.jobs_panel
    qtbot.waitUntil(panel.isVisible)
    QApplication.processEvents()
    width = window.jobs_dock.width()
    widths = {width}
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Queue paused" in panel.summary.text(), timeout=2_000)
    widths.add(window.jobs_dock.width())
    jobs = [_queue(window, f"a lighthouse on a rock number {i}, stormy sea") for i in range(4)]
    qtbot.waitUntil(lambda: "4 queued" in panel.summary.text(), timeout=2_000)
    widths.add(window.jobs_dock.width())
    why = "The provider blocked this prompt: violence is not allowed in generated pictures"
    _fail(window, jobs[0], "SAFETY_BLOCKED", why)
    qtbot.waitUntil(lambda: "1 failed" in panel.summary.text(), timeout=2_000)
    QApplication.processEvents()
    widths.add(window.jobs_dock.width())
    assert widths == {width}
    # the problem, in full and wrapped, inside the panel's width
    assert panel.problem.isVisible() and why in panel.problem.text()
    assert panel.problem.wordWrap()
    assert panel.problem.width() <= panel.width()
    assert panel.problem.height() > panel.problem.fontMetrics().lineSpacing() * 1.5  # wrapped
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: "Queue paused" not in panel.summary.text(), timeout=2_000)
    assert window.jobs_dock.width() == width


def _render(card: AssetCardItem) -> QImage:
    image = QImage(int(CARD_W), int(CARD_H), QImage.Format.Format_ARGB32)
    image.fill(0)
    painter = QPainter(image)
    card.paint(painter, QStyleOptionGraphicsItem(), None)
    painter.end()
    return image


def _reddish(image: QImage) -> int:
    """Pixels near the failed colour (#e5484d)."""
    n = 0
    for y in range(0, image.height(), 2):
        for x in range(0, image.width(), 2):
            c_ = image.pixelColor(x, y)
            if c_.red() > 180 and c_.green() < 110 and c_.blue() < 120:
                n += 1
    return n


def _card_of_job(window: MainWindow, job_id: str) -> AssetCardItem:
    space = window.space
    assert space is not None
    vid = next(j.variant_id for j in space.jobs() if j.id == job_id)
    aid = space.variant_detail(vid).row.asset_id
    card = window.scene.card(aid)
    assert card is not None
    return card


def test_a_cancelled_job_is_quiet_not_failed(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _open(window, qtbot)
    assert window.run([c.PauseQueue()], "Pause queue")
    cancelled = _queue(window, "a moth on a lamp")
    failed = _queue(window, "a moth in a storm")
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 2, timeout=2_000)
    assert window.run([c.CancelJob(cancelled)], "Cancel job")
    _fail(window, failed, "SAFETY_BLOCKED", "blocked")
    card = _card_of_job(window, cancelled)
    qtbot.waitUntil(lambda: card.status == "cancelled", timeout=2_000)
    assert "cancelled" in card.toolTip().lower() and "failed" not in card.toolTip().lower()
    assert _reddish(_render(card)) == 0  # no red border, mark or "Failed: …"
    bad = _card_of_job(window, failed)
    qtbot.waitUntil(lambda: bad.status == "failed", timeout=2_000)
    assert _reddish(_render(bad)) > 50  # a real failure stays loud
    panel = window.jobs_panel
    qtbot.waitUntil(lambda: panel.model.row_of(cancelled) is not None, timeout=2_000)
    panel.refresh()
    row = panel.model.row_of(cancelled)
    assert row is not None
    status = panel.model.index(row, Column.STATUS)
    problem = panel.model.index(row, Column.PROBLEM)
    assert status.data() == "Cancelled"
    colour = problem.data(Qt.ItemDataRole.ForegroundRole)
    assert colour is not None and colour.red() < 180  # not the failure's red
    assert "blocked" in panel.problem.text()  # the problem area shows the failure
    panel.select_job(cancelled)
    assert "Cancelled" in panel.problem.text()  # and the cancel once asked


def test_queued_cards_say_paused_while_the_queue_is_paused(window: MainWindow, qtbot) -> None:  # type: ignore[no-untyped-def]
    _open(window, qtbot)
    assert window.run([c.PauseQueue()], "Pause queue")
    job = _queue(window, "a quiet pond")
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=2_000)
    card = _card_of_job(window, job)
    qtbot.waitUntil(lambda: card.label() == "Paused", timeout=2_000)
    assert not card.animated  # no moving bar
    assert card.asset.id not in window.scene._animated
    assert window.run([c.ResumeQueue()], "Resume queue")
    qtbot.waitUntil(lambda: card.label() != "Paused", timeout=2_000)
    assert card.label() in ("Queued", "Generating…", "") or "%" in card.label()


def _picture_variant(window: MainWindow, tmp_path: Path, name: str) -> tuple[str, str]:
    space = window.space
    assert space is not None
    path = tmp_path / f"{name}.png"
    Image.new("RGB", (32, 24), "teal").save(path)
    report = import_files(space, [path], OWNER)
    (item,) = report.imported
    asset = space.asset(item.asset_id)
    assert asset.active_variant_id is not None
    return asset.id, asset.active_variant_id


def test_the_tray_keeps_its_draft_per_space(window: MainWindow, tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Saving Preferences (which rebuilds the tray for the new providers) and switching
    spaces keep each space's prompt, references and destination (for the session)."""
    first = _open(window, qtbot, "First")
    aid, vid = _picture_variant(window, tmp_path, "ref")
    tray = window.tray
    tray.prompt.setPlainText("a lantern in the fog")
    tray.add_references([vid])
    tray.set_destination(aid)
    assert tray.references() == [vid] and tray.destination_id() == aid

    window._providers_changed()  # what saving Preferences does
    tray = window.tray
    qtbot.waitUntil(lambda: tray.prompt.toPlainText() == "a lantern in the fog")
    assert tray.references() == [vid] and tray.destination_id() == aid

    second = _open(window, qtbot, "Second")
    assert window.tray.prompt.toPlainText() == "" and window.tray.references() == []
    window.tray.prompt.setPlainText("a desert at noon")
    window.open_space(first)
    qtbot.waitUntil(lambda: window.space_control._held is None, timeout=10_000)
    assert window.tray.prompt.toPlainText() == "a lantern in the fog"
    assert window.tray.references() == [vid] and window.tray.destination_id() == aid
    window.open_space(second)  # the panels take the space on the next turn
    qtbot.waitUntil(lambda: window.tray.prompt.toPlainText() == "a desert at noon")


def test_a_draft_whose_reference_went_away_comes_back_without_it(
    window: MainWindow,
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    first = _open(window, qtbot, "First")
    aid, vid = _picture_variant(window, tmp_path, "ref")
    window.tray.prompt.setPlainText("a lantern")
    window.tray.add_references([vid])
    window.tray.set_destination(aid)
    space = window.space
    assert space is not None
    _open(window, qtbot, "Second")
    with window.studio.open_space(first) as other:  # deleted while another space shows
        other.apply(c.DeleteAsset(aid), OWNER)
    window.open_space(first)  # the panels take the space on the next turn
    qtbot.waitUntil(lambda: window.tray.prompt.toPlainText() == "a lantern")
    assert window.tray.references() == [] and window.tray.destination_id() is None
    assert [b for b in window.findChildren(QMessageBox, "errorMessage") if b.isVisible()] == []
