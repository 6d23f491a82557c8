"""Show what the user asked for: when a refine this window requested completes, its new
variant becomes the asset's active one (issue 11, item 12), as its own undoable step.

The window tells :class:`RefineFollower` about each step it applied; the follower
remembers the placeholders of refines (``RequestRefine``, and a batch into an existing
asset) and, when the first of a request's variants turns ``completed``, asks the host to
run ``SetActiveVariant`` — one entry on the undo stack, "Show refined variant". A
request whose variants all fail or are deleted is forgotten."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from studio.core import commands as c
from studio.core.protocol import TypedEvent, VariantData, VariantDeleted
from studio.core.space import Applied

Run = Callable[[Sequence[c.Command], str], bool]

MAX_WATCHED = 1_000
"""Refines remembered at most (the oldest are forgotten first)."""


@dataclass(frozen=True, slots=True)
class _Watch:
    asset_id: str
    request: int
    """Variants of one request share this number: the first to complete is shown."""


class RefineFollower:
    def __init__(self, run: Run) -> None:
        self._run = run
        self._watched: dict[str, _Watch] = {}
        self._requests = 0

    def clear(self) -> None:
        """Another space is opened: nothing to follow any more."""
        self._watched.clear()

    def watch(self, applied: Sequence[Applied]) -> None:
        """Remember the refines among these just-applied commands."""
        for a in applied:
            cmd = a.command
            if isinstance(cmd, c.RequestRefine):
                vids = [a.created.get("variant_id", "")]
                aid = cmd.asset_id
            elif isinstance(cmd, c.RequestBatch) and cmd.asset_id is not None:
                vids = a.created.get("variant_ids", "").split(",")
                aid = cmd.asset_id
            else:
                continue
            self._requests += 1
            for vid in vids:
                if vid:
                    self._watched[vid] = _Watch(aid, self._requests)
        while len(self._watched) > MAX_WATCHED:
            del self._watched[next(iter(self._watched))]

    def watching(self) -> list[str]:
        return list(self._watched)

    def apply_event(self, event: TypedEvent) -> None:
        data = event.data
        if isinstance(data, VariantDeleted):
            self._watched.pop(data.id, None)
            return
        if not isinstance(data, VariantData) or data.id not in self._watched:
            return
        if data.status == "failed":
            self._watched.pop(data.id)
            return
        if data.status != "completed":
            return
        w = self._watched.pop(data.id)
        # the rest of the same request: the first finished one is what the user sees
        for vid in [v for v, o in self._watched.items() if o.request == w.request]:
            del self._watched[vid]
        self._run([c.SetActiveVariant(w.asset_id, data.id)], "Show refined variant")
