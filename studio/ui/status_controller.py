"""The status bar's permanent part: the queue (running / queued / failed, paused) and
the providers online; refreshed a moment after the events that change them."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from studio.core.protocol import (
    AssetData,
    Deleted,
    Empty,
    JobData,
    JobProgress,
    TypedEvent,
    VariantData,
    VariantDeleted,
)
from studio.ui import window_later

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class StatusController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self._counts: dict[str, int] = {}
        self.queue_label = QLabel()
        self.provider_label = QLabel()
        window.statusBar().addPermanentWidget(self.queue_label)
        window.statusBar().addPermanentWidget(self.provider_label)
        self._status_timer = QTimer(self, singleShot=True, interval=150)
        self._status_timer.timeout.connect(self.update_status)
        window.scene.loaded.connect(self.update_status)  # the open space's count is known

    @property
    def win(self) -> MainWindow:
        """The parent (not kept in an attribute: no reference cycle, so a dropped
        MainWindow is freed at once and its timers die with it)."""
        return cast("MainWindow", self.parent())

    def follow(self, event: TypedEvent) -> None:
        """Refresh a moment after what changes the counts: jobs, the queue, variants,
        assets coming and going."""
        match event:
            case TypedEvent(data=JobData() | JobProgress() | VariantData() | VariantDeleted()):
                self._status_timer.start()
            case TypedEvent(kind="queue:paused" | "queue:resumed", data=Empty()):
                self._status_timer.start()
            case TypedEvent(kind="asset:created" | "asset:restored", data=AssetData()):
                self._status_timer.start()
            case TypedEvent(kind="asset:deleted", data=Deleted()):
                self._status_timer.start()

    def counts_changed(self, counts: dict[str, int]) -> None:
        self._counts = dict(counts)
        self.update_status()

    def update_status(self) -> None:
        """Counts from what the window holds (the canvas's rows, the jobs panel's
        counts), never from SQL: this runs on the UI thread after every change."""
        w = self.win
        space = w.space
        model = w.scene.model
        shown = space is not None and w.scene.space is space and not w.scene.is_loading()
        if shown and space is not None:  # the canvas holds every live asset row
            w.spaces.set_count(space.id, len(model.assets))
        counts = self._counts if w.session else {}
        parts = []
        if counts.get("running"):
            parts.append(f"{counts['running']} running")
        if counts.get("queued"):
            parts.append(f"{counts['queued']} queued")
        if counts.get("failed"):
            parts.append(f"{counts['failed']} failed")
        paused = shown and model.queue_paused
        text = "Jobs: " + ", ".join(parts) if parts else "Queue idle"
        problem = w.session.problem() if w.session else ""
        if problem:  # jobs may stay unfinished until the space can be written again
            text = f"Jobs stopped: {problem}"
        self.queue_label.setText(("Queue paused · " if paused else "") + text)
        if not window_later.ready(w):  # the registry asks the keyring: not before the
            return  # first frame (window_later.build updates this once it is made)
        names = [n for n in w.studio.providers.names() if n != "local"]
        self.provider_label.setText(
            "Providers: local (offline)" + (f" · online: {', '.join(names)}" if names else "")
        )
