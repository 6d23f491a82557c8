"""Media in the details views: the image viewer zooms and pans, audio shows its waveform
and controls, video plays or falls back to its poster with a note; compare puts 2+
variants side by side with one shared transport; the full view's tabs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QObject, QPoint, QPointF, Qt, Signal
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from studio.core.commands import StarVariant
from studio.core.space import Space
from studio.ui.details import AssetDetailsDialog, playback
from studio.ui.details.compare import CompareWidget
from tests.ui.test_details_kit import (
    Details,
    import_one,
    media_fixture,  # noqa: F401  (the media fixture)
)


class FakePlayer(QObject):
    """Stands in for Qt Multimedia where it is missing, to drive the real controls."""

    position_changed = Signal(int)
    duration_changed = Signal(int)
    playing_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, path: Path, video: object, parent: QObject | None) -> None:
        super().__init__(parent)
        self.path, self._pos, self._playing, self.closed = path, 0, False, False

    def play(self) -> None:
        self._playing = True
        self.playing_changed.emit(True)

    def pause(self) -> None:
        self._playing = False
        self.playing_changed.emit(False)

    def seek(self, ms: int) -> None:
        self._pos = ms
        self.position_changed.emit(ms)

    def position(self) -> int:
        return self._pos

    def duration(self) -> int:
        return 1500

    def is_playing(self) -> bool:
        return self._playing

    def close(self) -> None:
        self.closed = True


@pytest.fixture
def d(qtbot, space: Space) -> Iterator[Details]:  # type: ignore[no-untyped-def]
    details = Details(qtbot, space)
    yield details
    details.close()


@pytest.fixture
def fake_players(monkeypatch) -> list[FakePlayer]:  # type: ignore[no-untyped-def]
    made: list[FakePlayer] = []

    def create(path: Path, video: object = None, parent: QObject | None = None) -> FakePlayer:
        made.append(FakePlayer(path, video, parent))
        return made[-1]

    monkeypatch.setattr(playback, "create_player", create)
    monkeypatch.setattr(playback, "create_video_output", lambda parent=None: _video_stand_in())
    monkeypatch.setattr(playback, "multimedia_problem", lambda: None)
    monkeypatch.setattr(playback, "sound_problem", lambda: None)
    return made


def _video_stand_in():  # type: ignore[no-untyped-def]
    from PySide6.QtWidgets import QLabel

    return QLabel("video")


def test_image_viewer_zooms_and_pans(d: Details, space: Space, media: dict[str, Path]) -> None:
    aid, _ = import_one(space, media["castle"])
    w = d.show(aid)
    preview = w.core.preview
    assert preview.kind == "image" and preview.image_pane is not None
    pane = preview.image_pane
    viewer = pane.viewer
    assert viewer.image_size() == (800, 500) and pane.info.text() == "800×500"
    fitted = viewer.scale_factor()
    assert fitted < 1.0  # 800 px wide in a ~360 px dock: fitted down
    pane.buttons["in"].click()
    assert viewer.scale_factor() == pytest.approx(fitted * 1.25)
    viewer.zoom_in()
    viewer.zoom_in()
    h = viewer.horizontalScrollBar()
    assert h.maximum() > 0  # zoomed past the view: it pans
    start = h.value()
    h.setValue(start + 40)
    assert viewer.visible_centre()[0] > 0.5
    pane.buttons["actual"].click()
    assert viewer.scale_factor() == 1.0
    pane.buttons["fit"].click()
    assert viewer.scale_factor() == pytest.approx(fitted)

    # in the compact dock the wheel scrolls the panel; with Ctrl it zooms
    wheel = QWheelEvent(
        QPointF(50, 50), QPointF(50, 50), QPoint(0, 0), QPoint(0, 120),
        Qt.MouseButton.NoButton, Qt.KeyboardModifier.ControlModifier,
        Qt.ScrollPhase.NoScrollPhase, False,
    )  # fmt: skip
    QApplication.sendEvent(viewer.viewport(), wheel)
    assert viewer.scale_factor() == pytest.approx(fitted * 1.25)


@pytest.mark.parametrize("backend", ["as installed", "missing"])
def test_audio_shows_waveform_and_controls(
    d: Details, space: Space, media: dict[str, Path], backend: str, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    if backend == "missing":
        monkeypatch.setattr(playback, "multimedia_problem", lambda: "no backend in this test")
    aid, _ = import_one(space, media["chime"])
    w = d.show(aid)
    audio = w.core.preview.audio_player
    assert w.core.preview.kind == "audio" and audio is not None
    assert audio.waveform._picture is not None and audio.waveform.duration_ms == 1500
    assert audio.transport.play_button.property("playing") is False
    if audio.available:
        assert audio.transport.isEnabled()
        assert not audio.note.text().startswith("Playback is not available")
    else:  # no multimedia backend here: a clear note, the waveform stays
        assert audio.note.text().startswith("Playback is not available here: ")
        assert audio.note.isVisibleTo(w) and not audio.transport.isEnabled()
    if backend == "missing":
        assert audio.note.text().endswith("no backend in this test")


needs_backend = pytest.mark.skipif(
    playback.multimedia_problem() is not None, reason="Qt Multimedia is not available here"
)


@needs_backend
def test_real_audio_plays_and_seeks(
    d: Details, space: Space, media: dict[str, Path], qtbot
) -> None:  # type: ignore[no-untyped-def]
    aid, _ = import_one(space, media["chime"])
    w = d.show(aid)
    audio = w.core.preview.audio_player
    assert audio is not None and audio.available
    t = audio.transport
    qtbot.waitUntil(lambda: t.slider.maximum() == 1500, timeout=3000)
    t.play_button.click()
    qtbot.waitUntil(lambda: t.slider.value() > 100, timeout=3000)
    assert t.is_playing() and t.play_button.property("playing") is True
    assert audio.waveform.position_ms > 0
    t.play_button.click()
    qtbot.waitUntil(lambda: not t.is_playing(), timeout=3000)
    t.seek(1000)
    qtbot.waitUntil(lambda: abs(audio.player.position() - 1000) < 100, timeout=3000)  # type: ignore[union-attr]
    w.core.preview.close_media()


@needs_backend
def test_real_player_reports_a_broken_file(qtbot, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.details.media import VideoPlayerWidget

    broken = tmp_path / "broken.mp4"
    broken.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x13" * 4000)
    video = VideoPlayerWidget(broken, None, 2000)
    qtbot.addWidget(video)
    video.transport.play()
    qtbot.waitUntil(lambda: video.note.text().startswith("Playback is not available"), timeout=5000)
    assert video.showing_poster() and not video.available


def test_audio_controls_drive_the_player(
    d: Details, space: Space, media: dict[str, Path], fake_players: list[FakePlayer]
) -> None:
    aid, _ = import_one(space, media["chime"])
    w = d.show(aid)
    audio = w.core.preview.audio_player
    assert audio is not None and audio.available and len(fake_players) == 1
    player = fake_players[0]
    audio.transport.play_button.click()
    assert player.is_playing() and audio.transport.play_button.property("playing") is True
    audio.waveform.resize(300, 80)
    audio.waveform.mousePressEvent(_press(150, 40))
    assert player.position() == 750 and audio.transport.slider.value() == 750
    player.seek(1200)  # playback moves on: slider and playhead follow
    assert audio.transport.slider.value() == 1200 and audio.waveform.position_ms == 1200
    assert audio.transport.time.text() == "0:01 / 0:01"
    audio.transport.play_button.click()
    assert not player.is_playing()
    player.failed.emit("the file could not be decoded")
    assert audio.note.text() == "Playback is not available here: the file could not be decoded"
    assert player.closed and not audio.available


def _press(x: float, y: float):  # type: ignore[no-untyped-def]
    from PySide6.QtGui import QMouseEvent

    return QMouseEvent(
        QMouseEvent.Type.MouseButtonPress, QPointF(x, y), QPointF(x, y),
        Qt.MouseButton.LeftButton, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier,
    )  # fmt: skip


@pytest.mark.parametrize("backend", ["as installed", "missing"])
def test_video_plays_or_shows_poster_with_note(
    d: Details, space: Space, media: dict[str, Path], backend: str, monkeypatch, qtbot
) -> None:  # type: ignore[no-untyped-def]
    if "clip" not in media:
        pytest.skip("no video encoder")
    if backend == "missing":
        monkeypatch.setattr(playback, "multimedia_problem", lambda: "no backend in this test")
    aid, _ = import_one(space, media["clip"])
    w = d.show(aid)
    video = w.core.preview.video_player
    assert w.core.preview.kind == "video" and video is not None
    assert video.showing_poster() and video.poster.has_picture()  # until it plays
    if video.available:
        video.transport.play_button.click()
        qtbot.waitUntil(lambda: video.transport.slider.value() > 0, timeout=3000)
        assert not video.showing_poster()
    else:
        assert video.note.text().startswith("Playback is not available here: ")
        assert not video.transport.isEnabled()
        problem = playback.multimedia_problem()
        assert problem and problem in video.note.text()
    w.core.preview.close_media()


def test_compare_images_side_by_side_with_synced_zoom(
    qtbot, space: Space, media: dict[str, Path]
) -> None:  # type: ignore[no-untyped-def]
    aid, v1 = import_one(space, media["knight"])
    _, v2 = import_one(space, media["castle"], into=aid)
    cmp = CompareWidget()
    qtbot.addWidget(cmp)
    cmp.resize(900, 500)
    cmp.show()
    rows = space.variants_of(aid)
    cmp.set_variants(space.media_dir, rows[:1], "image")
    assert cmp.hint.isVisible() and not cmp.panes
    cmp.set_variants(space.media_dir, rows, "image", {v1: "#1", v2: "#2 ★"})
    QApplication.processEvents()
    assert len(cmp.panes) == 2 and not cmp.hint.isVisible()
    assert [p.caption.text() for p in cmp.panes] == ["#1", "#2 ★"]
    assert all(p.kind == "image" and p.image and p.image.viewer.has_image() for p in cmp.panes)
    assert not cmp.transport.isVisible()
    left, right = (p.image.viewer for p in cmp.panes if p.image)
    left.zoom_in()
    left.zoom_in()
    assert right.scale_factor() == pytest.approx(left.scale_factor())
    cmp.sync_zoom.setChecked(False)
    left.zoom_in()
    assert right.scale_factor() != pytest.approx(left.scale_factor())


def test_compare_audio_shares_one_transport(
    qtbot, space: Space, media: dict[str, Path], fake_players: list[FakePlayer]
) -> None:  # type: ignore[no-untyped-def]
    aid, _ = import_one(space, media["chime"])
    import_one(space, media["chime"], into=aid)
    cmp = CompareWidget()
    qtbot.addWidget(cmp)
    cmp.set_variants(space.media_dir, space.variants_of(aid), "audio")
    assert len(cmp.panes) == 2 and len(fake_players) == 2
    assert all(p.waveform is not None for p in cmp.panes)
    cmp.transport.play_button.click()
    assert all(p.is_playing() for p in fake_players)
    cmp.transport.seek(900)
    assert [p.position() for p in fake_players] == [900, 900]
    assert all(p.waveform and p.waveform.position_ms == 900 for p in cmp.panes)
    cmp.transport.toggle()
    assert not any(p.is_playing() for p in fake_players)
    cmp.set_variants(None, [], "audio")
    assert all(p.closed for p in fake_players)


@needs_backend
def test_compare_real_audio_players_stay_in_sync(
    qtbot, space: Space, media: dict[str, Path]
) -> None:  # type: ignore[no-untyped-def]
    aid, _ = import_one(space, media["chime"])
    import_one(space, media["chime"], into=aid)
    cmp = CompareWidget()
    qtbot.addWidget(cmp)
    cmp.show()
    cmp.set_variants(space.media_dir, space.variants_of(aid), "audio")
    players = [p.player for p in cmp.panes]
    assert all(players) and cmp.transport.isEnabled()
    qtbot.waitUntil(lambda: all(p.duration() == 1500 for p in players), timeout=3000)  # type: ignore[union-attr]
    cmp.transport.seek(700)
    qtbot.waitUntil(lambda: all(abs(p.position() - 700) < 100 for p in players), timeout=3000)  # type: ignore[union-attr]
    cmp.transport.play()
    qtbot.waitUntil(lambda: all(p.position() > 800 for p in players), timeout=3000)  # type: ignore[union-attr]
    cmp.transport.pause()
    qtbot.waitUntil(lambda: not any(p.is_playing() for p in players), timeout=3000)  # type: ignore[union-attr]
    a, b = (p.position() for p in players)  # type: ignore[union-attr]
    assert abs(a - b) < 250
    cmp.close_media()


def test_compare_audio_without_backend_keeps_waveforms(
    qtbot, space: Space, media: dict[str, Path], monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(playback, "multimedia_problem", lambda: "no backend in this test")
    aid, _ = import_one(space, media["chime"])
    import_one(space, media["chime"], into=aid)
    cmp = CompareWidget()
    qtbot.addWidget(cmp)
    cmp.show()
    cmp.set_variants(space.media_dir, space.variants_of(aid), "audio")
    assert len(cmp.panes) == 2 and all(p.player is None for p in cmp.panes)
    assert cmp.note.text() == "Playback is not available here: no backend in this test"
    assert cmp.transport.isVisible() and not cmp.transport.isEnabled()


def test_full_view_media_and_compare_tabs(d: Details, space: Space, media: dict[str, Path]) -> None:
    aid, v1 = import_one(space, media["knight"])
    _, v2 = import_one(space, media["castle"], into=aid)
    _, v3 = import_one(space, media["knight"], into=aid)
    w = d.show(aid)
    dialog = w.open_full_view()
    assert isinstance(dialog, AssetDetailsDialog)
    assert dialog.tabs.currentIndex() == 0 and dialog.core.preview.kind == "image"
    assert not dialog.core.preview.compact and dialog.core.grid.count() == 3
    assert dialog.windowTitle().startswith(space.asset(aid).name)

    w.core.grid.selectAll()
    w.core.variant_actions.trigger("compare")  # from the dock: opens a full view on Compare
    compare_view = w.dialogs[-1]
    assert isinstance(compare_view, AssetDetailsDialog)
    assert compare_view.tabs.currentIndex() == 1
    assert compare_view.ticked() == [v1, v2, v3] and len(compare_view.compare.panes) == 3
    compare_view.picker.item(2).setCheckState(Qt.CheckState.Unchecked)
    assert len(compare_view.compare.panes) == 2

    # events reach open full views: a star shows in the picker
    d.host.run([StarVariant(v2)], "Star")
    d.pump()
    assert "★" in compare_view.picker.item(1).text()
    for dlg in list(w.dialogs):
        dlg.reject()  # type: ignore[attr-defined]
    QApplication.processEvents()
    assert not w.dialogs
