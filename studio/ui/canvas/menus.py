"""Context menus of the canvas: on a card, on a frame, on the empty canvas.

Each entry calls ``CanvasActions`` (one undoable step through the host). A card's
menu acts on the whole selection where that makes sense (delete, take out, frame).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QPointF
from PySide6.QtWidgets import QMenu

from studio.core.layout import ArrangeBy
from studio.ui.bulk_actions import NEW_COLLECTION
from studio.ui.canvas.arrange import arrange
from studio.ui.canvas.card import AssetCardItem
from studio.ui.canvas.frame_item import FrameItem

if TYPE_CHECKING:
    from studio.ui.canvas.view import CanvasView


def menu_for(view: CanvasView, scene_pos: QPointF) -> QMenu | None:
    hit = view.canvas_scene.top_item_at(scene_pos)
    if isinstance(hit, AssetCardItem):
        return card_menu(view, hit)
    if hit is not None:
        return frame_menu(view, hit[0])
    return canvas_menu(view, scene_pos)


def _targets(view: CanvasView, card: AssetCardItem) -> list[str]:
    """The selection if the card is part of it, else just the card."""
    ids = view.canvas_scene.selected_ids()
    return ids if card.asset.id in ids else [card.asset.id]


def card_menu(view: CanvasView, card: AssetCardItem) -> QMenu:
    a = view.canvas_actions
    aid = card.asset.id
    ids = _targets(view, card)
    menu = QMenu(view)
    menu.addAction("Open details", lambda: a.open_details(aid))
    menu.addSeparator()
    menu.addAction("Rename…", lambda: a.rename(aid))
    menu.addAction("Change type…", lambda: a.change_type(aid))
    active = card.facts.active
    star = menu.addAction(
        "Unstar active variant" if active is not None and active.starred else "Star active variant",
        lambda: a.toggle_star(aid),
    )
    star.setEnabled(active is not None)
    fork = menu.addAction("Fork", lambda: a.fork(aid))
    fork.setEnabled(active is not None and active.status == "completed")
    scene = view.canvas_scene
    inside = scene.model.child_count(aid)
    if inside:
        closed = aid in scene.collapsed
        menu.addAction(
            f"{'Expand' if closed else 'Collapse'} stack ({inside} inside)",
            lambda: scene.set_collapsed(aid, not closed),
        )
    rows = [view.canvas_scene.asset_row(i) for i in ids]
    children = [r.id for r in rows if r is not None and r.parent_asset_id]
    if children:
        parent = view.canvas_scene.asset_row(rows[0].parent_asset_id or "") if rows[0] else None
        label = (
            f"Take out of “{parent.name}”"
            if len(children) == 1 and parent is not None
            else f"Take {len(children)} out of their parents"
        )
        menu.addAction(label, lambda: a.take_out(children))
    menu.addSeparator()
    menu.addAction(
        "Frame around selection…" if len(ids) > 1 else "Frame around…",
        lambda: _frame_around(view, ids),
    )
    if len(ids) > 1:
        add_arrange_menu(menu, view, ids)
        view.bulk.add_menu(menu, ids)
    add_collection_menu(menu, view, ids)
    if a.host is not None and a.host.space is not None:
        label = "Export file…" if len(ids) == 1 else f"Export {len(ids)} files…"
        menu.addAction(label, lambda: view.bulk.export(ids))
    menu.addSeparator()
    menu.addAction(
        "Delete" if len(ids) == 1 else f"Delete {len(ids)} assets", lambda: a.delete(ids)
    )
    return menu


def add_collection_menu(menu: QMenu, view: CanvasView, ids: list[str]) -> QMenu | None:
    """Add to collection ▸ each of the space's collections, and a new one."""
    host = view.canvas_actions.host
    space = host.space if host is not None else None
    if space is None:
        return None
    sub = menu.addMenu("Add to collection")
    sub.setObjectName("collectionMenu")
    for col in space.collections():
        sub.addAction(col.name, _adder(view, ids, col.id)).setObjectName(f"collection:{col.id}")
    if sub.actions():
        sub.addSeparator()
    new = sub.addAction(NEW_COLLECTION, lambda: _new_collection(view, ids))
    new.setObjectName("collection:new")
    return sub


def _adder(view: CanvasView, ids: list[str], collection_id: str) -> Callable[[], object]:
    return lambda: view.bulk.add_to_collection(ids, collection_id)


def _new_collection(view: CanvasView, ids: list[str]) -> None:
    name = view.bulk.ask_text("New collection", "Name:", "")
    if name is not None and name.strip():
        view.bulk.add_to_collection(ids, new_name=name)


def add_arrange_menu(menu: QMenu, view: CanvasView, ids: list[str]) -> QMenu:
    """Arrange ▸ by kind / type / date / name, for ``ids`` (none: the whole space)."""
    what = "the whole space" if not ids else "1 asset" if len(ids) == 1 else f"{len(ids)} assets"
    sub = menu.addMenu(f"Arrange {what}")
    sub.setObjectName("arrangeMenu")
    for by in ArrangeBy:
        sub.addAction(f"By {by.value}", _arranger(view, ids, by))
    return sub


def _arranger(view: CanvasView, ids: list[str], by: ArrangeBy) -> Callable[[], object]:
    # no default argument: a triggered action would pass its checked flag into it
    return lambda: arrange(view.canvas_actions, ids, by)


def _frame_around(view: CanvasView, ids: list[str]) -> None:
    title = view.canvas_actions.ask_text("New frame", "Title:", "Frame")
    if title is not None:
        view.canvas_actions.create_frame_around(ids, title.strip() or "Frame")


def frame_menu(view: CanvasView, frame: FrameItem) -> QMenu:
    a = view.canvas_actions
    fid = frame.frame_id
    menu = QMenu(view)
    menu.addAction("Rename frame…", lambda: a.rename_frame(fid))
    menu.addAction(
        "Select contents",
        lambda: view.canvas_scene.select(
            [c.asset.id for c in view.canvas_scene.cards_inside_frame(frame)]
        ),
    )
    menu.addSeparator()
    menu.addAction("Delete frame", lambda: a.delete_frame(fid))
    return menu


def canvas_menu(view: CanvasView, scene_pos: QPointF) -> QMenu:
    a = view.canvas_actions
    x, y = scene_pos.x(), scene_pos.y()
    menu = QMenu(view)
    menu.addAction("Import here…", lambda: a.import_here(x, y))
    menu.addAction("Paste image", lambda: a.paste(x, y))
    menu.addAction("New frame", lambda: a.create_frame_at(x, y))
    selected = view.canvas_scene.selected_ids()
    if selected:
        menu.addAction("Frame around selection…", lambda: _frame_around(view, selected))
    menu.addSeparator()
    add_arrange_menu(menu, view, selected)
    menu.addAction("Fit all", view.fit_all)
    return menu
