"""Who applies a command, and with what role.

The studio itself (finishing an import or a job) is one object, :data:`Actor.system()`,
made once in this module. Internal commands check that object's *identity*, so an actor
built from data — ``Actor("system", …)`` from JSON, a peer or a test — is an ordinary
actor and can't apply them: the capability can't be forged from an id string.
"""

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
ASSISTANT_PREFIX = "assistant:"


@dataclass(frozen=True, slots=True)
class Actor:
    id: str
    name: str
    role: Role

    @property
    def is_system(self) -> bool:
        """True only for the one studio actor (identity, not the id string)."""
        return self is _SYSTEM

    @property
    def is_assistant(self) -> bool:
        """The assistant acting in a person's chat: it may record its messages and
        proposals, nothing else (the door checks :func:`assistant_may_apply`)."""
        return self.id.startswith(ASSISTANT_PREFIX)

    @classmethod
    def assistant(cls, person: Actor) -> Actor:
        """The assistant in ``person``'s chat (never more than an editor)."""
        return cls(f"{ASSISTANT_PREFIX}{person.id}", f"Claude (for {person.name})", Role.EDITOR)

    @classmethod
    def system(cls) -> Actor:
        """The studio itself: finishes imports and jobs."""
        return _SYSTEM

    @classmethod
    def local_owner(cls) -> Actor:
        """The person at this machine."""
        try:
            user = getpass.getuser()
        except (OSError, KeyError):
            user = "me"
        # the login name comes from the environment as bytes: keep it real, bounded text
        user = user.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        user = "".join(ch for ch in user if ch.isprintable())[:64] or "me"
        return cls(f"local:{user}", user, Role.OWNER)

    def __copy__(self) -> Actor:
        return self if self is _SYSTEM else Actor(self.id, self.name, self.role)

    def __deepcopy__(self, memo: object) -> Actor:
        return self.__copy__()

    def __reduce__(self) -> tuple[object, ...]:
        # a pickled studio actor comes back as an ordinary one: the capability stays here
        return (Actor, (self.id, self.name, self.role))


_SYSTEM = Actor(SYSTEM_ID, "Forge Studio", Role.OWNER)
