"""The media of one variant, large or compact: images zoom and pan, audio plays over its
waveform with a seek slider, video plays with controls. Without a multimedia backend
the poster (or waveform) stays, with a note saying why playback is not available.

:class:`MediaPreview` picks the right widget for a variant and shows what is going on
for unfinished ones (queued, generating with progress, failed with the reason).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap, QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStackedWidget, QVBoxLayout, QWidget

from studio.store.records import VariantRow
from studio.ui.details import playback, remote_media
from studio.ui.details.image_viewer import ImagePane
from studio.ui.details.thumbs import read_image

NOTE_STYLE = "color: #e0b35a; padding: 2px 0;"
QUIET_NOTE_STYLE = "color: #8a93a3; padding: 2px 0;"
COMPACT_PICTURE_H = 220
COMPACT_WAVEFORM_H = 120


def media_kind_of(row: VariantRow, fallback: str) -> str:
    mime = row.mime or ""
    for kind in ("image", "audio", "video"):
        if mime.startswith(kind + "/"):
            return kind
    return fallback


def load_picture(path: Path | None) -> QPixmap | None:
    if path is None:
        return None
    image = read_image(path, 1920)
    return None if image.isNull() else QPixmap.fromImage(image)


class ScaledPicture(QLabel):
    """A picture that keeps fitting its widget as it is resized (posters, placeholders)."""

    activated = Signal()

    def __init__(self, pixmap: QPixmap | None = None, text: str = "") -> None:
        super().__init__()
        self.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumSize(80, 60)
        self.setWordWrap(True)
        self.setStyleSheet("background: #15171c; color: #9aa3b2;")
        self._source = pixmap
        if pixmap is None:
            self.setText(text)
        self._rescale()

    def has_picture(self) -> bool:
        return self._source is not None

    def _rescale(self) -> None:
        if self._source is None or self.width() < 2 or self.height() < 2:
            return
        self.setPixmap(
            self._source.scaled(
                self.size(),
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._rescale()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.activated.emit()


class WaveformWidget(QWidget):
    """The variant's waveform picture with a playhead; click or drag to seek."""

    seek_requested = Signal(int)
    activated = Signal()

    def __init__(self, picture: QPixmap | None, duration_ms: int) -> None:
        super().__init__()
        self._picture = picture
        self.duration_ms = max(0, duration_ms)
        self.position_ms = 0
        self.setMinimumHeight(60)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip("Click to seek")

    def sizeHint(self) -> QSize:
        return QSize(320, 120)

    def set_position(self, ms: int) -> None:
        self.position_ms = ms
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        p = QPainter(self)
        p.fillRect(self.rect(), QColor("#15171c"))
        if self._picture is not None:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
            p.drawPixmap(QRectF(self.rect()), self._picture, QRectF(self._picture.rect()))
        else:
            p.setPen(QColor("#7d8594"))
            p.drawText(self.rect(), Qt.AlignmentFlag.AlignCenter, "No waveform")
        if self.duration_ms > 0:
            x = self.width() * min(1.0, self.position_ms / self.duration_ms)
            p.fillRect(QRectF(0, 0, x, self.height()), QColor(58, 123, 213, 40))
            p.setPen(QPen(QColor("#3a7bd5"), 2))
            p.drawLine(int(x), 0, int(x), self.height())
        p.end()

    def _seek_to(self, x: float) -> None:
        if self.duration_ms > 0 and self.width() > 0:
            ms = int(self.duration_ms * min(1.0, max(0.0, x / self.width())))
            self.set_position(ms)
            self.seek_requested.emit(ms)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            self._seek_to(event.position().x())

    def mouseMoveEvent(self, event: QMouseEvent) -> None:
        if event.buttons() & Qt.MouseButton.LeftButton:
            self._seek_to(event.position().x())

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.activated.emit()


class _PlayerWidget(QWidget):
    """What audio and video share: a transport bar and a note when playback fails."""

    def __init__(self) -> None:
        super().__init__()
        self.transport = playback.TransportBar()
        self.note = QLabel("")
        self.note.setWordWrap(True)
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.hide()
        self.player: playback.PlayerLike | None = None

    @property
    def available(self) -> bool:
        return self.player is not None

    def _start(self, path: Path, duration_ms: int, video_output: QWidget | None) -> None:
        try:
            self.player = playback.create_player(path, video_output, self)
        except playback.PlaybackUnavailable as exc:
            self._unavailable(exc.reason)
            return
        self.player.failed.connect(self._unavailable)
        self.transport.attach([self.player], duration_ms)
        silent = playback.sound_problem()
        if silent:
            self.note.setText(f"Note: {silent}.")
            self.note.setStyleSheet(QUIET_NOTE_STYLE)
            self.note.show()

    def _unavailable(self, reason: str) -> None:
        if self.player is not None:
            self.player.close()
            self.player = None
        self.transport.attach([], 0)
        self.transport.setEnabled(False)
        self.note.setText(playback.NOTE_PREFIX + reason)
        self.note.setStyleSheet(NOTE_STYLE)
        self.note.show()

    def close_media(self) -> None:
        self.transport.close_players()
        self.player = None


class AudioPlayerWidget(_PlayerWidget):
    activated = Signal()

    def __init__(self, path: Path, waveform: Path | None, duration_ms: int) -> None:
        super().__init__()
        self.waveform = WaveformWidget(load_picture(waveform), duration_ms)
        self.waveform.activated.connect(self.activated)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.waveform, 1)
        layout.addWidget(self.transport)
        layout.addWidget(self.note)
        self.waveform.seek_requested.connect(self.transport.seek)
        self.transport.position_changed.connect(self.waveform.set_position)
        self.transport.seeked.connect(self.waveform.set_position)
        self._start(path, duration_ms, None)


class VideoPlayerWidget(_PlayerWidget):
    activated = Signal()

    def __init__(self, path: Path, poster: Path | None, duration_ms: int) -> None:
        super().__init__()
        self.pages = QStackedWidget()
        self.poster = ScaledPicture(load_picture(poster), "No poster")
        self.poster.activated.connect(self.activated)
        self.pages.addWidget(self.poster)
        self.video: QWidget | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.pages, 1)
        layout.addWidget(self.transport)
        layout.addWidget(self.note)
        if playback.multimedia_problem() is None:
            self.video = playback.create_video_output()
            self.video.setMinimumSize(80, 60)
            self.pages.addWidget(self.video)
        self._start(path, duration_ms, self.video)
        if self.player is not None:  # the poster until it plays (or seeks)
            self.player.playing_changed.connect(self._show_video)
            self.transport.seeked.connect(lambda _ms: self._show_video(True))

    def _show_video(self, playing: bool) -> None:
        if playing and self.player is not None and self.video is not None:
            self.pages.setCurrentWidget(self.video)

    def showing_poster(self) -> bool:
        return self.pages.currentWidget() is self.poster

    def _unavailable(self, reason: str) -> None:
        super()._unavailable(reason)
        self.pages.setCurrentWidget(self.poster)


STATUS_TEXT = {
    "pending": "Waiting in the queue…",
    "processing": "Generating…",
    "uploading": "Importing…",
}


class MediaPreview(QWidget):
    """The media of one variant. ``activated`` on double-click (open the full view)."""

    activated = Signal()

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.compact = compact
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.content: QWidget | None = None
        self.kind = "empty"
        self._empty_text = ""
        self._key: tuple[object, ...] | None = None
        self._row: VariantRow | None = None
        self._progress: float | None = None
        self.fetch_missing: Callable[[str, Callable[[], None]], bool] | None = None
        """For a joined space: start fetching a variant's original from the host, call
        the function given when it is here; False when it cannot."""
        self.host_offline = False  # that host is out of reach (see remote_media)
        self.clear("No media")

    # ------------------------------------------------------------------ public
    def show_variant(self, media_dir: Path | None, row: VariantRow | None, kind: str) -> None:
        """Show ``row``'s media (unchanged media are not reloaded, so playback goes on
        while the variant is starred or rated)."""
        if media_dir is None or row is None:
            self.clear("No variant")
            return
        key = (row.id, row.status, row.media_path, row.thumb_path, row.poster_path)
        if key == self._key:
            self._row = row
            return
        self._row = row
        if row.status != "completed" or not row.media_path:
            self._placeholder(media_dir, row)
        elif remote_media.fetching(self, media_dir, row, kind):
            return  # a joined space's original, on its way from the host
        else:
            self._show_media(media_dir, row, media_kind_of(row, kind))
        self._key = key

    def set_progress(self, variant_id: str, progress: float) -> None:
        if self._row is not None and self._row.id == variant_id and self.kind == "placeholder":
            self._progress = progress
            self._status_label.setText(self._status_text(self._row))

    def clear(self, message: str = "") -> None:
        self._key = None
        self._row = None
        if self.kind == "empty" and self.content is not None and self._empty_text == message:
            return  # already showing it (a space switch clears an empty panel again)
        self._empty_text = message
        empty = ScaledPicture(None, message)
        if self.compact:
            empty.setFixedHeight(COMPACT_PICTURE_H)
        self._set_content(empty, "empty")

    def close_media(self) -> None:
        if self.content is not None and hasattr(self.content, "close_media"):
            self.content.close_media()

    @property
    def image_pane(self) -> ImagePane | None:
        return self.content if isinstance(self.content, ImagePane) else None

    @property
    def audio_player(self) -> AudioPlayerWidget | None:
        return self.content if isinstance(self.content, AudioPlayerWidget) else None

    @property
    def video_player(self) -> VideoPlayerWidget | None:
        return self.content if isinstance(self.content, VideoPlayerWidget) else None

    # ------------------------------------------------------------------ building
    def _set_content(self, widget: QWidget, kind: str) -> None:
        self.close_media()
        old = self.content
        if old is not None:  # gone now, not at the next turn of the event loop
            self._layout.removeWidget(old)
            old.hide()
            old.deleteLater()
        self.content = widget
        self.kind = kind
        self._layout.addWidget(widget)

    def _show_media(self, media_dir: Path, row: VariantRow, kind: str) -> None:
        """In the compact (dock) form the picture part gets a fixed height, so controls
        and notes below it always show and the panel is as tall as its content."""
        path = media_dir / str(row.media_path)
        duration = row.duration_ms or 0
        if kind == "image":
            pane = ImagePane(compact=self.compact)
            pane.viewer.activated.connect(self.activated)
            if self.compact:
                pane.viewer.setFixedHeight(COMPACT_PICTURE_H)
            self._set_content(pane, "image")
            pane.set_image(path)
        elif kind == "audio":
            waveform = media_dir / row.thumb_path if row.thumb_path else None
            audio = AudioPlayerWidget(path, waveform, duration)
            audio.activated.connect(self.activated)
            if self.compact:
                audio.waveform.setFixedHeight(COMPACT_WAVEFORM_H)
            self._set_content(audio, "audio")
        else:
            rel = row.poster_path or row.thumb_path
            video = VideoPlayerWidget(path, media_dir / rel if rel else None, duration)
            video.activated.connect(self.activated)
            if self.compact:
                video.pages.setFixedHeight(COMPACT_PICTURE_H)
            self._set_content(video, "video")

    def _placeholder(self, media_dir: Path, row: VariantRow) -> None:
        self._progress = None
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        rel = row.poster_path or row.thumb_path
        picture = ScaledPicture(load_picture(media_dir / rel) if rel else None, "")
        picture.activated.connect(self.activated)
        self._status_label = QLabel(self._status_text(row))
        self._status_label.setWordWrap(True)
        self._status_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        failed = row.status == "failed"
        colour = "#e06c6c" if failed else "#9aa3b2"
        self._status_label.setStyleSheet(f"color: {colour}; font-size: 13px; padding: 6px;")
        if picture.has_picture():
            layout.addWidget(picture, 1)
            layout.addWidget(self._status_label)
        else:
            layout.addStretch(1)
            layout.addWidget(self._status_label)
            layout.addStretch(1)
            box.setStyleSheet("background: #15171c;")
        if self.compact:
            box.setFixedHeight(COMPACT_PICTURE_H)
        self._set_content(box, "placeholder")

    def _status_text(self, row: VariantRow) -> str:
        if row.status == "failed":
            return f"Failed: {row.error_message or row.error_code or 'unknown error'}"
        text = STATUS_TEXT.get(row.status, row.status)
        if row.status == "processing" and self._progress is not None:
            text = f"Generating… {self._progress * 100:.0f}%"
        return text

    def status_text(self) -> str:
        return self._status_label.text() if self.kind == "placeholder" else ""
