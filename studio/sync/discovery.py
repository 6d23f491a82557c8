"""LAN discovery over mDNS/DNS-SD: a host announces ``_forgestudio._tcp`` while it
serves, and ``studio discover`` lists the hosts that answer.

TXT records are readable by anyone on the network, so they carry only what is public
anyway: the host id, the machine's name, the sharing protocol version, how many spaces
it serves and the short form of its certificate fingerprint (the certificate itself is
sent to anyone who opens a TLS connection). Never a token, a credential or a space name.
Discovery only says where hosts are: joining still takes an invite, whose full
fingerprint is pinned. Multicast does not cross VLANs; a manual ``host:port`` always
works.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from studio.core.errors import StorageError

log = logging.getLogger(__name__)

SERVICE_TYPE = "_forgestudio._tcp.local."
SHORT_FINGERPRINT = 16
"""Hex digits of the certificate's SHA-256 kept in the TXT record (public, not pinned)."""
MAX_WAIT_S = 60.0
RESOLVE_TIMEOUT_MS = 1500
REGISTER_TIMEOUT_S = 10.0
TXT_KEYS = ("id", "name", "proto", "spaces", "fp")


@dataclass(frozen=True, slots=True)
class Announcement:
    """What one host says about itself (the TXT record, plus where it listens)."""

    host_id: str
    name: str
    port: int
    protocol: int
    spaces: int
    fingerprint: str
    """The short form (``SHORT_FINGERPRINT`` hex digits)."""
    addresses: tuple[str, ...] = ()

    def txt(self) -> dict[str, str]:
        return {
            "id": self.host_id,
            "name": self.name,
            "proto": str(self.protocol),
            "spaces": str(self.spaces),
            "fp": self.fingerprint[:SHORT_FINGERPRINT],
        }

    @classmethod
    def from_record(
        cls, properties: dict[bytes, bytes | None], port: int, addresses: Sequence[str]
    ) -> Announcement | None:
        """Read a TXT record; None when it is not a Forge Studio host's (bad fields)."""
        txt = {
            k.decode("utf-8", "replace"): (v or b"").decode("utf-8", "replace")
            for k, v in properties.items()
        }
        try:
            protocol, spaces = int(txt.get("proto", "")), int(txt.get("spaces", ""))
        except ValueError:
            return None
        host_id = txt.get("id", "")
        if not host_id or not host_id.isalnum() or len(host_id) > 64 or not 0 < port < 65536:
            return None
        name = "".join(ch for ch in txt.get("name", "") if ch.isprintable())[:64]
        fp = txt.get("fp", "").lower()
        if len(fp) > SHORT_FINGERPRINT or any(ch not in "0123456789abcdef" for ch in fp):
            fp = ""
        return cls(host_id, name, port, protocol, spaces, fp, tuple(addresses))

    def address(self) -> str:
        """``host:port`` to pass to ``studio invite --address`` on the host, or to reach it."""
        host = self.addresses[0] if self.addresses else self.name
        return f"[{host}]:{self.port}" if ":" in host else f"{host}:{self.port}"

    def to_json(self) -> dict[str, Any]:
        return {
            "host_id": self.host_id,
            "name": self.name,
            "address": self.address(),
            "addresses": list(self.addresses),
            "port": self.port,
            "protocol": self.protocol,
            "spaces": self.spaces,
            "fingerprint": self.fingerprint,
        }


def instance_name(name: str, host_id: str) -> str:
    """The service instance name: readable, and distinct per host on one machine."""
    label = "".join(ch for ch in name if ch.isprintable() and ch != ".")[:40] or "Forge Studio"
    return f"{label} ({host_id[-6:]}).{SERVICE_TYPE}"


def _zeroconf(interfaces: Sequence[str] | None) -> Any:
    from zeroconf import InterfaceChoice, IPVersion
    from zeroconf.asyncio import AsyncZeroconf

    if interfaces:
        return AsyncZeroconf(interfaces=list(interfaces), ip_version=IPVersion.V4Only)
    return AsyncZeroconf(interfaces=InterfaceChoice.All, ip_version=IPVersion.V4Only)


def announce_interfaces(bind: str) -> list[str] | None:
    """Where a host bound to ``bind`` is announced: that address's interface only (a
    host on 127.0.0.1 is announced on loopback, to this machine), or every interface
    (None) when it listens on all of them."""
    if bind in ("", "0.0.0.0", "::"):
        return None
    try:
        ip = ipaddress.ip_address(bind)
    except ValueError:
        return None  # a name: announced everywhere, like all interfaces
    return [str(ip)] if ip.version == 4 else None


def _ipv4_bytes(address: str) -> bytes:
    """An address (or a name, resolved here) as the 4 bytes of an A record."""
    try:
        return ipaddress.IPv4Address(address).packed
    except ValueError:
        return socket.inet_aton(socket.gethostbyname(address))


class Announcer:
    """Announces one host until :meth:`close` (with goodbye packets, so browsers drop
    it at once). A network without multicast is logged, never fatal: a manual
    ``host:port`` still works."""

    def __init__(self, announcement: Announcement, interfaces: Sequence[str] | None) -> None:
        self.announcement = announcement
        self._interfaces = list(interfaces) if interfaces else None
        self._zc: Any = None
        self._info: Any = None

    async def start(self) -> bool:
        """Register the service; False (and a warning) when the network refuses."""
        from zeroconf.asyncio import AsyncServiceInfo

        a = self.announcement
        try:
            info = AsyncServiceInfo(
                SERVICE_TYPE,
                instance_name(a.name, a.host_id),
                addresses=[_ipv4_bytes(addr) for addr in a.addresses],
                port=a.port,
                properties=a.txt(),
            )
            self._zc = _zeroconf(self._interfaces)
            self._info = info
            sent = await self._zc.async_register_service(info, allow_name_change=True)
            await asyncio.wait_for(sent, REGISTER_TIMEOUT_S)  # the announcements went out
        except (OSError, RuntimeError, ValueError, TimeoutError) as exc:  # no multicast here
            log.warning("could not announce this host on the LAN: %s", exc)
            await self.close()
            return False
        return True

    async def close(self) -> None:
        zc, self._zc = self._zc, None
        if zc is None:
            return
        info, self._info = self._info, None
        with contextlib.suppress(Exception):
            if info is not None:  # goodbyes: browsers drop this host at once
                sent = await zc.async_unregister_service(info)
                await asyncio.wait_for(sent, REGISTER_TIMEOUT_S)
        with contextlib.suppress(Exception):
            await zc.async_close()


def host_announcement(
    host_id: str, name: str, port: int, spaces: int, fingerprint: str, addresses: Sequence[str]
) -> Announcement:
    from studio.sync.wire import SYNC_PROTOCOL

    return Announcement(
        host_id,
        name,
        port,
        SYNC_PROTOCOL,
        spaces,
        fingerprint[:SHORT_FINGERPRINT],
        tuple(addresses),
    )


async def discover(wait: float, interfaces: Sequence[str] | None = None) -> list[Announcement]:
    """The hosts that announce themselves within ``wait`` seconds (at most
    ``MAX_WAIT_S``), one per host id, sorted by name."""
    from zeroconf import ServiceStateChange
    from zeroconf.asyncio import AsyncServiceBrowser, AsyncServiceInfo

    wait = max(0.1, min(float(wait), MAX_WAIT_S))
    try:
        zc = _zeroconf(interfaces)
    except (OSError, ValueError) as exc:  # no multicast, or no such interface here
        raise StorageError(f"could not listen for hosts on the LAN: {exc}") from exc
    names: set[str] = set()

    def seen(zeroconf: Any, service_type: str, name: str, state_change: ServiceStateChange) -> None:
        if state_change is ServiceStateChange.Removed:
            names.discard(name)
        else:
            names.add(name)

    browser = AsyncServiceBrowser(zc.zeroconf, [SERVICE_TYPE], handlers=[seen])
    try:
        await asyncio.sleep(wait)
        infos = [AsyncServiceInfo(SERVICE_TYPE, name) for name in sorted(names)]
        answered = await asyncio.gather(
            *(i.async_request(zc.zeroconf, RESOLVE_TIMEOUT_MS) for i in infos)
        )
        found: dict[str, Announcement] = {}
        for info, ok in zip(infos, answered, strict=True):
            if not ok or info.port is None:
                continue
            addresses = info.parsed_addresses()
            host = Announcement.from_record(dict(info.properties), info.port, addresses)
            if host is not None:
                found.setdefault(host.host_id, host)
        return sorted(found.values(), key=lambda h: (h.name.lower(), h.host_id))
    finally:
        with contextlib.suppress(Exception):
            await browser.async_cancel()
        with contextlib.suppress(Exception):
            await zc.async_close()
