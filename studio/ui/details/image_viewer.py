"""An image viewer with zoom and pan: the wheel zooms around the cursor (with Ctrl only,
when ``wheel_zooms`` is off, so a scrolling panel still scrolls), dragging pans, and
the first show fits the picture. ``view_changed(scale, fx, fy)`` reports the zoom and
the visible centre as fractions of the image, so a compare view can mirror it with
:meth:`ImageViewer.sync_view`."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QMouseEvent,
    QPainter,
    QPixmap,
    QResizeEvent,
    QTransform,
    QWheelEvent,
)
from PySide6.QtWidgets import (
    QGraphicsPixmapItem,
    QGraphicsScene,
    QGraphicsView,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.ui.details.thumbs import read_image

MIN_SCALE = 0.02
MAX_SCALE = 32.0
STEP = 1.25


class ImageViewer(QGraphicsView):
    view_changed = Signal(float, float, float)
    activated = Signal()  # double-click

    def __init__(self, parent: QWidget | None = None, *, wheel_zooms: bool = True) -> None:
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setResizeAnchor(QGraphicsView.ViewportAnchor.AnchorViewCenter)
        self.setBackgroundBrush(QColor("#15171c"))
        self.setFrameShape(QGraphicsView.Shape.NoFrame)
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self._fit_mode = True
        self._syncing = False
        self.wheel_zooms = wheel_zooms
        self.horizontalScrollBar().valueChanged.connect(self._report)
        self.verticalScrollBar().valueChanged.connect(self._report)

    # ------------------------------------------------------------------ content
    def set_image(self, path: Path | None) -> bool:
        """Show the image at ``path`` (fitted). False if it could not be read."""
        image = read_image(path) if path is not None else None
        if image is None or image.isNull():
            self._item.setPixmap(QPixmap())
            return False
        self.set_pixmap(QPixmap.fromImage(image))
        return True

    def set_pixmap(self, pixmap: QPixmap) -> None:
        self._item.setPixmap(pixmap)
        self.scene().setSceneRect(QRectF(pixmap.rect()))
        self.fit()

    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def image_size(self) -> tuple[int, int]:
        pm = self._item.pixmap()
        return pm.width(), pm.height()

    # ------------------------------------------------------------------ zoom
    def scale_factor(self) -> float:
        return float(self.transform().m11())

    def fit(self) -> None:
        self._fit_mode = True
        if self.has_image():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)
            if self.scale_factor() > 1.0:  # never blow small images up just to fit
                self.resetTransform()
        self._report()

    def actual_size(self) -> None:
        self._fit_mode = False
        self.resetTransform()
        self._report()

    def zoom_in(self) -> None:
        self.zoom_by(STEP)

    def zoom_out(self) -> None:
        self.zoom_by(1 / STEP)

    def zoom_by(self, factor: float) -> None:
        now = self.scale_factor()
        target = min(MAX_SCALE, max(MIN_SCALE, now * factor))
        if target == now:
            return
        self._fit_mode = False
        self.scale(target / now, target / now)
        self._report()

    # ------------------------------------------------------------------ sync
    def visible_centre(self) -> tuple[float, float]:
        w, h = self.image_size()
        c = self.mapToScene(self.viewport().rect().center())
        return (c.x() / w if w else 0.5, c.y() / h if h else 0.5)

    def sync_view(self, scale: float, fx: float, fy: float) -> None:
        """Show the same zoom and the same point of the image as another viewer."""
        if not self.has_image():
            return
        self._syncing = True
        try:
            self._fit_mode = False
            self.setTransform(QTransform.fromScale(scale, scale))
            w, h = self.image_size()
            self.centerOn(QPointF(fx * w, fy * h))
        finally:
            self._syncing = False

    def _report(self) -> None:
        if self._syncing or not self.has_image():
            return
        fx, fy = self.visible_centre()
        self.view_changed.emit(self.scale_factor(), fx, fy)

    # ------------------------------------------------------------------ events
    def wheelEvent(self, event: QWheelEvent) -> None:
        ctrl = bool(event.modifiers() & Qt.KeyboardModifier.ControlModifier)
        if not (self.wheel_zooms or ctrl):
            super().wheelEvent(event)
            return
        delta = event.angleDelta().y()
        if delta:
            self.zoom_by(STEP ** (delta / 120))
        event.accept()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        if self._fit_mode:
            self.fit()

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:
        self.activated.emit()
        event.accept()


class ImagePane(QWidget):
    """An :class:`ImageViewer` with a small zoom bar (−, fit, 1:1, +, zoom %)."""

    def __init__(self, parent: QWidget | None = None, *, compact: bool = False) -> None:
        super().__init__(parent)
        self.viewer = ImageViewer(wheel_zooms=not compact)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.setSpacing(2)
        self.buttons: dict[str, QToolButton] = {}
        for key, text, tip, slot in (
            ("out", "−", "Zoom out", self.viewer.zoom_out),
            ("fit", "Fit", "Fit to the view", self.viewer.fit),
            ("actual", "1:1", "Actual size", self.viewer.actual_size),
            ("in", "+", "Zoom in", self.viewer.zoom_in),
        ):
            b = QToolButton()
            b.setText(text)
            b.setToolTip(tip)
            b.setAutoRaise(True)
            b.clicked.connect(slot)
            bar.addWidget(b)
            self.buttons[key] = b
        self.zoom_label = QLabel("")
        self.zoom_label.setStyleSheet("color: #9aa3b2;")
        bar.addWidget(self.zoom_label)
        bar.addStretch(1)
        self.info = QLabel("")
        self.info.setStyleSheet("color: #9aa3b2;")
        bar.addWidget(self.info)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(self.viewer, 1)
        layout.addLayout(bar)
        self.viewer.view_changed.connect(lambda s, *_: self.zoom_label.setText(f"{s * 100:.0f}%"))

    def set_image(self, path: Path | None) -> bool:
        ok = self.viewer.set_image(path)
        w, h = self.viewer.image_size()
        self.info.setText(f"{w}×{h}" if ok else "The image could not be read")
        return ok

    def close_media(self) -> None:
        pass
