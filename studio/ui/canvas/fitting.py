"""A view fitted to its content stays fitted while its viewport resizes, until the user
zooms or pans: the docks that take their places once the window is up (and any window
resize) would otherwise cut off what :meth:`CanvasView.fit_all` showed — the Welcome
frame a new user first sees was cut off at the right."""

from __future__ import annotations

from typing import Protocol

from PySide6.QtCore import QPointF, QSize
from PySide6.QtWidgets import QWidget


class _View(Protocol):
    def current_scale(self) -> float: ...
    def center(self) -> QPointF: ...
    def to_scene(self, p: QPointF) -> QPointF: ...
    def viewport(self) -> QWidget: ...


def _where(scale: float, c: QPointF) -> tuple[float, float, float]:
    return round(scale, 9), round(c.x(), 1), round(c.y(), 1)


class FitMemory:
    """Where :meth:`CanvasView.fit_all` left the view (scale and centre)."""

    def __init__(self) -> None:
        self._at: tuple[float, float, float] | None = None

    def remember(self, view: _View) -> None:
        self._at = _where(view.current_scale(), view.center())

    def still(self, view: _View, centre: QPointF) -> bool:
        """Is the view, centred on ``centre``, still where the fit left it?"""
        return self._at is not None and self._at == _where(view.current_scale(), centre)


def centre_before_resize(view: _View, old: QSize, new: QSize) -> QPointF:
    """The scene point at the viewport's centre before a resize from ``old`` to ``new``
    (the view's sizes), asked in its resize event: the viewport has its new size
    already, the scroll position is still the old one."""
    if not old.isValid():
        return view.center()
    vp = view.viewport()
    w = vp.width() + old.width() - new.width()
    h = vp.height() + old.height() - new.height()
    return view.to_scene(QPointF(w / 2, h / 2))
