"""Decoding small pictures (thumbnails, posters) for widgets, scaled while decoding."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QSize, Qt
from PySide6.QtGui import QImage, QImageReader


def read_image(path: Path, box: int | None = None, *, cover: bool = False) -> QImage:
    """Decode ``path`` (EXIF orientation applied). With ``box``: scaled down to fit inside
    ``box``×``box`` or, with ``cover``, so the shorter side is ``box``. A null image when
    the file is missing or broken."""
    reader = QImageReader(str(path))
    reader.setAutoTransform(True)
    size = reader.size()
    if box is not None and size.isValid() and size.width() > 0 and size.height() > 0:
        mode = (
            Qt.AspectRatioMode.KeepAspectRatioByExpanding
            if cover
            else Qt.AspectRatioMode.KeepAspectRatio
        )
        scaled = size.scaled(QSize(box, box), mode)
        if scaled.width() < size.width():
            reader.setScaledSize(scaled)
    return reader.read()
