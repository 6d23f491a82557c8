"""The dark theme dims disabled widgets: its palette set each colour for every colour
group, so a disabled button, field or list looked like an enabled one (the share
dialog's invite box before sharing: a click did nothing and nothing said why)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication, QPushButton

from studio.ui.theme import apply_theme

ROLES = (
    QPalette.ColorRole.WindowText,
    QPalette.ColorRole.Text,
    QPalette.ColorRole.ButtonText,
)


@pytest.fixture
def themed(qtbot) -> Iterator[QApplication]:  # type: ignore[no-untyped-def]
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet = app.palette(), app.styleSheet()
    apply_theme()
    try:
        yield app
    finally:
        app.setPalette(palette)
        app.setStyleSheet(sheet)


def _lightness(c: QColor) -> int:
    return c.lightness()


def test_disabled_text_is_dimmer_than_enabled_text(themed: QApplication) -> None:
    pal = themed.palette()
    for role in ROLES:
        on = pal.color(QPalette.ColorGroup.Active, role)
        off = pal.color(QPalette.ColorGroup.Disabled, role)
        assert _lightness(off) < _lightness(on) - 60, role


def test_a_disabled_button_is_drawn_dimmer(themed: QApplication, qtbot) -> None:  # type: ignore[no-untyped-def]
    buttons = [QPushButton("Create invite") for _ in range(2)]
    buttons[1].setEnabled(False)
    brightest = []
    for b in buttons:
        qtbot.addWidget(b)
        b.resize(160, 32)
        b.show()
        qtbot.waitExposed(b)
        img = b.grab().toImage()
        brightest.append(
            max(
                img.pixelColor(x, y).lightness()
                for x in range(0, img.width(), 2)
                for y in range(0, img.height(), 2)
            )
        )
    assert brightest[1] < brightest[0] - 60  # its label: grey on grey, not white
