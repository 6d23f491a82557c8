"""Playing audio and video with Qt Multimedia, when it is there.

Qt Multimedia needs system libraries (PulseAudio/PipeWire client, GStreamer or FFmpeg
backend) that a machine may lack; then ``import PySide6.QtMultimedia`` itself fails.
:func:`multimedia_problem` says why playback is impossible (or None), and
:func:`create_player` raises :class:`PlaybackUnavailable` with that reason, so views show
the poster or waveform and a clear note instead of failing.

:class:`Player` wraps one ``QMediaPlayer``; :class:`TransportBar` is one play/pause
button, seek slider and clock driving one or more players together (the compare view
keeps several in sync with it). Anything with Player's signals and methods
(:class:`PlayerLike`) can be driven, which is how tests exercise the controls.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import Q_ARG, QMetaObject, QObject, Qt, QUrl, Signal, SignalInstance
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSlider, QToolButton, QWidget

from studio.ui.icons import icon

NOTE_PREFIX = "Playback is not available here: "


class PlaybackUnavailable(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def multimedia_problem() -> str | None:
    """Why Qt Multimedia can't play here, or None if it can (checked once)."""
    try:
        from PySide6 import QtMultimedia, QtMultimediaWidgets  # noqa: F401
    except ImportError as exc:
        return f"Qt Multimedia could not be loaded ({exc})"
    return None


def sound_problem() -> str | None:
    """Why playback will be silent (no sound output device), or None."""
    if multimedia_problem() is not None:
        return None
    try:
        from PySide6.QtMultimedia import QMediaDevices
    except ImportError:
        return None
    if not QMediaDevices.audioOutputs():
        return "no sound output device was found, so playback is silent"
    return None


class PlayerLike(Protocol):
    position_changed: SignalInstance  # ms
    duration_changed: SignalInstance  # ms
    playing_changed: SignalInstance  # bool
    failed: SignalInstance  # reason

    def play(self) -> None: ...
    def pause(self) -> None: ...
    def seek(self, ms: int) -> None: ...
    def position(self) -> int: ...
    def duration(self) -> int: ...
    def is_playing(self) -> bool: ...
    def close(self) -> None: ...


class Player(QObject):
    """One ``QMediaPlayer`` (with an audio output, and a video output if given)."""

    position_changed = Signal(int)
    duration_changed = Signal(int)
    playing_changed = Signal(bool)
    failed = Signal(str)

    def __init__(self, path: Path, video_output: QWidget | None, parent: QObject | None) -> None:
        super().__init__(parent)
        from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer

        self._states = QMediaPlayer.PlaybackState
        self._player = QMediaPlayer(self)
        if not self._player.isAvailable():
            raise PlaybackUnavailable("no multimedia backend is installed")
        self._audio = QAudioOutput(self)
        self._player.setAudioOutput(self._audio)
        if video_output is not None:
            self._player.setVideoOutput(video_output)
        self._player.positionChanged.connect(lambda ms: self.position_changed.emit(int(ms)))
        self._player.durationChanged.connect(lambda ms: self.duration_changed.emit(int(ms)))
        self._player.playbackStateChanged.connect(
            lambda st: self.playing_changed.emit(st == self._states.PlayingState)
        )
        self._player.errorOccurred.connect(self._on_error)
        self._player.setSource(QUrl.fromLocalFile(str(path)))

    def _on_error(self, error: Any, message: str) -> None:
        from PySide6.QtMultimedia import QMediaPlayer

        if error != QMediaPlayer.Error.NoError:
            self.failed.emit(message or "the file could not be played")

    def play(self) -> None:
        self._player.play()

    def pause(self) -> None:
        self._player.pause()

    def seek(self, ms: int) -> None:
        self._player.setPosition(int(ms))

    def position(self) -> int:
        return int(self._player.position())

    def duration(self) -> int:
        return int(self._player.duration())

    def is_playing(self) -> bool:
        return bool(self._player.playbackState() == self._states.PlayingState)

    def close(self) -> None:
        # Stopping tears down the FFmpeg backend's renderers on their own thread, and
        # ~QObject there asks our Python-made QAudioOutput/QMediaPlayer wrappers about
        # disconnectNotify: that needs the GIL while it holds a signal-slot lock. Called
        # from Python, stop() holds the GIL and waits for that very lock: a deadlock
        # (py-spy). Queued, both calls run from the event loop, which holds no GIL.
        # Only what plays is stopped: stopping a loaded, never-started player hung too.
        queued = Qt.ConnectionType.QueuedConnection
        if self._player.playbackState() != self._states.StoppedState:
            QMetaObject.invokeMethod(self._player, "stop", queued)
        QMetaObject.invokeMethod(self._player, "setSource", queued, Q_ARG(QUrl, QUrl()))


def create_player(
    path: Path, video_output: QWidget | None = None, parent: QObject | None = None
) -> PlayerLike:
    """A player for ``path``; raises :class:`PlaybackUnavailable` with the reason."""
    problem = multimedia_problem()
    if problem is not None:
        raise PlaybackUnavailable(problem)
    return Player(path, video_output, parent)


def create_video_output(parent: QWidget | None = None) -> QWidget:
    """A ``QVideoWidget`` (only call when :func:`multimedia_problem` is None)."""
    from PySide6.QtMultimediaWidgets import QVideoWidget

    return QVideoWidget(parent)


def clock(ms: int) -> str:
    s = max(0, int(ms)) // 1000
    return f"{s // 60}:{s % 60:02d}"


class TransportBar(QWidget):
    """Play/pause, a seek slider and a clock, driving every attached player at once:
    play and pause go to all, a seek moves all, and the first player's position moves
    the slider. ``seeked(ms)`` is emitted when the user seeks (waveforms follow it)."""

    seeked = Signal(int)
    position_changed = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.players: list[PlayerLike] = []
        self.play_button = QToolButton()
        self.play_button.setIcon(icon("play"))
        self.play_button.setProperty("playing", False)
        self.play_button.setToolTip("Play / pause (Space)")
        self.play_button.setFixedWidth(34)
        self.play_button.clicked.connect(self.toggle)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.sliderMoved.connect(self.seek)
        self.slider.sliderReleased.connect(lambda: self.seek(self.slider.value()))
        self.slider.setToolTip("Seek")
        self.time = QLabel("0:00 / 0:00")
        self.time.setMinimumWidth(84)
        self.time.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.play_button)
        row.addWidget(self.slider, 1)
        row.addWidget(self.time)
        self._duration = 0
        self._playing = False

    def attach(self, players: Sequence[PlayerLike], duration_hint_ms: int = 0) -> None:
        self.players = list(players)
        self._duration = duration_hint_ms
        for p in self.players:
            p.duration_changed.connect(self._on_duration)
            p.playing_changed.connect(self._on_playing)
            self._duration = max(self._duration, p.duration())
        if self.players:
            self.players[0].position_changed.connect(self._on_position)
        self.slider.setRange(0, self._duration)
        self._show_time(0)
        self.setEnabled(bool(self.players))

    def is_playing(self) -> bool:
        return self._playing

    def toggle(self) -> None:
        if self._playing:
            self.pause()
        else:
            self.play()

    def play(self) -> None:
        for p in self.players:
            p.play()

    def pause(self) -> None:
        for p in self.players:
            p.pause()

    def seek(self, ms: int) -> None:
        for p in self.players:
            p.seek(ms)
        self.slider.setValue(ms)
        self._show_time(ms)
        self.seeked.emit(ms)

    def _on_duration(self, ms: int) -> None:
        self._duration = max(self._duration, ms)
        self.slider.setRange(0, self._duration)
        self._show_time(self.slider.value())

    def _on_position(self, ms: int) -> None:
        if not self.slider.isSliderDown():
            self.slider.setValue(ms)
        self._show_time(ms)
        self.position_changed.emit(ms)

    def _on_playing(self, playing: bool) -> None:
        self._playing = any(p.is_playing() for p in self.players) if self.players else playing
        self.play_button.setIcon(icon("pause" if self._playing else "play"))
        self.play_button.setProperty("playing", self._playing)

    def _show_time(self, ms: int) -> None:
        self.time.setText(f"{clock(ms)} / {clock(self._duration)}")

    def close_players(self) -> None:
        for p in self.players:
            p.close()
        self.players = []
