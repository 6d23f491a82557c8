"""The drag-and-drop format for variants moving between Forge Studio's own widgets
(canvas → forge tray, details → tray). Other applications get file URLs beside it."""

from __future__ import annotations

import json
from collections.abc import Sequence

from PySide6.QtCore import QByteArray, QMimeData

VARIANTS_MIME = "application/x-forge-studio-variants"


def put_variants(data: QMimeData, space_id: str, variant_ids: Sequence[str]) -> None:
    payload = json.dumps({"space_id": space_id, "variant_ids": list(variant_ids)})
    data.setData(VARIANTS_MIME, QByteArray(payload.encode()))


def get_variants(data: QMimeData | None, space_id: str) -> list[str]:
    """Variant ids carried by ``data`` for this space ([] for anything else)."""
    if data is None or not data.hasFormat(VARIANTS_MIME):
        return []
    try:
        payload = json.loads(bytes(data.data(VARIANTS_MIME).data()).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(payload, dict) or payload.get("space_id") != space_id:
        return []
    return [str(v) for v in payload.get("variant_ids", []) if isinstance(v, str)]


ASSETS_MIME = "application/x-forge-studio-assets"
"""Cards (asset ids) dragged off the canvas: the collections panel takes them."""


def put_assets(data: QMimeData, space_id: str, asset_ids: Sequence[str]) -> None:
    payload = json.dumps({"space_id": space_id, "asset_ids": list(asset_ids)})
    data.setData(ASSETS_MIME, QByteArray(payload.encode()))


def get_assets(data: QMimeData | None, space_id: str) -> list[str]:
    """Asset ids carried by ``data`` for this space ([] for anything else)."""
    if data is None or not data.hasFormat(ASSETS_MIME):
        return []
    try:
        payload = json.loads(bytes(data.data(ASSETS_MIME).data()).decode())
    except (ValueError, UnicodeDecodeError):
        return []
    if not isinstance(payload, dict) or payload.get("space_id") != space_id:
        return []
    return [str(a) for a in payload.get("asset_ids", []) if isinstance(a, str)]
