"""Who applies a command, and with what role."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"

    @property
    def can_edit(self) -> bool:
        return self is not Role.VIEWER


SYSTEM_ID = "system"


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    name: str
    role: Role

    @property
    def is_system(self) -> bool:
        return self.id == SYSTEM_ID

    @classmethod
    def system(cls) -> Actor:
        """The studio itself: finishes imports and jobs."""
        return cls(SYSTEM_ID, "Forge Studio", Role.OWNER)

    @classmethod
    def local_owner(cls) -> Actor:
        """The person at this machine."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):
            user = "me"
        return cls(f"local:{user}", user, Role.OWNER)
