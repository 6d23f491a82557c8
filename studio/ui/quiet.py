"""Keep the console for what matters: Qt Multimedia's start-up chatter (optional
libraries it probed for, the FFmpeg version) and FFmpeg's per-file "Input #0, …" dump
when a player opens a file are switched off; warnings and errors still show.

FFmpeg logs through its own ``av_log`` (not Qt's logging), at INFO level by default, so
the level is lowered in the copy of ``libavutil`` that ships with Qt (PyAV bundles a
separate one and is left alone). Set ``FORGE_STUDIO_VERBOSE_MEDIA=1`` to keep it all."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QLibraryInfo, QLoggingCategory

if TYPE_CHECKING:
    import ctypes

log = logging.getLogger(__name__)

AV_LOG_WARNING = 24
QT_RULES = (
    "qt.multimedia.symbolsresolver.warning=false\n"
    "qt.multimedia.symbolsresolver.info=false\n"
    "qt.multimedia.ffmpeg.info=false\n"
)


def qt_ffmpeg_avutil() -> Path | None:
    """The ``libavutil`` Qt Multimedia's FFmpeg backend uses, if Qt ships one."""
    lib = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.LibrariesPath))
    folders = [lib]
    bundle = getattr(sys, "_MEIPASS", None)  # the PyInstaller bundle keeps Qt's libraries there
    if bundle is not None:
        folders.append(Path(bundle))
    for folder in folders:
        found = sorted(folder.glob("libavutil.so.*")) or sorted(folder.glob("avutil-*.dll"))
        if found:
            return found[0]
    return None


def _open_avutil(path: Path) -> ctypes.CDLL:
    """Qt's ``libavutil`` (already loaded once a player exists; before that its
    OpenSSL symbols must be there first, as Qt's plugin loads them)."""
    import ctypes
    import ctypes.util

    try:
        return ctypes.CDLL(str(path))
    except OSError:
        ctypes.CDLL(ctypes.util.find_library("crypto") or "libcrypto.so.3", mode=ctypes.RTLD_GLOBAL)
        return ctypes.CDLL(str(path))


def quiet_media_logs() -> bool:
    """Apply the rules above; True when FFmpeg's level was lowered."""
    quiet_qt_logs()
    return quiet_ffmpeg_log()


def quiet_qt_logs() -> None:
    """Qt's part (its logging rules), before anything of Qt Multimedia loads."""
    if os.environ.get("FORGE_STUDIO_VERBOSE_MEDIA") != "1":
        QLoggingCategory.setFilterRules(QT_RULES)


def quiet_ffmpeg_log() -> bool:
    """FFmpeg's part: loading Qt's ``libavutil`` (and OpenSSL) takes a first frame's
    while, so the app does it after its first frame, before a player opens a file.
    True when the level was lowered."""
    if os.environ.get("FORGE_STUDIO_VERBOSE_MEDIA") == "1":
        return False
    path = qt_ffmpeg_avutil()
    if path is None:
        return False
    import ctypes  # (with the library it loads: after the first frame)

    try:
        avutil = _open_avutil(path)
        avutil.av_log_set_level(ctypes.c_int(AV_LOG_WARNING))
    except (OSError, AttributeError) as exc:
        log.debug("could not quiet FFmpeg's log: %s", exc)
        return False
    return True


def ffmpeg_log_level() -> int | None:
    """Qt's FFmpeg log level now (tests)."""
    path = qt_ffmpeg_avutil()
    if path is None:
        return None
    return int(_open_avutil(path).av_log_get_level())
