"""Icons shipped in ``resources/icons`` (SVG), never font glyphs: a glyph the user's font
lacks shows as an empty box (the pause button did)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

ICONS_DIR = Path(__file__).resolve().parents[2] / "resources" / "icons"


def icon_path(name: str) -> Path:
    return ICONS_DIR / f"{name}.svg"


@cache
def icon(name: str) -> QIcon:
    """The shipped icon ``name`` (e.g. "play", "pause", "close")."""
    path = icon_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"the icon {name!r} is not in {ICONS_DIR}")
    return QIcon(str(path))
