"""The half of CanvasScene that keeps items in line with the rows: applying events,
building / updating / removing cards and frames, putting dragged cards back, and
repainting when thumbnails arrive. A mixin of ``CanvasScene`` (split out for size);
it uses the scene's state, declared below."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, QRectF, QTimer, Signal

from studio.core.protocol import TypedEvent
from studio.store.records import AssetRow
from studio.ui.canvas.card import AssetCardItem, CanvasContext
from studio.ui.canvas.find import CanvasFinder
from studio.ui.canvas.frame_item import FrameItem
from studio.ui.canvas.geometry import CARD_H, CARD_W, Lod, Rect, union
from studio.ui.canvas.model import HANDLED, CanvasModel, CardFacts, Changed, card_facts
from studio.ui.canvas.overlay import PendingOverlay
from studio.ui.canvas.overview import OverviewItem
from studio.ui.canvas.tiles import Tiles

if TYPE_CHECKING:
    from studio.core.space import Space


class SceneSync:
    # state owned by CanvasScene.__init__
    ctx: CanvasContext
    model: CanvasModel
    space: Space | None
    finder: CanvasFinder
    _cards: dict[str, AssetCardItem]
    _frames: dict[str, FrameItem]
    _by_thumb: dict[str, set[str]]
    _animated: set[str]
    _bulk: bool
    _selection_owed: bool
    _snap_seq: int
    _pending: list[TypedEvent] | None
    _content: QRectF | None
    _anim: QTimer
    _overview: OverviewItem
    overlay: PendingOverlay
    tiles: Tiles
    collapsed: set[str]
    scope: frozenset[str] | None
    selection_changed: Signal

    if TYPE_CHECKING:  # QGraphicsScene's, through CanvasScene

        def addItem(self, item: object) -> None: ...
        def removeItem(self, item: object) -> None: ...
        def sceneRect(self) -> QRectF: ...
        def setSceneRect(self, *rect: Any) -> None: ...  # QRectF | QRect, or x, y, w, h
        def _on_selection(self) -> None: ...

    # ------------------------------------------------------------------ events
    def apply_event(self, event: TypedEvent) -> None:
        """Follow one core event, decoded (connect the feed follower's signal here)."""
        if self.space is None or event.kind not in HANDLED:
            return
        if self._pending is not None:
            self._pending.append(event)
        else:
            self._apply(event)

    def _apply(self, ev: TypedEvent) -> None:
        if ev.seq and ev.seq <= self._snap_seq:
            return
        ch = self.model.apply(ev)
        if ch:
            self._redraw(ch)

    def _redraw(self, ch: Changed) -> None:
        for aid in ch.removed:
            self._remove_card(aid)
        for aid in ch.assets:
            self.sync_card(aid)
        for aid in ch.moved - ch.assets:
            if (card := self._cards.get(aid)) is not None:
                self._place(card, self.overlay.asset(self.model.assets[aid]))
        for aid in ch.progress:
            if (card := self._cards.get(aid)) is not None:
                self._sync_progress(card)
                self._refresh(card)
        for aid in ch.renamed:
            for child in self.model.children_of(aid):
                if (card := self._cards.get(child)) is not None:
                    card.set_tip(self.model.assets[aid].name)
        for fid in ch.removed_frames:
            if (item := self._frames.pop(fid, None)) is not None:
                self.removeItem(item)
        for fid in ch.frames:
            self.sync_frame(fid)
        if ch.queue:
            self.queue_changed()
        if ch.tree and self.collapsed:
            self._update_hidden()
        self._content = None

    def queue_changed(self) -> None:
        """The queue was paused or resumed: cards waiting for a job say so."""
        self.ctx.queue_paused = self.model.queue_paused
        for card in self._cards.values():
            if card.shown_busy() is not None:
                self._sync_progress(card)
                self._refresh(card)

    def sync_card(self, aid: str) -> None:
        asset = self.model.assets.get(aid)
        if asset is None:
            self._remove_card(aid)
            return
        ov = self.overlay
        if ov.assets or ov.variants:  # (no call at all in the usual case: ~50k per load)
            asset, facts = self.shown(asset)
        else:
            facts = self.model.facts(aid)
        card = self._cards.get(aid)
        if card is None:
            card = AssetCardItem(self.ctx, asset, facts)
            self.tiles.place(card, asset.x, asset.y)  # into the scene, in its tile
            self._cards[aid] = card
            old_thumb = None
            self._grow_bounds(asset.x, asset.y)
        else:
            old_thumb = card.thumb
            card.set_rows(asset, facts)
            self._place(card, asset)
        if old_thumb != card.thumb:
            if old_thumb is not None:
                self._by_thumb.get(old_thumb, set()).discard(aid)
            if card.thumb is not None:
                self._by_thumb.setdefault(card.thumb, set()).add(aid)
        self._sync_progress(card)
        card.set_children(self.model.child_count(aid), aid in self.collapsed)
        if (hide := self._is_hidden(asset)) != card.hidden:
            card.hidden = hide
            card.setVisible(not hide)
        parent = self.model.assets.get(asset.parent_asset_id or "")
        card.set_tip(parent.name if parent is not None else None)
        if self.finder.active:
            self.finder.test(card)
        self._refresh(card)

    def shown(self, asset: AssetRow) -> tuple[AssetRow, CardFacts]:
        """The row and facts a card shows: the replica's, with the effect of the user's
        steps the host has not answered yet laid over them (``overlay``)."""
        if not self.overlay:
            return asset, self.model.facts(asset.id)
        asset = self.overlay.asset(asset)
        m = self.model
        rows = self.overlay.variant_rows(m.variants_of(asset.id))
        return asset, card_facts(asset, rows, m.counts.get(asset.id), m.stars.get(asset.id, ()))

    def overlay_changed(self, steps: list[tuple[dict[str, Any], ...]]) -> set[str]:
        """Lay these waiting steps over the rows (none: the replica is shown as it is);
        the cards whose shown rows changed are redrawn (and moved). Their ids."""
        assets, variants = self.overlay.rebuild(steps)
        for vid in variants:
            if (v := self.model.variants.get(vid)) is not None:
                assets.add(v.asset_id)
        for aid in assets:
            if aid in self._cards:
                self.sync_card(aid)
        self._content = None
        return assets

    # ------------------------------------------------------------------ stacks
    def _is_hidden(self, asset: AssetRow) -> bool:
        """Outside the scope (an opened collection), or inside a collapsed parent, at
        any depth (bounded: a damaged tree may loop)."""
        if self.scope is not None and asset.id not in self.scope:
            return True
        if not self.collapsed:
            return False
        cur = asset.parent_asset_id
        for _ in range(64):
            if cur is None:
                return False
            if cur in self.collapsed:
                return True
            row = self.model.assets.get(cur)
            cur = row.parent_asset_id if row is not None else None
        return False

    def _update_hidden(self) -> None:
        """Hide the cards inside collapsed parents and those outside the scope, show
        the others."""
        hidden: set[str] = set()
        todo = [k for p in self.collapsed for k in self.model.children_of(p)]
        while todo:  # each card once: a loop in a damaged tree ends
            aid = todo.pop()
            if aid not in hidden:
                hidden.add(aid)
                todo += self.model.children_of(aid)
        scope = self.scope
        for aid, card in self._cards.items():
            hide = aid in hidden or (scope is not None and aid not in scope)
            if hide != card.hidden:
                card.hidden = hide
                if hide and card.isSelected():
                    card.setSelected(False)
                card.setVisible(not hide)
        self._content = None
        self._overview.update()

    def set_scope(self, ids: Collection[str] | None) -> None:
        """Show only these cards (an opened collection), or every card (None)."""
        scope = None if ids is None else frozenset(ids)
        if scope == self.scope:
            return
        self.scope = scope
        for frame in self._frames.values():  # frames group cards: not members
            frame.setVisible(scope is None)
        self._update_hidden()

    def set_collapsed(self, aid: str, collapsed: bool) -> None:
        """Close (or open) the stack of ``aid``: its children hide (or show)."""
        if collapsed == (aid in self.collapsed):
            return
        if collapsed:
            self.collapsed.add(aid)
        else:
            self.collapsed.discard(aid)
        if (card := self._cards.get(aid)) is not None:
            card.set_children(self.model.child_count(aid), collapsed)
        self._update_hidden()

    def _place(self, card: AssetCardItem, asset: AssetRow) -> None:
        """Move a card to its row's position, unless the user is dragging it."""
        card.asset = asset
        if not card.dragging and (card.px, card.py) != (asset.x, asset.y):
            self._refresh(card)
            card.move_to(asset.x, asset.y)
            self._grow_bounds(asset.x, asset.y)
            self._refresh(card)
            self.finder.moved()

    def _sync_progress(self, card: AssetCardItem) -> None:
        card.set_progress(self.model.progress)
        if card.animated:
            self._animated.add(card.asset.id)
            if not self._anim.isActive():
                self._anim.start()
        else:
            self._animated.discard(card.asset.id)

    def _refresh(self, card: AssetCardItem) -> None:
        if card.nocontents:
            self._overview.update(QRectF(card.px, card.py, CARD_W, CARD_H))
        else:
            card.update()

    def _selection_lost(self) -> None:
        """A chosen card left the scene: the choice is refreshed (and announced) once the
        events at hand are through. A delete of 50,000 chosen cards removes them one
        event at a time; refreshed and announced per card, that took minutes."""
        if not self._selection_owed:
            self._selection_owed = True
            QTimer.singleShot(0, cast(QObject, self), self._on_selection)

    def _remove_card(self, aid: str) -> None:
        card = self._cards.pop(aid, None)
        if card is None:
            return
        if card.thumb is not None:
            self._by_thumb.get(card.thumb, set()).discard(aid)
        self._animated.discard(aid)
        self._refresh(card)
        was_selected = card.isSelected()
        self._bulk = True
        self.removeItem(card)
        self._bulk = False
        if was_selected:
            self._selection_lost()
        self.finder.moved()

    def sync_frame(self, fid: str) -> None:
        row = self.model.frames.get(fid)
        if row is None:
            return
        item = self._frames.get(fid)
        if item is None:
            item = self._frames[fid] = FrameItem(row, self.ctx.scale)
            item.setVisible(self.scope is None)
            self.addItem(item)
        else:
            item.set_row(row)
        self._grow_bounds(row.x, row.y, row.width, row.height)

    # ------------------------------------------------------------------ bounds
    def fit_bounds(self, r: Rect) -> None:
        m = max(4000.0, 0.5 * max(r.w, r.h))
        rect = QRectF(r.x - m, r.y - m, r.w + 2 * m, r.h + 2 * m)
        self.setSceneRect(rect)
        self._overview.set_rect(rect)

    def _grow_bounds(self, x: float, y: float, w: float = CARD_W, h: float = CARD_H) -> None:
        b = self.sceneRect()
        if b.left() <= x and x + w <= b.right() and b.top() <= y and y + h <= b.bottom():
            return
        u = union([Rect(b.x(), b.y(), b.width(), b.height()), Rect(x, y, w, h)])
        assert u is not None
        self.fit_bounds(u)

    # ------------------------------------------------------------------ drag support
    def snap_back(self, ids: Sequence[str]) -> None:
        """Put cards back where their rows say (after a refused or cancelled move); a
        card with a move still waiting for the host stays where that move put it."""
        for aid in ids:
            card, row = self._cards.get(aid), self.model.assets.get(aid)
            if card is not None and row is not None:
                self._place(card, self.overlay.asset(row))
        self._content = None

    def snap_back_frame(self, fid: str) -> None:
        item, row = self._frames.get(fid), self.model.frames.get(fid)
        if item is not None and row is not None:
            item.dragging = False
            item.set_rect_visual(row.x, row.y, row.width, row.height)

    def set_drop_target(self, asset_id: str | None) -> None:
        old, self.ctx.drop_target = self.ctx.drop_target, asset_id
        for aid in {old, asset_id} - {None}:
            if (card := self._cards.get(aid or "")) is not None:
                self._refresh(card)

    def refresh_moving(self, cards: Sequence[AssetCardItem]) -> None:
        """Cards moved by a drag: at FAR zoom the overview repaints them."""
        if any(c.nocontents for c in cards):
            self._overview.update()
        self._content = None

    # ------------------------------------------------------------------ thumbnails, animation
    def _on_thumbs(self, keys: list[tuple[str, int]]) -> None:
        for path, _tier in keys:
            for aid in self._by_thumb.get(path, ()):
                if (card := self._cards.get(aid)) is not None:
                    self._refresh(card)

    def _tick(self) -> None:
        if not self._animated:
            self._anim.stop()
            return
        self.ctx.phase += 1
        if self.ctx.lod is not Lod.FAR:
            for aid in self._animated:
                if (card := self._cards.get(aid)) is not None:
                    card.update()
