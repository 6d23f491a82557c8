"""Before Qt: no display, or a system library missing for Qt's X11 plugin, is said
plainly with the package to install (studio.ui.display_check), instead of Qt's abort
that names libxcb-cursor0 whatever is missing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.ui import display_check as dc

QT = dc._qt_folder()
PLUGIN = None if QT is None else QT / "plugins" / "platforms" / "libqxcb.so"
linux_qt = pytest.mark.skipif(
    not sys.platform.startswith("linux") or PLUGIN is None or not PLUGIN.exists(),
    reason="PySide6's xcb plugin (Linux)",
)


@linux_qt
def test_the_plugins_needs_are_read_from_its_elf_file() -> None:
    assert PLUGIN is not None and QT is not None
    names = dc.needed(PLUGIN)
    assert "libQt6XcbQpa.so.6" in names
    assert "libxcb.so.1" in names
    assert "libc.so.6" in names
    assert "libxcb-icccm.so.4" in dc.needed(QT / "lib" / "libQt6XcbQpa.so.6")


def test_a_file_that_is_not_an_elf_library_names_nothing(tmp_path: Path) -> None:
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"\x7fELF\x02\x01" + os.urandom(200))
    assert dc.needed(junk) == []
    assert dc.needed(tmp_path / "absent.so") == []
    text = tmp_path / "text.so"
    text.write_text("not a library")
    assert dc.needed(text) == []


@linux_qt
def test_truncated_copies_of_the_plugin_name_nothing_or_what_they_hold(tmp_path: Path) -> None:
    assert PLUGIN is not None
    whole = PLUGIN.read_bytes()
    for cut in (64, 1000, len(whole) // 2, len(whole) - 100):
        part = tmp_path / f"cut{cut}.so"
        part.write_bytes(whole[:cut])
        got = dc.needed(part)
        assert got == [], cut  # the section headers sit at the end: a cut copy names nothing


@linux_qt
def test_missing_libraries_asks_the_loader_only_for_system_ones() -> None:
    asked: list[str] = []

    def loads(soname: str) -> bool:
        asked.append(soname)
        return soname not in ("libxcb-icccm.so.4", "libxcb-keysyms.so.1")

    missing = dc.missing_libraries(QT, loads=loads)
    assert missing == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]
    assert not any(s.startswith("libQt6") for s in asked)  # Qt's own: in its lib folder
    assert len(asked) == len(set(asked))  # each asked once, though both files name it


@linux_qt
def test_a_library_the_bundle_ships_counts_as_found(tmp_path: Path) -> None:
    (tmp_path / "libxcb-icccm.so.4").write_bytes(b"")
    missing = dc.missing_libraries(QT, loads=lambda s: s != "libxcb-icccm.so.4", shipped=[tmp_path])
    assert missing == []


def test_without_a_display_the_message_says_how_to_get_one() -> None:
    why = dc.problem({}, missing=lambda: [], platform="linux")
    assert why is not None
    assert "no display" in why and "xvfb-run" in why


def test_the_missing_libraries_are_named_with_their_packages() -> None:
    env = {"DISPLAY": ":0"}
    why = dc.problem(env, missing=lambda: ["libxcb-icccm.so.4", "libfoo.so.9"], platform="linux")
    assert why is not None
    assert "sudo apt-get install -y libxcb-icccm4" in why
    assert "libfoo.so.9" in why  # unknown to the table: named as it is
    assert dc.problem(env, missing=lambda: [], platform="linux") is None


def test_other_platforms_and_wayland_are_left_to_qt() -> None:
    def boom() -> list[str]:
        raise AssertionError("xcb's libraries checked where Qt will not use them")

    for env in (
        {"QT_QPA_PLATFORM": "offscreen"},
        {"QT_QPA_PLATFORM": "wayland", "WAYLAND_DISPLAY": "wayland-0"},
        {"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"},
    ):
        assert dc.problem(env, missing=boom, platform="linux") is None
    assert dc.problem({}, missing=boom, platform="darwin") is None
    assert dc.wants_xcb({"QT_QPA_PLATFORM": "xcb:dpi=96"})


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="Linux")
def test_the_app_without_a_display_exits_with_the_message(tmp_path: Path) -> None:
    """Before: Qt aborted (SIGABRT) with "could not connect to display"."""
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    env.pop("QT_QPA_PLATFORM", None)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    done = subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(tmp_path / "home")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    assert "studio: there is no display" in done.stderr
    assert not (tmp_path / "home").exists()  # nothing made for a window that never opened
