"""The app's version and the versions it runs on, for ``studio --version``, Help ▸ About
and crash reports. Imports no Qt (that is ``studio.ui``'s): Qt's own version is read from
``PySide6.QtCore`` when something loaded it (the app, ``--version`` through
:func:`studio.ui.qt_loaded.load_qt`), the PySide6 version from the installed package
otherwise."""

from __future__ import annotations

import platform
import sys
from importlib import metadata

import studio


def version() -> str:
    """Forge Studio's version: the running code's own (``studio.__version__``), so a
    checkout, a wheel and the bundle all say what they are."""
    return studio.__version__


def qt_versions() -> tuple[str, str]:
    """(PySide6, Qt) versions; "not loaded" for Qt when nothing loaded it."""
    core = sys.modules.get("PySide6.QtCore")
    pyside = sys.modules.get("PySide6")
    qt = str(core.qVersion()) if core is not None else "not loaded"
    if pyside is not None:
        return (str(getattr(pyside, "__version__", "unknown")), qt)
    try:
        return (metadata.version("PySide6-Essentials"), qt)
    except metadata.PackageNotFoundError:
        return ("not installed", qt)


def versions() -> dict[str, str]:
    """Name → version of the app and what it runs on, in display order."""
    pyside, qt = qt_versions()
    frozen = " (bundle)" if getattr(sys, "frozen", False) else ""
    return {
        "Forge Studio": version() + frozen,
        "Python": platform.python_version(),
        "PySide6": pyside,
        "Qt": qt,
        "Platform": platform.platform(),
    }


def version_text() -> str:
    """``studio --version``: one line."""
    v = versions()
    return (
        f"Forge Studio {v['Forge Studio']} (Python {v['Python']}, PySide6 {v['PySide6']}, "
        f"Qt {v['Qt']})"
    )


__all__ = ["qt_versions", "version", "version_text", "versions"]
