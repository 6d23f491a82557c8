"""Where sharing keeps its state in the data folder (``<home>/sharing/``), and this
machine's address for invites."""

from __future__ import annotations

import socket
from pathlib import Path

from studio.core.studio import Studio
from studio.store.sharing import SharingStore


def sharing_folder(studio: Studio) -> Path:
    return studio.paths.home / "sharing"


def open_sharing(studio: Studio) -> SharingStore:
    folder = sharing_folder(studio)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return SharingStore(folder / "sharing.db")


def lan_address() -> str:
    """This machine's address on its default route (a UDP connect sends nothing), or
    127.0.0.1 when it has none."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(("192.0.2.1", 9))  # TEST-NET-1: never routed anywhere real
            return str(probe.getsockname()[0])
    except OSError:
        return "127.0.0.1"
