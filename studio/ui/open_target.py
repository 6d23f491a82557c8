"""``studio open [TARGET]``: the desktop entry's command, so a double-click on a
``.forgespace`` file or a ``forge+wss:`` invite link opens the app with it. A file (or a
``file:`` URL) is imported as a new space once the window is up; an invite link is
joined before the window opens, which then shows the joined space."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit

from PySide6.QtWidgets import QMessageBox, QWidget

from studio.core.errors import StudioError

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


def is_invite(target: str) -> bool:
    from studio.sync.wire import SCHEME  # websockets and asyncio: not on the start path

    return target.strip().lower().startswith(f"{SCHEME}:")


def local_path(target: str) -> Path:
    """The file a target names: a path, or a ``file:`` URL as file managers pass them."""
    if target.startswith("file:"):
        return Path(unquote(urlsplit(target).path))
    return Path(target).expanduser()


def join_invite(home: Path | None, link: str, parent: QWidget | None = None) -> str | None:
    """Join the space ``link`` invites to; its id, or None after telling the user why
    not (the app then opens as usual)."""
    import asyncio
    import socket

    from studio.core.studio import Studio
    from studio.sync.peer import join

    try:
        with Studio(home) as studio:
            entry = asyncio.run(join(studio, link.strip(), (socket.gethostname() or "peer")[:64]))
    except (StudioError, OSError) as exc:
        text = exc.message if isinstance(exc, StudioError) else str(exc)
        QMessageBox.critical(parent, "Forge Studio", f"The invite link could not be used: {text}")
        return None
    return str(entry.id)


def import_file(window: MainWindow, target: str) -> bool:
    """Import the ``.forgespace`` file ``target`` names (the window shows the progress
    and the result); False after telling the user when there is no such file."""
    path = local_path(target)
    if not path.is_file():
        QMessageBox.warning(window, "Forge Studio", f"There is no file {path} to open.")
        return False
    window.archive_control.import_from(path)
    return True


__all__ = ["import_file", "is_invite", "join_invite", "local_path"]
