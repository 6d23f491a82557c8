"""The app's version and the versions it runs on, for ``studio --version``, Help ▸ About
and crash reports. Imports nothing heavy: Qt's versions are read only when asked for."""

from __future__ import annotations

import platform
import sys

import studio


def version() -> str:
    """Forge Studio's version: the running code's own (``studio.__version__``), so a
    checkout, a wheel and the bundle all say what they are."""
    return studio.__version__


def qt_versions() -> tuple[str, str]:
    """(PySide6, Qt) versions, or ("not installed", "not installed")."""
    try:
        import PySide6
        from PySide6 import QtCore
    except ImportError:
        return ("not installed", "not installed")
    return (str(PySide6.__version__), str(QtCore.qVersion()))


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
