"""LAN discovery over mDNS/DNS-SD: a host announces ``_forgestudio._tcp`` while it
serves, and ``studio discover`` lists the hosts that answer.

TXT records are readable by anyone on the network, so they carry only what is public
anyway: the host id, the machine's name, the sharing protocol version, how many spaces
it serves and the short form of its certificate fingerprint (the certificate itself is
sent to anyone who opens a TLS connection). Never a token, a credential or a space name.
Discovery only says where hosts are: joining still takes an invite, whose full
fingerprint is pinned. Multicast does not cross VLANs; a manual ``host:port`` always
works.

An *invite code* is an invite link without its address (``SPACE.TOKEN.FINGERPRINT``):
with a host picked from the LAN it joins like the link. It keeps the full fingerprint on
purpose: a TXT record is spoofable by anyone on the network, so it only says where to
connect; the certificate pinned is the one in the code, and a spoofed answer fails the
TLS handshake before the token is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from studio.core.errors import StorageError, ValidationError
from studio.sync.wire import Invite, check_id

log = logging.getLogger(__name__)

SERVICE_TYPE = "_forgestudio._tcp.local."
SHORT_FINGERPRINT = 16
"""Hex digits of the certificate's SHA-256 kept in the TXT record (public, not pinned)."""
MAX_WAIT_S = 60.0
RESOLVE_TIMEOUT_MS = 1500
REGISTER_TIMEOUT_S = 10.0
BROWSE_MAX_S = 300.0
"""A live browse (the Join dialog's list) ends after this long; it can be started again."""
VERIFY_S = 4.0
"""A live browse asks a listed host it has not heard from in this long whether it is
still there; one silent for two such rounds (and a resolve's wait) leaves the list."""
MAX_HOSTS = 64
"""Hosts a live browse keeps at most (a flood of answers is cut, not grown without end)."""
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


def invite_code(invite: Invite) -> str:
    """The invite without its address, for a host picked on the LAN."""
    return f"{invite.space_id}.{invite.token}.{invite.fingerprint}"


def invite_from_code(code: str, host: Announcement) -> Invite:
    """The invite an invite code makes with ``host`` (picked on the LAN). Refused when
    the code is not one, or ``host`` announces another certificate than the code's:
    then it is not the host that made the invite (nothing is sent to it)."""
    parts = code.strip().split(".")
    bad = ValidationError("that is not an invite code (it looks like SPACE.TOKEN.FINGERPRINT)")
    if len(parts) != 3:
        raise bad
    space_id, token, fp = parts[0], parts[1], parts[2].lower()
    try:
        check_id(space_id, "the space")
        check_id(token, "the token")
    except ValidationError:
        raise bad from None
    if len(fp) != 64 or any(ch not in "0123456789abcdef" for ch in fp):
        raise bad
    if not host.fingerprint or not fp.startswith(host.fingerprint):
        raise ValidationError(
            f"“{host.name}” announces another certificate than this invite's: it is not the "
            "host that invited you — pick another, or paste the whole link"
        )
    address = host.addresses[0] if host.addresses else host.name
    return Invite(address, host.port, space_id, token, fp)


class Browse:
    """A live, bounded browse: ``on_change`` gets the hosts found (sorted, one per host
    id) each time one appears, changes, says goodbye or falls silent, on the loop that
    runs :meth:`run`, until :meth:`stop` or ``max_s`` seconds.

    A goodbye is one UDP packet and can be lost; a host that crashes or loses its
    network sends none, and its records would stay cached for over an hour. So the
    browse asks each host it lists for its service record every ``VERIFY_S`` seconds
    it has not heard from it, and drops a host silent for ``SILENT_S``; a dropped host
    that answers again comes back."""

    def __init__(
        self,
        on_change: Callable[[list[Announcement]], None],
        interfaces: Sequence[str] | None = None,
        max_s: float = BROWSE_MAX_S,
        verify_s: float = VERIFY_S,
    ) -> None:
        self._on_change = on_change
        self._interfaces = list(interfaces) if interfaces else None
        self._max_s = max(0.1, float(max_s))
        self._verify_s = max(0.05, float(verify_s))
        self._stop: asyncio.Event | None = None
        self._stopped = False
        self._found: dict[str, Announcement] = {}
        self._silent: dict[str, Announcement] = {}
        self._heard: dict[str, float] = {}
        self._told: list[Announcement] | None = None

    def stop(self) -> None:
        """End the browse (call on its loop)."""
        self._stopped = True
        if self._stop is not None:
            self._stop.set()

    async def run(self) -> None:
        """Browse until stopped or ``max_s`` passed; StorageError when the network
        gives no multicast here."""
        from zeroconf import ServiceStateChange
        from zeroconf.asyncio import AsyncServiceBrowser

        loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        if self._stopped:
            return
        try:
            zc = _zeroconf(self._interfaces)
        except (OSError, ValueError) as exc:
            raise StorageError(f"could not listen for hosts on the LAN: {exc}") from exc
        seen: asyncio.Queue[tuple[str, bool]] = asyncio.Queue()

        def heard(zeroconf: Any, service_type: str, name: str, state_change: Any) -> None:
            gone = state_change is ServiceStateChange.Removed
            loop.call_soon_threadsafe(seen.put_nowait, (name, gone))

        listener = _heard_listener(self._heard)
        zc.zeroconf.async_add_listener(listener, None)
        browser = AsyncServiceBrowser(zc.zeroconf, [SERVICE_TYPE], handlers=[heard])
        verifier = loop.create_task(self._verify(zc))
        deadline = loop.time() + self._max_s
        try:
            while not stop.is_set() and loop.time() < deadline:
                waiter = loop.create_task(seen.get())
                halt = loop.create_task(stop.wait())
                done, _ = await asyncio.wait(
                    {waiter, halt},
                    timeout=deadline - loop.time(),
                    return_when=asyncio.FIRST_COMPLETED,
                )
                for task in (waiter, halt):
                    if task not in done:
                        task.cancel()
                if waiter not in done:
                    continue
                name, gone = waiter.result()
                if gone:
                    self._found.pop(name, None)
                    self._silent.pop(name, None)
                elif len(self._found) < MAX_HOSTS or name in self._found:
                    host = await _resolve_quietly(zc, name)
                    self._silent.pop(name, None)
                    if host is not None:
                        self._found[name] = host
                        self._heard[name] = time.monotonic()
                    else:
                        self._found.pop(name, None)
                self._tell()
        finally:
            verifier.cancel()
            with contextlib.suppress(BaseException):
                await verifier
            with contextlib.suppress(Exception):
                zc.zeroconf.async_remove_listener(listener)
            with contextlib.suppress(Exception):
                await browser.async_cancel()
            with contextlib.suppress(Exception):
                await zc.async_close()

    def _tell(self) -> None:
        now = _one_per_host(self._found.values())
        if now != self._told:
            self._told = now
            self._on_change(now)

    async def _verify(self, zc: Any) -> None:
        """Every ``verify_s``: ask the hosts not heard from lately for their service
        record; drop the ones silent for two rounds and a wait, bring back the silent
        ones that answered."""
        silent_s = 2 * self._verify_s + RESOLVE_TIMEOUT_MS / 1000
        while True:
            await asyncio.sleep(self._verify_s)
            now = time.monotonic()
            quiet = [
                name
                for name in (*self._found, *self._silent)
                if now - self._heard.get(name, 0.0) >= self._verify_s
            ]
            if quiet:
                with contextlib.suppress(Exception):  # a closing zeroconf: the next round
                    _ask(zc, quiet)
            now = time.monotonic()
            for name in list(self._found):
                if now - self._heard.get(name, 0.0) >= silent_s:
                    log.info("a host on the LAN fell silent: %s", name)
                    self._silent[name] = self._found.pop(name)
            for name in list(self._silent):
                if now - self._heard.get(name, 0.0) < self._verify_s:
                    self._found[name] = self._silent.pop(name)
            self._tell()


def _heard_listener(heard: dict[str, float]) -> Any:
    """A zeroconf record listener that notes when each service instance last spoke
    (any live record of it, whoever's query it answered)."""
    from zeroconf import RecordUpdateListener
    from zeroconf.const import _TYPE_PTR

    class Heard(RecordUpdateListener):
        def async_update_records(self, zc: Any, now: float, records: list[Any]) -> None:
            at = time.monotonic()
            for update in records:
                record = update.new
                if record.is_expired(now):
                    continue
                name = record.alias if record.type == _TYPE_PTR else record.name
                ours = name.lower().endswith(SERVICE_TYPE.lower())
                if name in heard or (ours and len(heard) < 4 * MAX_HOSTS):
                    heard[name] = at

        def async_update_records_complete(self) -> None:
            pass

    return Heard()


def _ask(zc: Any, names: Sequence[str]) -> None:
    """One query for the service records of ``names`` (multicast: every browser on the
    network hears the answers too)."""
    from zeroconf import DNSOutgoing, DNSQuestion
    from zeroconf.const import _CLASS_IN, _FLAGS_QR_QUERY, _TYPE_SRV

    out = DNSOutgoing(_FLAGS_QR_QUERY)
    for name in names:
        out.add_question(DNSQuestion(name, _TYPE_SRV, _CLASS_IN))
    zc.zeroconf.async_send(out)


async def _resolve_quietly(zc: Any, name: str) -> Announcement | None:
    """:func:`_resolve`, with a failure (a malformed name, a closing zeroconf) read as
    no answer: one host's odd record must not end the whole browse."""
    try:
        return await _resolve(zc, name)
    except Exception as exc:  # any failure of one name is that name's alone
        log.info("could not resolve %s on the LAN: %s", name, exc)
        return None


async def _resolve(zc: Any, name: str) -> Announcement | None:
    from zeroconf.asyncio import AsyncServiceInfo

    info = AsyncServiceInfo(SERVICE_TYPE, name)
    if not await info.async_request(zc.zeroconf, RESOLVE_TIMEOUT_MS) or info.port is None:
        return None
    return Announcement.from_record(dict(info.properties), info.port, info.parsed_addresses())


def _one_per_host(hosts: Any) -> list[Announcement]:
    by_id: dict[str, Announcement] = {}
    for h in hosts:
        by_id.setdefault(h.host_id, h)
    return sorted(by_id.values(), key=lambda h: (h.name.lower(), h.host_id))
