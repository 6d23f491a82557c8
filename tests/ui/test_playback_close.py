"""Closing playing players never hangs.

Stopping a player makes Qt's FFmpeg backend tear down its renderers on their own thread,
and there ``~QObject`` asks the Python-made player and audio output about
``disconnectNotify``, which needs the GIL, while it holds a signal-slot lock. A ``stop()``
called straight from Python held the GIL and waited for that lock: a deadlock, seen in the
compare view's tests (py-spy: the main thread in ``stop()``, the renderer thread in
``Shiboken::GilState::acquire``). It ran in a child process here, so a hang ends in a
failure with every stack rather than in a stuck test run."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.ui.details import playback
from tests.media.conftest import write_wav

ROOT = Path(__file__).resolve().parents[2]

# three players at a time, as the compare view keeps them: play, then close while playing.
# Before the fix this hung within its first few rounds on 2 cores.
CLOSE_WHILE_PLAYING = r"""
import faulthandler, sys, time
from pathlib import Path
from PySide6.QtWidgets import QApplication
from studio.ui.details import playback

faulthandler.dump_traceback_later(float(sys.argv[3]), exit=True)
app = QApplication([])
wav, rounds = Path(sys.argv[1]), int(sys.argv[2])

def wait(check):
    end = time.monotonic() + 10
    while not check():
        assert time.monotonic() < end, "the players did not get there"
        app.processEvents()
        time.sleep(0.005)

for _ in range(rounds):
    players = [playback.create_player(wav) for _ in range(3)]
    wait(lambda: all(p.duration() > 0 for p in players))
    for p in players:
        p.seek(300)
        p.play()
    wait(lambda: all(p.position() > 400 for p in players))
    for p in players:
        p.close()
    wait(lambda: not any(p.is_playing() for p in players))
    for p in players:
        p.deleteLater()
    del players
    app.processEvents()
print("closed every round", flush=True)
"""


@pytest.mark.skipif(
    playback.multimedia_problem() is not None, reason="Qt Multimedia is not available here"
)
def test_closing_playing_players_again_and_again_never_hangs(tmp_path: Path) -> None:
    wav = tmp_path / "chime.wav"
    write_wav(wav, 1.5)
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    done = subprocess.run(
        [sys.executable, "-c", CLOSE_WHILE_PLAYING, str(wav), "20", "120"],
        env=env,
        capture_output=True,
        text=True,
        errors="backslashreplace",
        timeout=180,
    )
    assert "closed every round" in done.stdout, done.stderr[-6000:]
    assert done.returncode == 0, done.stderr[-6000:]
