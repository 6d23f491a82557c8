"""Small thumbnails for the details views (variant grid, lineage nodes, compare picker).

The files are the variants' ``thumb.webp`` (at most 512 px; a waveform for audio), so
decoding a few dozen scaled down on the UI thread costs milliseconds. A little LRU keeps
them across refreshes (keyed by path, size and modification time).
"""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from PySide6.QtGui import QPixmap

from studio.ui.images import read_image

_CACHE: OrderedDict[tuple[str, int, int], QPixmap] = OrderedDict()
_CACHE_MAX = 400


def load_thumb(media_dir: object, rel: str | None, box: int) -> QPixmap | None:
    """The pixmap of ``media_dir / rel`` fitting ``box`` px, or None if missing/broken."""
    if not rel or not isinstance(media_dir, Path):
        return None
    path = media_dir / rel
    try:
        mtime = path.stat().st_mtime_ns
    except OSError:
        return None
    key = (str(path), box, mtime)
    hit = _CACHE.get(key)
    if hit is not None:
        _CACHE.move_to_end(key)
        return hit
    image = read_image(path, box)
    if image.isNull():
        return None
    pm = QPixmap.fromImage(image)
    _CACHE[key] = pm
    while len(_CACHE) > _CACHE_MAX:
        _CACHE.popitem(last=False)
    return pm
