"""Where canvas thumbnails come from: their files (``decode``, any thread) and the
screen (``visible_keys``: what the views show now, UI thread)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QSize
from PySide6.QtGui import QImage, QImageReader

from studio.media.previews import TIERS, tier_name
from studio.ui.canvas.geometry import (
    CARD_W,
    TIER_FULL,
    TIER_LOW,
    TINY_BELOW_PX,
    Lod,
    scaled_size,
)

Key = tuple[str, int]  # (absolute path, tier)
_THUMB_SUFFIX = "/thumb.webp"


def decode(path: str, tier: int) -> QImage | None:
    """Read ``path`` scaled so its longest side is at most ``tier`` (any thread); a
    small tier from its stored file when there is one (else from ``path``)."""
    if tier in TIERS and path.endswith(_THUMB_SUFFIX):
        small = _read(path[: -len(_THUMB_SUFFIX)] + "/" + tier_name(tier), tier)
        if small is not None:
            return small
    return _read(path, tier)


def _read(path: str, tier: int) -> QImage | None:
    reader = QImageReader(path)
    reader.setAutoTransform(True)
    size = reader.size()
    if size.isValid():
        w, h = scaled_size(size.width(), size.height(), tier)
        if (w, h) != (size.width(), size.height()):
            reader.setScaledSize(QSize(w, h))
    image = reader.read()
    if image.isNull():
        return None
    if max(image.width(), image.height()) > tier:  # formats that ignore setScaledSize
        w, h = scaled_size(image.width(), image.height(), tier)
        image = image.scaled(w, h)
    if image.format() != QImage.Format.Format_ARGB32_Premultiplied:
        image = image.convertToFormat(QImage.Format.Format_ARGB32_Premultiplied)
    return image


def visible_keys(scene: Any) -> list[Key]:
    """The thumbnails the cards of ``scene`` (a ``CanvasScene``) show in its views now,
    at the tier their level of detail paints (what their paint code asks for). Asks the
    scene's index for the cards in view, so a 1:1 view of a 50,000-card space costs
    what its few dozen cards cost."""
    from PySide6.QtCore import Qt

    from studio.ui.canvas.card import AssetCardItem
    from studio.ui.canvas.overview import NO_THUMBS_BELOW_PX

    ctx = scene.ctx
    px = ctx.scale * CARD_W
    if px < NO_THUMBS_BELOW_PX:
        return []
    far = ctx.lod is Lod.FAR
    which = 1 if px < TINY_BELOW_PX else 0
    tier = TIER_FULL if ctx.lod is Lod.FULL else TIER_LOW
    mode = Qt.ItemSelectionMode.IntersectsItemBoundingRect
    order = Qt.SortOrder.AscendingOrder
    out: dict[Key, None] = {}
    for view in scene.views():
        rect = view.mapToScene(view.viewport().rect()).boundingRect()
        for c in scene.items(rect, mode, order):
            if not isinstance(c, AssetCardItem) or c.thumb is None or c.hidden:
                continue
            keys = c.far_keys
            out[keys[which] if far and keys is not None else (c.thumb, tier)] = None
    return list(out)
