"""In the PyInstaller bundle Qt's libraries sit in the bundle's own folder
(``sys._MEIPASS``), not under Qt's library path: the FFmpeg log quieting must find Qt's
``libavutil`` there too (else every played file dumps "Input #0, …" on the console)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from studio.ui import quiet


class _NoQtLibs:
    class LibraryPath:
        LibrariesPath = 0

    empty = ""

    @classmethod
    def path(cls, _which: object) -> str:
        return cls.empty


def test_qt_ffmpeg_is_found_in_the_bundle_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    qt_lib = tmp_path / "qt-lib"
    qt_lib.mkdir()
    bundle = tmp_path / "_internal"
    bundle.mkdir()
    (bundle / "libavutil.so.59").write_bytes(b"")
    (bundle / "libavutil-5809ad29.so.60.26.102").write_bytes(b"")  # PyAV's own: not Qt's
    _NoQtLibs.empty = str(qt_lib)
    monkeypatch.setattr(quiet, "QLibraryInfo", _NoQtLibs)
    assert quiet.qt_ffmpeg_avutil() is None  # not frozen: only Qt's library path counts
    monkeypatch.setattr(sys, "_MEIPASS", str(bundle), raising=False)
    assert quiet.qt_ffmpeg_avutil() == bundle / "libavutil.so.59"
