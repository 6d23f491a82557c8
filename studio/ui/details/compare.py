"""Two or more variants side by side. Images zoom and pan together (while "Sync zoom"
is ticked); audio and video share one play/pause/seek control that drives every
player at once. Without a multimedia backend the posters and waveforms stay, with a
note."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from studio.store.records import VariantRow
from studio.ui.details import playback
from studio.ui.details.image_viewer import ImagePane
from studio.ui.details.media import (
    NOTE_STYLE,
    QUIET_NOTE_STYLE,
    ScaledPicture,
    WaveformWidget,
    load_picture,
    media_kind_of,
)


class ComparePane(QWidget):
    """One variant in the comparison: a caption over its media (no controls of its own
    for audio/video: the shared transport drives it)."""

    def __init__(self, media_dir: Path, row: VariantRow, kind: str, caption: str) -> None:
        super().__init__()
        self.row = row
        self.kind = media_kind_of(row, kind) if row.status == "completed" else "placeholder"
        self.player: playback.PlayerLike | None = None
        self.problem = ""
        self.image: ImagePane | None = None
        self.waveform: WaveformWidget | None = None
        self.caption = QLabel(caption)
        self.caption.setStyleSheet("font-weight: 600; padding: 2px;")
        self.caption.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(2, 2, 2, 2)
        layout.setSpacing(2)
        layout.addWidget(self.caption)
        path = media_dir / row.media_path if row.media_path else None
        if self.kind == "image":
            self.image = ImagePane()
            self.image.set_image(path)
            layout.addWidget(self.image, 1)
        elif self.kind == "audio" and path is not None:
            wave = load_picture(media_dir / row.thumb_path) if row.thumb_path else None
            self.waveform = WaveformWidget(wave, row.duration_ms or 0)
            layout.addWidget(self.waveform, 1)
            self._start(path, None)
        elif self.kind == "video" and path is not None:
            rel = row.poster_path or row.thumb_path
            poster = ScaledPicture(load_picture(media_dir / rel) if rel else None, "No poster")
            self.pages = QStackedWidget()
            self.pages.addWidget(poster)
            video = None
            if playback.multimedia_problem() is None:
                video = playback.create_video_output()
                self.pages.addWidget(video)
            layout.addWidget(self.pages, 1)
            self._start(path, video)
            if self.player is not None and video is not None:  # the poster until it plays
                shown = video
                self.player.playing_changed.connect(
                    lambda on: on and self.pages.setCurrentWidget(shown)
                )
        else:
            status = row.status if row.status != "failed" else f"failed: {row.error_message}"
            layout.addWidget(ScaledPicture(None, f"Not ready ({status})"), 1)

    def _start(self, path: Path, video: QWidget | None) -> None:
        try:
            self.player = playback.create_player(path, video, self)
        except playback.PlaybackUnavailable as exc:
            self.problem = exc.reason

    def close_media(self) -> None:
        if self.player is not None:
            self.player.close()
            self.player = None


class CompareWidget(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.panes: list[ComparePane] = []
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(6)
        self.hint = QLabel("Tick two or more variants to compare them side by side.")
        self.hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint.setStyleSheet("color: #9aa3b2; font-size: 13px;")
        self.transport = playback.TransportBar()
        self.sync_zoom = QCheckBox("Sync zoom and pan")
        self.sync_zoom.setChecked(True)
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(NOTE_STYLE)
        self.bottom = QHBoxLayout()
        self.bottom.addWidget(self.transport, 1)
        self.bottom.addWidget(self.sync_zoom)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.hint)
        layout.addWidget(self.grid_host, 1)
        layout.addLayout(self.bottom)
        layout.addWidget(self.note)
        self._syncing = False
        self.set_variants(None, [], "image")

    def set_variants(
        self,
        media_dir: Path | None,
        rows: Sequence[VariantRow],
        kind: str,
        captions: Mapping[str, str] | None = None,
    ) -> None:
        self.close_media()
        for pane in self.panes:
            self.grid.removeWidget(pane)
            pane.hide()
            pane.deleteLater()
        self.panes = []
        enough = media_dir is not None and len(rows) >= 2
        self.hint.setVisible(not enough)
        self.grid_host.setVisible(enough)
        if not enough:
            self.transport.hide()
            self.sync_zoom.hide()
            self.note.hide()
            return
        assert media_dir is not None
        if all(media_kind_of(r, kind) == "audio" for r in rows):
            cols = 1  # waveforms stacked: one time axis, easy to compare by eye
        else:
            cols = len(rows) if len(rows) <= 3 else (2 if len(rows) == 4 else 3)
        for i, row in enumerate(rows):
            caption = (captions or {}).get(row.id, f"#{i + 1}")
            pane = ComparePane(media_dir, row, kind, caption)
            self.grid.addWidget(pane, i // cols, i % cols)
            self.panes.append(pane)
            if pane.image is not None:
                pane.image.viewer.view_changed.connect(
                    lambda s, fx, fy, src=pane: self._mirror(src, s, fx, fy)
                )
        for r in range(math.ceil(len(rows) / cols)):
            self.grid.setRowStretch(r, 1)
        for c in range(cols):
            self.grid.setColumnStretch(c, 1)
        self._wire_playback()
        self.sync_zoom.setVisible(any(p.image is not None for p in self.panes))

    def _wire_playback(self) -> None:
        # a fresh transport: the old one stays wired to the players just closed
        old = self.transport
        self.transport = playback.TransportBar()
        self.bottom.replaceWidget(old, self.transport)
        old.deleteLater()
        timed = [p for p in self.panes if p.kind in ("audio", "video")]
        players = [p.player for p in timed if p.player is not None]
        problems = sorted({p.problem for p in timed if p.problem})
        longest = max((p.row.duration_ms or 0 for p in timed), default=0)
        self.transport.attach(players, longest)
        self.transport.setVisible(bool(timed))
        self.transport.setEnabled(bool(players))
        for p in timed:
            if p.waveform is not None:
                self.transport.position_changed.connect(p.waveform.set_position)
                self.transport.seeked.connect(p.waveform.set_position)
                p.waveform.seek_requested.connect(self.transport.seek)
            if p.player is not None:
                p.player.failed.connect(self._player_failed)
        silent = playback.sound_problem() if players else None
        if problems:
            self.note.setText(playback.NOTE_PREFIX + "; ".join(problems))
            self.note.setStyleSheet(NOTE_STYLE)
        elif silent:
            self.note.setText(f"Note: {silent}.")
            self.note.setStyleSheet(QUIET_NOTE_STYLE)
        self.note.setVisible(bool(problems or silent))

    def _player_failed(self, reason: str) -> None:
        self.note.setText(playback.NOTE_PREFIX + reason)
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.show()

    def _mirror(self, source: ComparePane, scale: float, fx: float, fy: float) -> None:
        if self._syncing or not self.sync_zoom.isChecked():
            return
        self._syncing = True
        try:
            for pane in self.panes:
                if pane is not source and pane.image is not None:
                    pane.image.viewer.sync_view(scale, fx, fy)
        finally:
            self._syncing = False

    def close_media(self) -> None:
        self.transport.pause()
        for pane in self.panes:
            pane.close_media()
