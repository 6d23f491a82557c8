"""Typed events for view tests: ``typed_event(kind, data, seq)`` fills the payload
fields a test does not care about (None, 0, "", ()) and decodes the event against the
protocol, as the feed follower does before any view sees it."""

from __future__ import annotations

import dataclasses
import types
from collections.abc import Mapping
from typing import Any, Union, get_args, get_origin, get_type_hints

from studio.core.events import Event
from studio.core.protocol import EVENTS, TypedEvent, decode_event


def _blank(hint: Any) -> Any:
    origin = get_origin(hint)
    if origin in (Union, types.UnionType) and type(None) in get_args(hint):
        return None
    if origin is tuple:
        return []
    return {str: "", int: 0, float: 0.0, bool: False}.get(hint)


def typed_event(kind: str, data: Mapping[str, Any] | None = None, seq: int = 0) -> TypedEvent:
    payload = EVENTS[kind].payload
    hints = get_type_hints(payload)
    full = dict(data or {})
    for f in dataclasses.fields(payload):
        if f.name not in full:
            full[f.name] = _blank(hints[f.name])
    return decode_event(Event(kind, full, seq))


def as_typed(event: Event) -> TypedEvent:
    """A bus event (complete data) decoded."""
    return decode_event(event)
