"""Files the app ships (the app icon, the UI's SVG icons), found through
``importlib.resources`` so they are there however Forge Studio is installed: a checkout,
a wheel or ``pipx install``, or the PyInstaller bundle. Never a path relative to the
checkout.
"""

from __future__ import annotations

import atexit
from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path

APP_ICON = "forge-studio.svg"
"""The app's icon (scalable); the installer renders the PNG sizes from it."""

_extracted = ExitStack()  # resources copied out of a zip import, removed at exit
atexit.register(_extracted.close)


def resource_path(*parts: str) -> Path:
    """The file of the shipped resource ``parts`` (e.g. ``("icons", "play.svg")``), as a
    real path Qt can open. A resource inside a zip import is copied out once."""
    ref = files(__name__).joinpath(*parts)
    if isinstance(ref, Path):
        return ref
    return _extracted.enter_context(as_file(ref))


def app_icon_path() -> Path:
    return resource_path(APP_ICON)


def icons_dir() -> Path:
    return resource_path("icons")


__all__ = ["APP_ICON", "app_icon_path", "icons_dir", "resource_path"]
