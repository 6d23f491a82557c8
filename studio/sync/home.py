"""Where sharing keeps its state in the data folder (``<home>/sharing/``), and this
machine's address for invites."""

from __future__ import annotations

import contextlib
import socket
from collections.abc import Sequence
from pathlib import Path

from studio.core.studio import Studio
from studio.store.sharing import SharingStore

FINGERPRINT_SETTING = "serve_fingerprint"
"""``sharing.db`` setting: the certificate invites pin when a proxy terminates TLS in
front of ``studio serve`` (empty: the host's own)."""


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


ALL_INTERFACES = ("", "0.0.0.0", "::")


def allowed_hosts(bind: str, extra: Sequence[str]) -> set[str]:
    """The names a peer's ``Host`` header may carry (DNS rebinding sends another): the
    bound address, loopback, this machine's names, and ``extra`` (``--allow-host``)."""
    names = {"localhost", "127.0.0.1", "::1", bind.lower(), *(e.lower() for e in extra)}
    hostname = socket.gethostname().lower()
    if hostname:
        names |= {hostname, f"{hostname}.local"}
    if bind in ALL_INTERFACES:
        names.add(lan_address())
        with contextlib.suppress(OSError):
            for info in socket.getaddrinfo(hostname, None):
                names.add(str(info[4][0]).lower())
    return names


def host_allowed(value: str | None, allowed: set[str], port: int) -> bool:
    """Is ``value`` (a ``Host`` header) one of ``allowed`` names, at our ``port``?"""
    if not value:
        return False
    host, _, got = value.rpartition(":")
    if not host or not got.isdigit() or int(got) != port:
        return False
    return host.strip("[]").lower() in allowed
