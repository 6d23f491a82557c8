"""The app's files are found inside the ``studio`` package (``importlib.resources``), so
a wheel, ``pipx install`` and the bundle carry them — never beside the checkout."""

from __future__ import annotations

from pathlib import Path

import studio
from studio.resources import app_icon_path, resource_path

PACKAGE = Path(studio.__file__).resolve().parent


def test_the_app_icon_and_the_ui_icons_are_package_resources(qtbot) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.icons import ICONS_DIR, icon

    assert app_icon_path().resolve() == PACKAGE / "resources" / "forge-studio.svg"
    assert app_icon_path().read_text().lstrip().startswith("<svg")
    assert ICONS_DIR.resolve().is_relative_to(PACKAGE)
    for name in ("play", "pause", "close", "check"):
        assert resource_path("icons", f"{name}.svg").is_file()
        assert not icon(name).isNull()


def test_nothing_outside_the_package_is_looked_up() -> None:
    """No source file reaches above the package for a file (the checkout's root)."""
    offenders = [
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "parents[2]" in (text := p.read_text()) and "resources" in text
    ]
    assert offenders == []
    assert not (PACKAGE.parent / "resources").exists()
