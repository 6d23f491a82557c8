"""The owner's side of sharing, usable while ``studio serve`` runs in another process:
invites, the device list, revoking (all through ``sharing.db``)."""

from __future__ import annotations

import re

from studio.core.errors import ValidationError
from studio.core.studio import Studio
from studio.store.sharing import Device
from studio.sync.home import FINGERPRINT_SETTING, open_sharing, sharing_folder
from studio.sync.tls import host_certificate
from studio.sync.wire import Invite

ROLES = ("editor", "viewer")
MAX_EXPIRY_MS = 30 * 24 * 3600 * 1000
_DURATION = re.compile(r"^(\d{1,6})([smhd])$")
_UNIT_MS = {"s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}


def parse_duration(text: str) -> int:
    """``90s``, ``30m``, ``24h``, ``7d`` as milliseconds (at most 30 days)."""
    m = _DURATION.match(text.strip().lower())
    if m is None:
        raise ValidationError(f"{text[:24]!r} is not a duration like 30m, 24h or 7d")
    ms = int(m.group(1)) * _UNIT_MS[m.group(2)]
    if not 0 < ms <= MAX_EXPIRY_MS:
        raise ValidationError("an invite lasts from 1 second to 30 days")
    return ms


def make_invite(
    studio: Studio, ref: str, role: str, expires_ms: int, address: str | None = None
) -> Invite:
    """A one-time invite to the space ``ref`` for one device with ``role``. ``address``
    (host:port) defaults to where ``studio serve`` last listened."""
    if role not in ROLES:
        raise ValidationError("the role of an invite is editor or viewer")
    entry = studio.resolve(ref)
    store = open_sharing(studio)
    try:
        address = address or store.setting("serve_address")
        if not address:
            raise ValidationError(
                "no address to invite to: start `studio serve` first, or give --address HOST:PORT"
            )
        host, _, port = address.rpartition(":")
        if not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValidationError(f"{address[:60]!r} is not HOST:PORT")
        if store.remote(entry.slug) is not None:
            raise ValidationError(f"{entry.slug} is a replica: only its host can invite to it")
        # behind a TLS-terminating proxy, peers pin the proxy's certificate
        pinned = (
            store.setting(FINGERPRINT_SETTING)
            or host_certificate(sharing_folder(studio)).fingerprint
        )
        now = studio.clock()
        token = store.add_invite(entry.id, role, now, now + expires_ms)
    finally:
        store.close()
    return Invite(host.strip("[]"), int(port), entry.id, token, pinned)


def devices(studio: Studio, ref: str) -> list[Device]:
    entry = studio.resolve(ref)
    store = open_sharing(studio)
    try:
        return store.devices(entry.id)
    finally:
        store.close()


def revoke(studio: Studio, ref: str, device: str) -> Device:
    """Revoke a device (by id or name); a running host closes its connection at once."""
    entry = studio.resolve(ref)
    store = open_sharing(studio)
    try:
        return store.revoke(entry.id, device, studio.clock())
    finally:
        store.close()
