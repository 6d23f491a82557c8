"""Events: what a committed command changed. Subscribers (UI bridge, CLI watch, LAN
bridge) receive them after the transaction commits, in commit order."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Event:
    """``type`` like ``asset:created``; ``data`` is the JSON form of the changed row
    (for ``*:deleted``, just the id). ``seq`` is the change-log position."""

    type: str
    data: Mapping[str, Any]
    seq: int = 0

    def to_json(self) -> dict[str, Any]:
        return {"type": self.type, "seq": self.seq, "data": dict(self.data)}


Subscriber = Callable[[Event], None]


@dataclass
class EventBus:
    _subscribers: list[Subscriber] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        with self._lock:
            self._subscribers.append(fn)

        def unsubscribe() -> None:
            with self._lock:
                if fn in self._subscribers:
                    self._subscribers.remove(fn)

        return unsubscribe

    def publish(self, events: list[Event]) -> None:
        with self._lock:
            subs = list(self._subscribers)
        for ev in events:
            for fn in subs:
                try:
                    fn(ev)
                except Exception:  # a broken subscriber must not break the door
                    log.exception("event subscriber failed on %s", ev.type)
