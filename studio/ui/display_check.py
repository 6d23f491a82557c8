"""Can Qt open a window here? Asked before ``QApplication`` exists.

On Linux under X11, Qt's ``xcb`` platform plugin links against a dozen system
libraries that a minimal install lacks. Without one of them Qt prints "could not load
the Qt platform plugin xcb", names ``libxcb-cursor0`` whatever is really missing, and
aborts. Without a display at all it aborts too. This module finds out first and says
which package to install, or that there is no display.

It does not import Qt. It reads the ``DT_NEEDED`` entries of the plugin and of
``libQt6XcbQpa`` straight from their ELF files, so the list follows the installed
PySide6. It skips the libraries that ship with Qt (or with the bundle) and asks the
dynamic loader for each of the rest. Loading a system library that Qt would load
anyway has no side effects.
"""

from __future__ import annotations

import os
import struct
import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

# soname -> the Debian/Ubuntu package that holds it (README, "Install": `dpkg -S` on
# Debian 12 for the libraries PySide6 6.11.3's libqxcb.so and libQt6XcbQpa.so.6 need,
# checked 2026-12-02 with `ldd` on this machine)
PACKAGES = {
    "libX11.so.6": "libx11-6",
    "libX11-xcb.so.1": "libx11-xcb1",
    "libxcb.so.1": "libxcb1",
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-image.so.0": "libxcb-image0",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-randr.so.0": "libxcb-randr0",
    "libxcb-render.so.0": "libxcb-render0",
    "libxcb-render-util.so.0": "libxcb-render-util0",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxcb-shm.so.0": "libxcb-shm0",
    "libxcb-sync.so.1": "libxcb-sync1",
    "libxcb-util.so.1": "libxcb-util1",
    "libxcb-xfixes.so.0": "libxcb-xfixes0",
    "libxcb-xkb.so.1": "libxcb-xkb1",
    "libxkbcommon.so.0": "libxkbcommon0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libfreetype.so.6": "libfreetype6",
    "libglib-2.0.so.0": "libglib2.0-0",
    "libgthread-2.0.so.0": "libglib2.0-0",
    "libdbus-1.so.3": "libdbus-1-3",
}

_DT_NEEDED = 1
_SHT_DYNAMIC = 6
_ELF_HEADER = 64
_SECTION = 64
_MAX_ENTRIES = 4096  # a real plugin names ~30 libraries: a damaged file stops here


def needed(path: Path) -> list[str]:
    """The ``DT_NEEDED`` sonames of a 64-bit little-endian ELF file; [] for anything
    else (another architecture's layout, a damaged or unreadable file)."""
    try:
        data = path.read_bytes()
    except OSError:
        return []
    if len(data) < _ELF_HEADER or data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        return []
    try:
        (shoff,) = struct.unpack_from("<Q", data, 0x28)
        shentsize, shnum = struct.unpack_from("<HH", data, 0x3A)
        if shentsize != _SECTION or not 0 < shnum <= _MAX_ENTRIES:
            return []
        sections = [
            struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * _SECTION) for i in range(shnum)
        ]
        out: list[str] = []
        for _name, kind, _f, _a, offset, size, link, _i, _al, _es in sections:
            if kind != _SHT_DYNAMIC or link >= shnum:
                continue
            strings_at = sections[link][4]
            for k in range(min(size // 16, _MAX_ENTRIES)):
                tag, value = struct.unpack_from("<qQ", data, offset + 16 * k)
                if tag == 0:
                    break
                if tag == _DT_NEEDED:
                    start = strings_at + value
                    end = data.index(b"\0", start)
                    out.append(data[start:end].decode("utf-8", "replace"))
        return out
    except (struct.error, ValueError, IndexError):
        return []


def _loads(soname: str) -> bool:
    import ctypes  # only where the check runs: not at every start (offscreen, Wayland)

    try:
        ctypes.CDLL(soname)
    except OSError:
        return False
    return True


def _qt_folder() -> Path | None:
    """PySide6's ``Qt`` folder (the package is found, not imported: no Qt is loaded)."""
    import importlib.util

    spec = importlib.util.find_spec("PySide6")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations))) / "Qt"


def missing_libraries(
    qt: Path | None = None,
    *,
    loads: Callable[[str], bool] = _loads,
    shipped: Iterable[Path] = (),
) -> list[str]:
    """The sonames that Qt's xcb platform plugin needs and the loader cannot find, in
    the order the plugin names them. Libraries that sit in Qt's own ``lib`` folder or
    in one of the ``shipped`` folders (the bundle's) count as found. [] when the plugin
    is not there to read."""
    qt = _qt_folder() if qt is None else qt
    if qt is None:
        return []
    plugin = qt / "plugins" / "platforms" / "libqxcb.so"
    folders = [qt / "lib", *shipped]
    out: list[str] = []
    seen: set[str] = set()
    for lib in (plugin, qt / "lib" / "libQt6XcbQpa.so.6"):
        for soname in needed(lib):
            if soname in seen:
                continue
            seen.add(soname)
            if any((folder / soname).exists() for folder in folders):
                continue
            if not loads(soname):
                out.append(soname)
    return out


def wants_xcb(env: Mapping[str, str]) -> bool:
    """Will Qt try the xcb plugin (and nothing else) with this environment? Not with
    another platform asked for, and not in a Wayland session (Qt prefers Wayland
    there and only falls back to X11)."""
    platform = env.get("QT_QPA_PLATFORM", "").strip()
    if platform:
        return platform.split(":")[0].split(";")[0] == "xcb"
    return not env.get("WAYLAND_DISPLAY")


def problem(
    env: Mapping[str, str] | None = None,
    *,
    missing: Callable[[], list[str]] | None = None,
    platform: str = sys.platform,
) -> str | None:
    """What stops Qt from opening a window here, said for a person (with the command
    that fixes it); None when nothing is known to be wrong."""
    env = os.environ if env is None else env
    if not platform.startswith("linux"):
        return None
    chosen = env.get("QT_QPA_PLATFORM", "").strip()
    if not chosen and not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
        return (
            "there is no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY "
            "is set). Start it from a desktop session, or without one through a virtual "
            'display: xvfb-run -s "-screen 0 1600x1000x24" studio. The command line '
            "(studio --help) works without a display."
        )
    if not wants_xcb(env):
        return None
    absent = missing() if missing is not None else missing_libraries(shipped=shipped_folders())
    if not absent:
        return None
    known = sorted({PACKAGES[s] for s in absent if s in PACKAGES})
    unknown = [s for s in absent if s not in PACKAGES]
    lines = [
        "cannot open a window: Qt's X11 support needs system libraries this machine "
        f"does not have: {', '.join(absent)}."
    ]
    if known:
        lines.append(f"On Debian or Ubuntu: sudo apt-get install -y {' '.join(known)}")
    if unknown:
        lines.append(f"Install the packages of your system that provide {', '.join(unknown)}.")
    lines.append("The command line (studio --help) works without them.")
    return "\n".join(lines)


def shipped_folders() -> list[Path]:
    """The folders a bundle (PyInstaller) keeps its own copies of libraries in."""
    base = getattr(sys, "_MEIPASS", None)
    return [] if base is None else [Path(base)]
