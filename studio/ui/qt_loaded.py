"""Load Qt's core module so :mod:`studio.appinfo` can report Qt's version (it imports no
Qt itself: ``studio --version`` asks for it here)."""

from __future__ import annotations


def load_qt() -> bool:
    """True when PySide6's QtCore is loaded (now or before)."""
    try:
        from PySide6 import QtCore  # noqa: F401
    except ImportError:
        return False
    return True


__all__ = ["load_qt"]
