"""The asset canvas: cards (views of asset rows) and frames on an infinite board.

``CanvasScene`` shows a space's snapshot and follows core events; ``CanvasView``
navigates it and turns gestures into commands for a ``CanvasHost``;
``ThumbnailCache`` loads thumbnails off the UI thread. See each module's doc.
"""

from studio.ui.canvas.filtering import CanvasFilter, parse_query
from studio.ui.canvas.scene import CanvasScene
from studio.ui.canvas.thumbs import ThumbnailCache
from studio.ui.canvas.view import CanvasView

__all__ = ["CanvasFilter", "CanvasScene", "CanvasView", "ThumbnailCache", "parse_query"]
