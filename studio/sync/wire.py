"""What travels between a host and its peers: invite links, headers, frames.

Frames are JSON text objects with a ``type`` (see docs/sharing.md for the sequence);
a snapshot travels as binary frames (zlib-compressed chunks of the file). Anything else
— not JSON, not an object, an unknown type, a binary frame from a peer — is malformed
and closes that one connection.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.connection import Connection
from websockets.asyncio.server import broadcast
from websockets.protocol import State

from studio.core.errors import ValidationError

SYNC_PROTOCOL = 1
"""The version of this wire protocol (hello/welcome); the space schema version and the
event protocol version (studio.core.protocol) must match too."""

SCHEME = "forge+wss"
INVITE_HEADER = "X-Forge-Invite"
DEVICE_NAME_HEADER = "X-Forge-Device"
AUTHORIZATION = "Authorization"

HOST_MAX_FRAME = 1 << 20
"""The largest frame a host accepts from a peer (a command; websockets' max_size)."""

PEER_MAX_FRAME = 64 << 20
"""The largest frame a peer accepts from its host (a step with its row images); a read
that encodes larger goes to the peer as a snapshot."""

MAX_PEER_COMMANDS = 10_000
"""The most commands one message from a peer may hold (a bulk action on that many
cards: ~1.2 s of the host's write lock). More is refused with a typed answer, the
connection kept; the peer's app says so before sending."""

SNAPSHOT_CHUNK = 256 << 10
"""Bytes of the space file per snapshot chunk (before compression)."""

CLOSE_MALFORMED = 1008  # policy violation
CLOSE_REVOKED = 4401
CLOSE_SLOW = 4408
CLOSE_RESYNC = 4409

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_FP = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True, slots=True)
class Invite:
    host: str
    port: int
    space_id: str
    token: str
    fingerprint: str

    def link(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        query = urllib.parse.urlencode({"t": self.token, "fp": self.fingerprint})
        return f"{SCHEME}://{host}:{self.port}/{self.space_id}?{query}"

    @classmethod
    def parse(cls, text: str) -> Invite:
        bad = ValidationError(
            f"that is not a Forge Studio invite link ({SCHEME}://host:port/space?t=…&fp=…)"
        )
        try:
            url = urllib.parse.urlsplit(text.strip())
            port = url.port
        except ValueError:
            raise bad from None
        if url.scheme != SCHEME or not url.hostname or port is None:
            raise bad
        query = urllib.parse.parse_qs(url.geturl().partition("#")[0].partition("?")[2])
        token = (query.get("t") or [""])[0]
        fp = (query.get("fp") or [""])[0].lower()
        space_id = url.path.strip("/")
        if not _ID.match(space_id) or not token or len(token) > 200 or not _FP.match(fp):
            raise bad
        return cls(url.hostname, port, space_id, token, fp)


WRITE_NOW_BYTES = 16 << 10
"""A frame is written at once, without waiting, while the connection's write buffer
holds at most this much with it (websockets waits above 32 KiB)."""


def write_now(ws: Connection, frame: str) -> bool:
    """Write the text ``frame`` now if the connection is open and its write buffer has
    room for it: nothing can wait then, so no timer, no drain, no task switch (``await
    ws.send`` costs several times more, and a host sends each step to every peer).
    False: send it the waiting way (a peer that stopped reading fills the buffer, and
    the waiting send drops it after its timeout)."""
    if ws.protocol.state is not State.OPEN or ws.send_in_progress is not None:
        return False
    if ws.transport.get_write_buffer_size() + len(frame) > WRITE_NOW_BYTES:
        return False
    broadcast((ws,), frame)
    return True


COMMAND_FRAME_SLACK = 256
"""Room in :data:`HOST_MAX_FRAME` for a command message's own fields (type, mid)."""


def check_step(commands: list[Any]) -> None:
    """Refuse, before it is queued or sent, a step no host takes in one message: more
    than :data:`MAX_PEER_COMMANDS` commands, or larger than :data:`HOST_MAX_FRAME` (a
    host closes the connection of a peer that sends a bigger frame)."""
    if len(commands) > MAX_PEER_COMMANDS:
        raise ValidationError(
            f"one change to a shared space may hold at most {MAX_PEER_COMMANDS:,} commands; "
            f"this one holds {len(commands):,}: select fewer cards"
        )
    size = len(json.dumps(commands, ensure_ascii=False, separators=(",", ":")).encode())
    if size + COMMAND_FRAME_SLACK > HOST_MAX_FRAME:
        raise ValidationError(
            f"this change is {size / 2**20:.1f} MiB, more than a shared space takes in one "
            f"message ({HOST_MAX_FRAME / 2**20:.0f} MiB): select fewer cards"
        )


def encode(kind: str, **fields: Any) -> str:
    return json.dumps({"type": kind, **fields}, ensure_ascii=False, separators=(",", ":"))


def decode(frame: str | bytes) -> dict[str, Any]:
    """A text frame as an object with a string ``type``; ValidationError otherwise."""
    if not isinstance(frame, str):
        raise ValidationError("a binary frame where a message was expected")
    try:
        data = json.loads(frame)
    except ValueError:
        raise ValidationError("a frame that is not JSON") from None
    if not isinstance(data, dict) or not isinstance(data.get("type"), str):
        raise ValidationError("a frame that is not a message")
    return data


def check_id(value: Any, what: str) -> str:
    if not isinstance(value, str) or not _ID.match(value):
        raise ValidationError(f"{what} is not a valid id")
    return value
