"""CanvasScene: the space's assets and frames as graphics items, kept current by events.

The scene never changes the space: it shows rows (``load``) and follows core events
(``apply_event``); the items are views of the rows in ``self.model``. User actions go
through the view to the host as commands, and their results come back here as events.

Loading is incremental: ``load()`` returns at once and cards are built in batches of at
most ``BATCH_S`` seconds, those inside ``focus`` first, with ``progress(built, total)``
and finally ``loaded``. Events arriving meanwhile are applied on top; events already in
the snapshot (``seq <= snapshot.seq``) are skipped. While building, Python's cyclic GC
is paused (a gen-2 pass over tens of thousands of wrappers costs ~40 ms, measured) and
afterwards the long-lived items are ``gc.freeze()``-d (and stay so: see ``loading``).

Level of detail follows the view's zoom (``set_view_scale``): FULL and SIMPLE cards
paint themselves; at FAR zoom they are flagged ``ItemHasNoContents`` (in batches) and
the single ``OverviewItem`` paints them.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, QPointF, QRectF, Qt, QTimer, Signal
from PySide6.QtGui import QPainterPath
from PySide6.QtWidgets import QGraphicsScene

from studio.core.protocol import TypedEvent
from studio.core.space import Snapshot, Space
from studio.store.records import AssetRow
from studio.ui.canvas.batches import Graveyard
from studio.ui.canvas.card import AssetCardItem, CanvasContext, warm_up
from studio.ui.canvas.find import CanvasFinder
from studio.ui.canvas.frame_choice import FrameChoice
from studio.ui.canvas.frame_item import FrameItem
from studio.ui.canvas.geometry import CARD_H, CARD_W, Lod, Rect, card_in_frame, union
from studio.ui.canvas.loading import SceneLoader
from studio.ui.canvas.model import CanvasModel
from studio.ui.canvas.overlay import PendingOverlay
from studio.ui.canvas.overview import LodSwitcher, OverviewItem
from studio.ui.canvas.pacer import ViewPacer
from studio.ui.canvas.scene_sync import SceneSync
from studio.ui.canvas.thumbs import ThumbnailCache, visible_keys
from studio.ui.canvas.tiles import Tiles


class CanvasScene(SceneSync, FrameChoice, QGraphicsScene):
    loaded = Signal()
    progress = Signal(int, int)  # cards built, cards to build
    selection_changed = Signal(list)  # [asset id], oldest selected first
    matches_changed = Signal(int)  # number of cards matching the filter
    cleared = Signal()  # every item is gone (a new space is coming)

    BATCH_S = 0.008  # UI-thread time per loading / level-of-detail batch
    LOADING_REPAINT_MS = 150  # how often the views repaint while cards are built

    def __init__(self, thumbs: ThumbnailCache | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs if thumbs is not None else ThumbnailCache(parent=self)
        self.ctx = CanvasContext(self.thumbs)
        self.tiles = self.ctx.tiles = Tiles(self)
        """The cards' parents: a far frame sorts a few hundred tiles, not every card."""
        self.model = CanvasModel()
        self.overlay = PendingOverlay()
        """A joined space's steps not answered by its host yet, shown over the rows."""
        self.space: Space | None = None
        self.finder = CanvasFinder(self)
        self._cards: dict[str, AssetCardItem] = {}
        self._frames: dict[str, FrameItem] = {}
        self._by_thumb: dict[str, set[str]] = {}
        self._animated: set[str] = set()
        self._selected: list[AssetCardItem] = []
        self._selection_owed = False
        """Chosen cards left the scene and the choice is not refreshed yet (once, after
        the events at hand: :meth:`_selection_lost`)."""
        self._selected_frames: set[str] = set()
        self.collapsed: set[str] = set()
        """Parents whose stack is closed: their children's cards are hidden."""
        self.scope: frozenset[str] | None = None
        """The only cards shown (an opened collection: ``set_scope``); None: all."""
        self._bulk = False
        self._snap_seq = 0
        self._pending: list[TypedEvent] | None = None  # events held while indexing a snapshot
        self._total = 0
        self._content: QRectF | None = None
        self._loader = SceneLoader(
            self, self.BATCH_S, lambda: self.progress.emit(len(self._cards), self._total)
        )
        self._anim = QTimer(self)
        self._anim.setInterval(90)
        self._anim.timeout.connect(self._tick)
        self._overview = OverviewItem(self.ctx, self._cards, lambda: self._selected)
        self.addItem(self._overview)
        self.pacer = ViewPacer(
            self, lambda: self._overview, lambda: self.ctx.lod is Lod.FAR, self.LOADING_REPAINT_MS
        )
        self._lod = LodSwitcher(
            self.ctx,
            self._overview,
            lambda: self._cards.values(),
            self.BATCH_S,
            self,
            self.pacer.hold,
        )
        self._graveyard = Graveyard(self)
        self.selectionChanged.connect(self._on_selection)
        self.thumbs.loaded.connect(self._on_thumbs)
        self.thumbs.set_wanted(lambda: visible_keys(self))  # what is on screen, asked again
        self.setSceneRect(QRectF(-2000, -2000, 4000, 4000))
        warm_up(self.ctx)

    # ------------------------------------------------------------------ loading
    def load(self, space: Space, snapshot: Snapshot, focus: QRectF | None = None) -> None:
        """Show ``snapshot`` of ``space``; cards inside ``focus`` (a scene rect, e.g.
        the restored viewport) are built first. Returns at once; see ``loaded``."""
        self.clear_canvas()
        self.space = space
        self.ctx.media_dir = space.media_dir.as_posix()
        self._snap_seq = snapshot.seq
        self.model.queue_paused = self.ctx.queue_paused = snapshot.queue_paused
        self._pending = []
        self._total = len(snapshot.assets)
        self.pacer.throttle(True)
        self._loader.start(snapshot, focus, self._finish_load)

    def is_loading(self) -> bool:
        return self._loader.running

    def wait_loaded(self, timeout_s: float = 60.0) -> bool:
        """Build everything now (tests, benchmarks)."""
        return self._loader.finish(timeout_s)

    def _finish_load(self) -> None:
        self.pacer.throttle(False)
        self._content = None
        self.progress.emit(len(self._cards), self._total)
        self.loaded.emit()

    def release_pending_events(self) -> None:
        """(Loader) the snapshot is indexed: apply the events that came meanwhile."""
        pending, self._pending = self._pending or [], None
        for ev in pending:
            self._apply(ev)

    def card_map(self) -> dict[str, AssetCardItem]:
        return self._cards

    def clear_canvas(self) -> None:
        """Forget the space: remove every card and frame."""
        self._loader.stop()
        self.pacer.throttle(False)
        self._lod.stop()
        self._anim.stop()
        self._pending = None
        self.thumbs.cancel_pending()
        self._bulk = True
        self.clearSelection()
        if (grabber := self.mouseGrabberItem()) is not None:
            grabber.ungrabMouse()
        if (focused := self.focusItem()) is not None:
            focused.clearFocus()
        for item in (*self._frames.values(), self._overview):
            self.removeItem(item)
        # the cards' tiles are hidden from frames and hit tests now, and leave the
        # scene a few per turn (a clear() of 50,000 cards blocked for 0.2-0.6 s)
        self._graveyard.bury_items(self, list(self.tiles.detach()))
        self._bulk = False
        # a fresh container for everything big; the old ones are freed in slices
        old_model, self.model = self.model, CanvasModel()
        self._graveyard.bury(
            self._cards, self._by_thumb, old_model.assets, old_model.variants, old_model.by_asset
        )
        self._cards, self._by_thumb = {}, {}
        self._overview = OverviewItem(self.ctx, self._cards, lambda: self._selected)
        self.addItem(self._overview)
        if self.ctx.lod is Lod.FAR:  # the next space's cards are born far: it paints them
            self._overview.set_active(True)
        self._lod.overview = self._overview
        self.cleared.emit()
        self._frames.clear()
        self._animated.clear()
        self._selected = []
        self.finder.reset()
        self.scope = None
        self._content = None
        self.ctx.queue_paused = False
        self.overlay.rebuild(())
        self.space = None

    # ------------------------------------------------------------------ bounds
    def content_rect(self) -> QRectF:
        """The bounding rectangle of every card shown and every frame (empty if none)."""
        if self._content is None:
            rects: list[Rect] = []
            shown = [c for c in self._cards.values() if not c.hidden]
            if shown:  # (a Rect a card, then their union: 35 ms of a fit-all at 50,000)
                xs, ys = [c.px for c in shown], [c.py for c in shown]
                x0, y0 = min(xs), min(ys)
                rects.append(Rect(x0, y0, max(xs) - x0 + CARD_W, max(ys) - y0 + CARD_H))
            for f in self._frames.values() if self.scope is None else ():
                top = f.title_rect().top()
                rects.append(Rect(f.fx, f.fy + top, f.fw, f.fh - top))
            u = union(rects)
            self._content = QRectF() if u is None else QRectF(u.x, u.y, u.w, u.h)
        return QRectF(self._content)

    # ------------------------------------------------------------------ queries
    def card(self, asset_id: str) -> AssetCardItem | None:
        return self._cards.get(asset_id)

    def cards(self) -> list[AssetCardItem]:
        return list(self._cards.values())

    def frame(self, frame_id: str) -> FrameItem | None:
        return self._frames.get(frame_id)

    def frame_items(self) -> list[FrameItem]:
        return list(self._frames.values())

    def asset_row(self, asset_id: str) -> AssetRow | None:
        return self.model.assets.get(asset_id)

    def card_at(self, pos: QPointF, exclude: Sequence[AssetCardItem] = ()) -> AssetCardItem | None:
        for it in self.items(pos):
            if isinstance(it, AssetCardItem) and it not in exclude:
                return it
        return None

    def top_item_at(self, pos: QPointF) -> AssetCardItem | tuple[FrameItem, str] | None:
        """The card, or (frame, part) with part "title", "border" or "handle", at ``pos``."""
        for it in self.items(pos):
            if isinstance(it, AssetCardItem):
                return it
            if isinstance(it, FrameItem) and (part := it.part_at(pos)) is not None:
                return (it, part)
        return None

    def cards_in(self, rect: QRectF) -> list[AssetCardItem]:
        mode = Qt.ItemSelectionMode.IntersectsItemBoundingRect
        return [it for it in self.items(rect, mode) if isinstance(it, AssetCardItem)]

    def cards_inside_frame(self, frame: FrameItem) -> list[AssetCardItem]:
        """The frame's members: the cards lying wholly inside it (one that merely
        overlaps its edge is not carried along when the frame moves)."""
        fr = frame.rect()
        return [
            c
            for c in self.cards_in(QRectF(fr.x, fr.y, fr.w, fr.h))
            if card_in_frame(Rect(c.px, c.py, CARD_W, CARD_H), fr)
        ]

    # ------------------------------------------------------------------ selection
    def selected_cards(self) -> list[AssetCardItem]:
        if self._selection_owed:  # some were removed a moment ago
            return [c for c in self._selected if c.scene() is self]
        return list(self._selected)

    def selected_ids(self) -> list[str]:
        return [c.asset.id for c in self.selected_cards()]

    def select(self, ids: Sequence[str], *, add: bool = False) -> None:
        self._bulk = True
        try:
            if not add:
                self.clearSelection()
                self.select_frames(())
            for aid in ids:
                if (card := self._cards.get(aid)) is not None:
                    card.setSelected(True)
        finally:
            self._bulk = False
        self._on_selection()

    def select_all(self) -> None:
        """Every card and every frame (Ctrl+A)."""
        path = QPainterPath()
        path.addRect(self.sceneRect())
        self.setSelectionArea(
            path,
            Qt.ItemSelectionOperation.ReplaceSelection,
            Qt.ItemSelectionMode.IntersectsItemBoundingRect,
        )
        self.select_frames(list(self._frames))

    def _on_selection(self) -> None:
        if self._bulk:
            return
        self._selection_owed = False
        self.select_frames(())  # a new choice of cards: the frames are let go
        now = [it for it in self.selectedItems() if isinstance(it, AssetCardItem)]
        keep = set(map(id, now))
        before = [c for c in self._selected if id(c) in keep]
        seen = set(map(id, before))
        self._selected = before + [c for c in now if id(c) not in seen]
        if self.ctx.lod is Lod.FAR or self._lod.running:
            self._overview.update()
        self.selection_changed.emit([c.asset.id for c in self._selected])

    # ------------------------------------------------------------------ level of detail
    @property
    def lod(self) -> Lod:
        return self.ctx.lod

    def set_view_scale(self, scale: float) -> None:
        """The view's zoom changed: pick the level of detail."""
        for f in self._frames.values():
            f.set_scale(scale)
        self._lod.budget_s = self.BATCH_S
        self._lod.set_scale(scale)

    def settle_lod(self) -> None:
        """Finish a level-of-detail switch now (tests, benchmarks)."""
        self._lod.settle()
