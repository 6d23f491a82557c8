"""Presence: who is connected to a shared space, with which role, and what each is
viewing and has selected. Ephemeral: never written to the space or its change log;
the host keeps the latest per connection and sends the whole roster to every live peer,
coalesced to at most one roster per ``INTERVAL_S`` however often peers report."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from studio.core.errors import ValidationError
from studio.sync.wire import check_id

INTERVAL_S = 0.1
MAX_SELECTION = 200


@dataclass(frozen=True, slots=True)
class Presence:
    viewing: str | None = None
    selection: tuple[str, ...] = ()

    @classmethod
    def from_message(cls, msg: Mapping[str, Any]) -> Presence:
        viewing = msg.get("viewing")
        if viewing is not None:
            viewing = check_id(viewing, "what a peer is viewing")
        raw = msg.get("selection", [])
        if not isinstance(raw, list) or len(raw) > MAX_SELECTION:
            raise ValidationError(f"a selection is a list of at most {MAX_SELECTION} ids")
        return cls(viewing, tuple(check_id(x, "a selected id") for x in raw))


@dataclass(frozen=True, slots=True)
class Member:
    """One connection as the roster shows it."""

    device_id: str
    name: str
    role: str
    presence: Presence

    def to_json(self) -> dict[str, Any]:
        return {
            "device_id": self.device_id,
            "name": self.name,
            "role": self.role,
            "viewing": self.presence.viewing,
            "selection": list(self.presence.selection),
        }


def roster(members: Iterable[Member]) -> list[dict[str, Any]]:
    """The roster frame's list, in a stable order (by name, then device)."""
    return [m.to_json() for m in sorted(members, key=lambda m: (m.name, m.device_id))]
