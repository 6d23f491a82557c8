"""Tiles: the cards grouped under a few hundred parent items, one per square of the
canvas, so Qt's frame and hit tests deal with tiles, not with every card.

Qt draws a scene by asking its index for the top-level items in the exposed rectangle,
sorting them by stacking order and walking each one's children. With 50,000 top-level
cards a far-out frame (every card in view) collected and sorted 50,000 items: 40–50 ms
of UI-thread CPU per frame on an idle core, 0.1–0.3 s under load (measured, cards that
draw nothing themselves). Grouped under ~300 tiles the same frame sorts ~300 items and
walks each tile's children in one C++ loop (6 ms), and a tile out of the exposed
rectangle is skipped with all its cards, for painting and for ``items()`` alike: a
tile promises Qt that its cards lie inside it (``ItemContainsChildrenInShape``).

A tile sits at the scene's origin with no transform, so a card's position in its tile
is its scene position and a card moves between tiles (``place``) without any jump. A
tile is a ``QGraphicsRectItem`` with neither pen nor brush — its ``paint`` (C++) draws
nothing — that takes no mouse button, so clicks, drags, drops and menus reach the cards
and what lies under them as before. Z-order holds between a tile's cards; a raised card
(a drag) raises its tile (``raise_card``).
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRectF, Qt
from PySide6.QtWidgets import QGraphicsItem, QGraphicsRectItem, QGraphicsScene

from studio.ui.canvas.geometry import CARD_H, CARD_W

TILE = 4096.0
"""A tile's side in scene units (~14 x 13 cards on the default grid)."""
MARGIN = max(CARD_W, CARD_H) + 256.0
"""How far a tile reaches past its square: a card whose corner is in the square lies
wholly inside (with its stack edges and marks)."""

_CONTAINS = QGraphicsItem.GraphicsItemFlag.ItemContainsChildrenInShape


class TileItem(QGraphicsRectItem):
    def __init__(self, key: tuple[int, int]) -> None:
        x, y = key[0] * TILE, key[1] * TILE
        super().__init__(x - MARGIN, y - MARGIN, TILE + 2 * MARGIN, TILE + 2 * MARGIN)
        self.key = key
        self.setPen(Qt.PenStyle.NoPen)
        self.setBrush(Qt.BrushStyle.NoBrush)
        self.setFlag(_CONTAINS, True)
        self.setAcceptedMouseButtons(Qt.MouseButton.NoButton)
        self.setAcceptHoverEvents(False)


def tile_key(x: float, y: float) -> tuple[int, int]:
    return math.floor(x / TILE), math.floor(y / TILE)


class Tiles:
    """The scene's tiles, made as cards need them (kept while the space is open)."""

    def __init__(self, scene: QGraphicsScene) -> None:
        self._scene = scene
        self._tiles: dict[tuple[int, int], TileItem] = {}
        self._raised: set[tuple[int, int]] = set()

    def __len__(self) -> int:
        return len(self._tiles)

    def detach(self) -> list[TileItem]:
        """Let go of every tile (a new space is coming): each is made fully transparent
        at once — Qt's frames and ``items()`` then skip it with all its cards — and
        returned to be removed from the scene a few at a time (``Graveyard``)."""
        old = list(self._tiles.values())
        for tile in old:
            tile.setOpacity(0.0)
        self._tiles = {}
        self._raised = set()
        return old

    def tile_at(self, x: float, y: float) -> TileItem:
        key = tile_key(x, y)
        tile = self._tiles.get(key)
        if tile is None:
            tile = self._tiles[key] = TileItem(key)
            self._scene.addItem(tile)
        return tile

    def place(self, card: QGraphicsItem, x: float, y: float) -> None:
        """Put ``card`` (at scene position ``x, y``) in the tile it lies in: into the
        scene if it is not there yet, under another tile if it moved out of its own."""
        tile = self.tile_at(x, y)
        if card.parentItem() is not tile:
            card.setParentItem(tile)
            if card.zValue() > 0:  # carried while raised (a drag): its new tile too
                self.raise_card(card)

    def raise_card(self, card: QGraphicsItem) -> None:
        """Draw ``card``'s tile (and so the card) above the other tiles' cards."""
        tile = card.parentItem()
        if isinstance(tile, TileItem) and tile.key not in self._raised:
            self._raised.add(tile.key)
            tile.setZValue(1)

    def lower_all(self) -> None:
        """Every tile back to the common level (a drag ended)."""
        for key in self._raised:
            if (tile := self._tiles.get(key)) is not None:
                tile.setZValue(0)
        self._raised = set()

    def tiles(self) -> list[TileItem]:
        return list(self._tiles.values())

    def bounds(self) -> QRectF:
        r = QRectF()
        for t in self._tiles.values():
            r = r.united(t.rect())
        return r
