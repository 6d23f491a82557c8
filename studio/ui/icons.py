"""Icons shipped in ``studio/resources/icons`` (SVG), never font glyphs: a glyph the user's font
lacks shows as an empty box (the pause button did)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

from PySide6.QtGui import QIcon

from studio.resources import icons_dir

ICONS_DIR = icons_dir()


def icon_path(name: str) -> Path:
    return ICONS_DIR / f"{name}.svg"


@cache
def icon(name: str) -> QIcon:
    """The shipped icon ``name`` (e.g. "play", "pause", "close")."""
    path = icon_path(name)
    if not path.is_file():
        raise FileNotFoundError(f"the icon {name!r} is not in {ICONS_DIR}")
    return QIcon(str(path))


def checkbox_style(object_name: str) -> str:
    """A style sheet for the tick boxes of the list widget named ``object_name``: a
    bright border and an accent fill with a shipped tick when checked (the default
    indicator is nearly invisible on the dark theme)."""
    tick = icon_path("check").as_posix()
    sel = f"QListWidget#{object_name}::indicator"
    return (
        f"{sel} {{ width: 18px; height: 18px; border: 2px solid #c8ccd4; border-radius: 3px;"
        " background: #1b1d22; }"
        f"{sel}:checked {{ background: #4c8dff; border-color: #4c8dff; image: url({tick}); }}"
        f"{sel}:hover {{ border-color: #ffffff; }}"
    )
