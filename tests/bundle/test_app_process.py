"""The app as a real process from the checkout, offscreen: it logs when its window is
up, and SIGTERM closes it cleanly (exit 0, the window's state saved)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

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


def test_open_imports_a_forgespace_file_given_as_a_file_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """What a double-click on an archive runs (the desktop entry's ``studio open %u``)."""
    from urllib.parse import quote

    from studio.cli.main import main

    source = tmp_path / "source"
    env = source_env()
    # the archive is made in this process; the app that opens it is the real process
    for args in (["space", "create", "Props"], ["space", "export", "props", str(tmp_path)]):
        assert main(["--home", str(source), *args]) == 0
    (archive,) = tmp_path.glob("*.forgespace")
    moved = archive.rename(tmp_path / "my props.forgespace")  # a space, as a URL escapes it
    home = tmp_path / "home"
    url = "file://" + quote(str(moved))
    app = start_app(python_studio(), home, env, tmp_path, ["open", url])
    deadline = time.monotonic() + 120
    names: list[str] = []
    try:
        wait_for_log(app, WINDOW_SHOWN, timeout=90)
        while time.monotonic() < deadline and "Props" not in names:
            with Studio(home) as s:
                names = [e.name for e in s.spaces()]
            time.sleep(0.5)
    finally:
        code = stop(app)
    assert code == 0
    assert sorted(names) == ["Props", "Welcome"]


def test_invite_links_and_file_urls_are_told_apart() -> None:
    from studio.ui.open_target import is_invite, local_path

    assert is_invite("forge+wss://192.168.1.4:8765/s/abc#fp")
    assert is_invite(" FORGE+WSS://host/x")
    assert not is_invite("/home/me/forge+wss.forgespace")
    assert local_path("file:///home/me/my%20props.forgespace") == Path(
        "/home/me/my props.forgespace"
    )
    assert local_path("~/a.forgespace") == Path.home() / "a.forgespace"
