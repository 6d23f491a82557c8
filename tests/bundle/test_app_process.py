"""The app as a real process from the checkout, offscreen: it logs when its window is
up, and SIGTERM closes it cleanly (exit 0, the window's state saved)."""

from __future__ import annotations

from pathlib import Path

from studio.core import settings
from studio.core.studio import Studio
from tests.bundle.helpers import (
    WINDOW_SHOWN,
    python_studio,
    source_env,
    start_app,
    stop,
    wait_for_log,
)


def test_the_app_starts_offscreen_and_ends_cleanly_on_sigterm(tmp_path: Path) -> None:
    home = tmp_path / "home"
    app = start_app(python_studio(), home, source_env(), tmp_path)
    try:
        wait_for_log(app, WINDOW_SHOWN, timeout=90)
    finally:
        code = stop(app)
    assert code == 0, (tmp_path / "home-app.out").read_text()
    assert "stopping on signal 15" in app.log.read_text()
    with Studio(home) as s:  # closed as by its close button: the geometry was saved
        assert settings.get_or(s.library, settings.WINDOW_GEOMETRY, None)
        assert [e.name for e in s.spaces()] == ["Welcome"]
