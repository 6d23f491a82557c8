"""The bundle's entry point: the same ``studio`` command as the installed one.

``freeze_support()`` comes first, before the app is imported: the import pool's
workers (``studio.media.pool``, forkserver) are started by re-running this program
with multiprocessing's own arguments (the fork server, the resource tracker, a spawned
worker); PyInstaller's multiprocessing runtime hook makes ``freeze_support`` run that
code and exit, instead of starting the app again (PyInstaller 6.22.3,
PyInstaller/hooks/rthooks/pyi_rth_multiprocessing.py; checked 2026-12-01).

``studio --check-playback FILE`` (the bundle only) plays FILE with Qt Multimedia as the
app's player does, with no window, and prints what it saw: whether this machine (and the
bundle's FFmpeg media plugin) can play sound and video. Exit 0 when it played.
"""

import multiprocessing
import sys

CHECK_PLAYBACK = "--check-playback"


def check_playback(path: str, timeout_s: float = 60.0) -> int:
    """Play ``path`` to its end (or ``timeout_s``) and print the decoded video frames
    and the position reached; 0 when the position moved (and, for a video, frames came),
    1 otherwise."""
    import os

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QElapsedTimer, QTimer, QUrl
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtMultimedia import QAudioOutput, QMediaPlayer, QVideoSink

    app = QCoreApplication.instance() or QGuiApplication([sys.argv[0]])
    player = QMediaPlayer()
    audio = QAudioOutput()
    audio.setVolume(0.0)
    player.setAudioOutput(audio)
    sink = QVideoSink()
    player.setVideoSink(sink)
    frames = [0]
    sink.videoFrameChanged.connect(lambda frame: frames.__setitem__(0, frames[0] + 1))
    reached = [0]  # the furthest position played, ms
    player.positionChanged.connect(lambda ms: reached.__setitem__(0, max(reached[0], ms)))
    errors: list[str] = []
    player.errorOccurred.connect(lambda _e, text: errors.append(text))
    player.mediaStatusChanged.connect(
        lambda status: app.quit() if status == QMediaPlayer.MediaStatus.EndOfMedia else None
    )
    player.errorOccurred.connect(lambda *_: app.quit())
    QTimer.singleShot(int(timeout_s * 1000), app.quit)
    clock = QElapsedTimer()
    clock.start()
    player.setSource(QUrl.fromLocalFile(os.path.abspath(path)))
    player.play()
    app.exec()
    status = player.mediaStatus().name
    player.stop()
    print(
        f"playback: {os.path.basename(path)}: {frames[0]} video frames, "
        f"{reached[0]} ms of {player.duration()} ms, status {status}, "
        f"video {player.hasVideo()}, audio {player.hasAudio()}, "
        f"{clock.elapsed()} ms" + (f", error: {errors[0]}" if errors else "")
    )
    played = not errors and reached[0] > 0 and (frames[0] > 0 or not player.hasVideo())
    return 0 if played else 1


if __name__ == "__main__":
    multiprocessing.freeze_support()  # a multiprocessing helper process ends here

    if len(sys.argv) == 3 and sys.argv[1] == CHECK_PLAYBACK:
        sys.exit(check_playback(sys.argv[2]))

    from studio.cli.main import main

    sys.exit(main())
