"""SceneLoader: builds a snapshot's cards and frames without freezing the UI.

Steps (each small; ``Batches`` runs them in time-boxed batches): index the variant
rows, index the asset rows (splitting those inside the focus rectangle from the rest)
and size the scene, make the frames, apply the events that arrived meanwhile, then
build the cards, focus first.

Python's cyclic GC is paused while building — automatic collection off, and the app's
timed collector held (``gc_timer.hold``): a full pass over 50,000 half-built cards took
240 ms of CPU, measured — and the built objects are then frozen (``gc.freeze()``) so
later full passes skip them. They stay frozen when the canvas clears: unfreezing gave
the next full pass every old card still waiting in the graveyard (the same 240 ms, in
the middle of the next switch); a frozen object freed by its last reference leaves the
frozen set. What cannot be freed so is a reference cycle made before the freeze: an
unfreeze and a full collection found 0 unreachable objects after a switch away from
50,000 cards, 146 with them open (kept for the process's life, a few KiB a load).
"""

from __future__ import annotations

import gc
import math
from collections.abc import Callable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QRectF

from studio.core.space import Snapshot, StarredIds
from studio.ui import gc_timer
from studio.ui.canvas.batches import Batches, Graveyard
from studio.ui.canvas.geometry import CARD_H, CARD_W, Rect

if TYPE_CHECKING:
    from studio.ui.canvas.scene import CanvasScene

SCREENFUL = 400
"""Up to this many cards in view are built in one step (~25 µs a card at 1:1); a view
with more (zoomed far out) gets them 32 a step, as the rest."""


class SceneLoader:
    def __init__(self, scene: CanvasScene, budget_s: float, on_batch: Callable[[], None]) -> None:
        self._scene = scene
        self._batches = Batches(budget_s, scene)
        self._yard = Graveyard(scene)  # the indexed snapshot, freed a slice per turn
        self._batches.sliced.connect(on_batch)
        self._gc_was_enabled = False
        self._holding = False

    @property
    def running(self) -> bool:
        return self._batches.running

    def start(self, snap: Snapshot, focus: QRectF | None, done: Callable[[], None]) -> None:
        self.stop()
        self._batches.budget_s = self._scene.BATCH_S
        self._gc_was_enabled = gc.isenabled()
        gc.disable()
        gc_timer.hold()
        self._holding = True

        def finished() -> None:
            gc.freeze()  # the cards live as long as the space is open
            self._resume_gc()
            done()

        self._batches.start(self._steps(snap, focus), finished)

    def finish(self, timeout_s: float) -> bool:
        return self._batches.finish(timeout_s)

    def stop(self) -> None:
        self._batches.stop()
        self._resume_gc()

    def _resume_gc(self) -> None:
        if self._holding:
            self._holding = False
            gc_timer.release()
            if self._gc_was_enabled:
                gc.enable()

    def _steps(self, snap: Snapshot, focus: QRectF | None) -> Iterator[None]:
        scene = self._scene
        m = scene.model
        # in slices like the rows: 50,000 counts and star sets at once took 25-30 ms
        counts = iter(snap.variant_counts.items())
        stars = snap.starred
        starred = stars.id_lists() if isinstance(stars, StarredIds) else iter(stars.items())
        for _ in range(0, max(len(snap.variant_counts), len(snap.starred)), 4096):
            m.take_counts(islice(counts, 4096), islice(starred, 4096))
            yield
        for i in range(0, len(snap.variants), 2048):
            for v in snap.variants[i : i + 2048]:
                m.add_variant(v)
            yield
        f = focus if focus is not None else QRectF()
        fx0, fy0, fx1, fy1 = f.left() - CARD_W, f.top() - CARD_H, f.right(), f.bottom()
        first: list[str] = []
        rest: list[str] = []
        x0 = y0 = math.inf
        x1 = y1 = -math.inf
        for i in range(0, len(snap.assets), 2048):
            for a in snap.assets[i : i + 2048]:
                m.add_asset(a)
                x, y = a.x, a.y
                x0, y0, x1, y1 = min(x0, x), min(y0, y), max(x1, x), max(y1, y)
                (first if fx0 <= x <= fx1 and fy0 <= y <= fy1 else rest).append(a.id)
            yield
        for fr in snap.frames:
            m.frames[fr.id] = fr
            x0, y0 = min(x0, fr.x), min(y0, fr.y)
            x1, y1 = max(x1, fr.x + fr.width), max(y1, fr.y + fr.height)
        if x0 <= x1:
            scene.fit_bounds(Rect(x0, y0, x1 - x0 + CARD_W, y1 - y0 + CARD_H))
        for fid in list(m.frames):
            scene.sync_frame(fid)
        scene.release_pending_events()
        # the snapshot is indexed: what only it holds (the starred ids' text an asset)
        # and its row lists are emptied a slice per turn; dropped with the
        # generator they cost one 6-17 ms step at the end of the load (CPU, 50,000)
        dead: list[Any] = [snap.assets, snap.variants]
        text = stars.text if isinstance(stars, StarredIds) else stars
        dead += [c for c in (snap.variant_counts, text) if isinstance(c, dict)]
        self._yard.bury(*dead)
        yield
        cards = scene.card_map()
        sync = scene.sync_card
        if len(first) <= SCREENFUL:
            # the cards in view in one step, then a frame at once: the view fills in one
            # go, not over the turns until the pacer's next repaint (~150 ms later)
            for aid in first:
                if aid not in cards:
                    sync(aid)
            first = []
            scene.pacer.repaint_now()
            yield
        for ids in (first, rest):
            for i in range(0, len(ids), 32):
                for aid in ids[i : i + 32]:
                    if aid not in cards:
                        sync(aid)
                yield
