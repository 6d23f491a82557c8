"""The main window: spaces on the left, the canvas in the middle, the inspector on the
right; menus, shortcuts, status bar. It is the canvas's host: every user action goes
through its undo stack as core commands."""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QByteArray, QObject, QRunnable, Qt, QThreadPool, QTimer, QUrl, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDesktopServices, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QLabel,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from studio.core import commands as c
from studio.core import settings
from studio.core.actor import Actor
from studio.core.commands import Command
from studio.core.errors import StudioError
from studio.core.events import Event
from studio.core.imports import ImportReport, import_files
from studio.core.space import Snapshot, Space
from studio.core.studio import Studio
from studio.ui.canvas import CanvasScene, CanvasView
from studio.ui.canvas.filtering import parse_query
from studio.ui.details import AssetDetailsWidget
from studio.ui.find_bar import FindBar
from studio.ui.jobs_panel import JobsPanel
from studio.ui.preferences import PreferencesDialog
from studio.ui.session import SpaceSession
from studio.ui.spaces_panel import SpacesPanel
from studio.ui.tray import ForgeTray
from studio.ui.undo import AppliedStep, load_history, push

log = logging.getLogger(__name__)

GEOMETRY_KEY = settings.WINDOW_GEOMETRY
STATE_KEY = settings.WINDOW_STATE
LAST_SPACE_KEY = settings.LAST_SPACE


class _SpaceJob(QObject, QRunnable):
    """Background work on an open space; the window waits for it before closing it."""

    done = Signal(object, object)

    def __init__(self, space: Space) -> None:
        QObject.__init__(self)
        QRunnable.__init__(self)
        self.setAutoDelete(False)
        self.space = space
        self.finished = threading.Event()

    def run(self) -> None:
        try:
            self.work()
        finally:
            self.finished.set()

    def work(self) -> None:
        raise NotImplementedError


class _ImportJob(_SpaceJob):
    """Emits ``done(ImportReport, origin)``."""

    def __init__(
        self,
        space: Space,
        actor: Actor,
        paths: list[Path],
        at: tuple[float, float],
        into: str | None,
    ) -> None:
        super().__init__(space)
        self.args = (paths, actor, into, at)

    def work(self) -> None:
        paths, actor, into, at = self.args
        self.done.emit(import_files(self.space, paths, actor, into=into, origin=at), at)


class _SnapshotJob(_SpaceJob):
    """Emits ``done(Space, Snapshot)``."""

    def work(self) -> None:
        self.done.emit(self.space, self.space.snapshot())


def prompts_of(space: Space, variant_ids: Sequence[str]) -> dict[str, str]:
    """Prompts (or original file names) of many variants, a few queries in all."""
    out: dict[str, str] = {}
    ids = list(variant_ids)
    for i in range(0, len(ids), 500):
        chunk = ids[i : i + 500]
        marks = ",".join("?" * len(chunk))
        for vid, prompt in space.query(
            "SELECT id, COALESCE(json_extract(recipe, '$.prompt'), "
            f"json_extract(recipe, '$.original_name'), '') FROM variants WHERE id IN ({marks})",
            tuple(chunk),
        ):
            out[str(vid)] = str(prompt or "")
    return out


class MainWindow(QMainWindow):
    def __init__(self, studio: Studio, actor: Actor | None = None) -> None:
        super().__init__()
        self.studio = studio
        self.actor = actor or Actor.local_owner()
        self.session: SpaceSession | None = None
        self.undo_stack = QUndoStack(self)
        self._jobs: list[_SpaceJob] = []
        self._held: list[Event] | None = None
        self._fit_when_loaded = False
        self.setWindowTitle("Forge Studio")
        self.resize(1400, 900)

        self.scene = CanvasScene(parent=self)
        self.view = CanvasView(self.scene, self)
        self.find_bar = FindBar()
        self.find_bar.hide()
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.find_bar)
        layout.addWidget(self.view, 1)
        self.setCentralWidget(centre)

        self.spaces = SpacesPanel(studio)
        self.spaces.open_requested.connect(self.open_space)
        self.spaces.deleted.connect(self._space_deleted)
        self.spaces.renamed.connect(lambda _sid: self._update_title())
        self.spaces_dock = self._dock(
            "Spaces", "spacesDock", self.spaces, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.inspector = AssetDetailsWidget(self)
        self.inspector_dock = self._dock(
            "Details", "inspectorDock", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.jobs_panel = JobsPanel(self)
        self.jobs_dock = self._dock(
            "Jobs", "jobsDock", self.jobs_panel, Qt.DockWidgetArea.RightDockWidgetArea
        )
        self.tabifyDockWidget(self.inspector_dock, self.jobs_dock)
        self.tray = self._make_tray()
        self.tray_dock = self._dock(
            "Forge", "trayDock", self.tray, Qt.DockWidgetArea.BottomDockWidgetArea
        )
        self.inspector_dock.raise_()
        self.jobs_panel.counts_changed.connect(self._counts_changed)
        self._counts: dict[str, int] = {}

        self.queue_label = QLabel()
        self.provider_label = QLabel()
        self.statusBar().addPermanentWidget(self.queue_label)
        self.statusBar().addPermanentWidget(self.provider_label)
        self._status_timer = QTimer(self, singleShot=True, interval=150)
        self._status_timer.timeout.connect(self._update_status)

        self.view.selection_changed.connect(self._selection_changed)
        self.find_bar.changed.connect(self._find_changed)
        self.find_bar.step.connect(self._find_step)
        self.find_bar.closed.connect(self.scene.clear_filter)
        self._match = 0
        self._build_menus()
        self._restore_window()
        self.spaces.refresh()
        self._update_status()

    # ------------------------------------------------------------------ layout
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def _build_menus(self) -> None:
        bar = self.menuBar()

        def act(menu, text, slot, shortcut=None, name=None):  # type: ignore[no-untyped-def]
            a = QAction(text, self)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            if name:
                a.setObjectName(name)
            menu.addAction(a)
            return a

        file = bar.addMenu("&File")
        act(file, "&New space…", self.spaces.create_space, QKeySequence.StandardKey.New, "newSpace")
        act(file, "&Import…", self.import_dialog, "Ctrl+I", "import")
        file.addSeparator()
        act(file, "&Preferences…", self.preferences, QKeySequence.StandardKey.Preferences)
        act(file, "Open data &folder", self.open_data_folder)
        file.addSeparator()
        act(file, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        undo = self.undo_stack.createUndoAction(self, "&Undo")
        undo.setShortcut(QKeySequence("Ctrl+Z"))
        redo = self.undo_stack.createRedoAction(self, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        act(edit, "&Delete", self.delete_selection, QKeySequence.StandardKey.Delete, "delete")
        act(edit, "Select &all", self.scene.select_all, QKeySequence.StandardKey.SelectAll)
        act(edit, "&Find…", self.find_bar.open_bar, QKeySequence.StandardKey.Find, "find")
        act(edit, "New &frame around selection", self.frame_selection, "Ctrl+Shift+F")

        view = bar.addMenu("&View")
        act(view, "&Fit all", self.view.fit_all, "F")
        act(view, "Open asset &details", self.inspector.open_full_view, "Ctrl+D", "fullView")
        act(view, "Zoom &in", self.view.zoom_in, QKeySequence.StandardKey.ZoomIn)
        act(view, "Zoom &out", self.view.zoom_out, QKeySequence.StandardKey.ZoomOut)
        view.addSeparator()
        view.addAction(self.spaces_dock.toggleViewAction())
        view.addAction(self.inspector_dock.toggleViewAction())
        view.addAction(self.jobs_dock.toggleViewAction())
        view.addAction(self.tray_dock.toggleViewAction())

        gen = bar.addMenu("&Generate")
        act(gen, "&Write a prompt", self.focus_tray, "Ctrl+G", "focusTray")
        act(gen, "&Generate", self.generate, "Ctrl+Return", "generate")
        act(gen, "&Pause queue", lambda: self.run([c.PauseQueue()], "Pause queue"))
        act(gen, "&Resume queue", lambda: self.run([c.ResumeQueue()], "Resume queue"))

        help_ = bar.addMenu("&Help")
        act(help_, "&About Forge Studio", self.about)

    # ------------------------------------------------------------------ spaces
    @property
    def space(self) -> Space | None:
        return None if self.session is None else self.session.space

    def open_space(self, space_id: str) -> None:
        if self.session is not None and self.session.space.id == space_id:
            return
        self.close_space()
        try:
            space = self.studio.open_space(space_id)
        except StudioError as exc:
            self.show_error(exc.message)
            return
        self.session = SpaceSession(self.studio, space, self)
        load_history(self.undo_stack, space, self.actor, self.show_error)  # kept by the core
        self._held = []  # events that arrive while the snapshot is read
        self.session.event.connect(self._on_event)
        state = settings.get_or(self.studio.library, f"ui.view.{space.id}", None)
        self._fit_when_loaded = not state
        if state:
            view_state = json.loads(state)
            self.view.restore_view_state(view_state)
            # again once the layout has settled and the viewport has its real size
            QTimer.singleShot(0, lambda: self.view.restore_view_state(view_state))
        job = _SnapshotJob(space)
        job.done.connect(self._snapshot_ready)
        self._jobs.append(job)
        QThreadPool.globalInstance().start(job)  # a big space's snapshot takes ~0.5 s
        self.jobs_panel.set_space(space)
        self.tray.set_space(space)
        self.inspector.set_space(space)
        settings.remember(self.studio.library, LAST_SPACE_KEY, space.id)
        self.spaces.refresh(space.id)
        self.inspector.show_asset(None)
        self._update_title()
        self._update_status()

    def _snapshot_ready(self, space: Space, snapshot: Snapshot) -> None:
        self._jobs = [j for j in self._jobs if j is not self.sender()]
        if self.space is not space:
            return  # another space was opened meanwhile
        self.scene.set_prompt_source(lambda ids: prompts_of(space, ids))
        self.scene.load(space, snapshot, focus=self.view.visible_scene_rect())
        held, self._held = self._held, None
        for event in held or []:
            self.scene.apply_event(event)  # the scene skips what the snapshot has
        if self._fit_when_loaded:
            QTimer.singleShot(0, self.view.fit_all)
            self.scene.loaded.connect(self._fit_once)

    def _fit_once(self) -> None:
        self.scene.loaded.disconnect(self._fit_once)
        if self._fit_when_loaded:
            self._fit_when_loaded = False
            self.view.fit_all()

    def close_space(self) -> None:
        if self.session is None:
            return
        space = self.session.space
        for job in self._jobs:  # imports and snapshots still reading this space
            job.finished.wait(60)
        self._jobs.clear()
        settings.remember(
            self.studio.library, f"ui.view.{space.id}", json.dumps(self.view.view_state())
        )
        self.undo_stack.clear()
        self.jobs_panel.set_space(None)
        self.tray.set_space(None)
        self.inspector.set_space(None)
        self._held = None
        self.scene.clear_canvas()
        self.inspector.show_asset(None)
        self.session.close()
        self.session = None
        self._update_title()

    def _space_deleted(self, space_id: str) -> None:
        if self.session is not None and self.session.space.id == space_id:
            self.close_space()

    def _update_title(self) -> None:
        if self.session is None:
            self.setWindowTitle("Forge Studio")
            return
        entry = self.studio.resolve(self.session.space.id)
        self.setWindowTitle(f"{entry.name} — Forge Studio")

    # ------------------------------------------------------------------ host
    def run(self, cmds: Sequence[Command], text: str) -> bool:
        space = self.space
        if space is None:
            self.show_error("Open a space first.")
            return False
        return (
            push(self.undo_stack, space, self.actor, list(cmds), text, self.show_error) is not None
        )

    def import_paths(
        self, paths: Sequence[Path], at: tuple[float, float], into: str | None = None
    ) -> None:
        space = self.space
        if space is None:
            self.show_error("Open a space first.")
            return
        job = _ImportJob(space, self.actor, [Path(p) for p in paths], at, into)
        job.done.connect(self._import_done)
        self._jobs.append(job)
        self.statusBar().showMessage(f"Importing {len(paths)} file(s)…")
        QThreadPool.globalInstance().start(job)

    def _import_done(self, report: ImportReport, _at: object) -> None:
        job = self.sender()
        self._jobs = [j for j in self._jobs if j is not job]
        space = self.space
        same_space = isinstance(job, _SpaceJob) and job.space is space
        if report.imported and space is not None and same_space:
            n = len(report.imported)
            self.undo_stack.push(
                AppliedStep(
                    space,
                    self.actor,
                    report.undo,
                    f"Import {n} file{'s' if n != 1 else ''}",
                    self.show_error,
                )
            )
        self.statusBar().showMessage(f"Imported {len(report.imported)} file(s)", 4000)
        if report.refused:
            lines = "\n".join(r.line() for r in report.refused)
            self.show_error(f"{len(report.refused)} file(s) were not imported:\n{lines}")

    def open_details(self, asset_id: str) -> None:
        self.inspector_dock.show()
        self.inspector_dock.raise_()
        self.inspector.show_asset(asset_id)

    def add_to_tray(self, variant_ids: Sequence[str]) -> None:
        self.tray_dock.show()
        self.tray.add_references(list(variant_ids))

    def use_recipe(self, variant_id: str) -> None:
        self.tray_dock.show()
        self.tray.fill_from_recipe(variant_id)
        self.tray.prompt.setFocus()

    def show_asset(self, asset_id: str) -> None:
        card = self.scene.card(asset_id)
        if card is not None:
            self.scene.select([asset_id])
            self.view.focus_rect(card.sceneBoundingRect())
        self.open_details(asset_id)

    def show_error(self, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Forge Studio", message, parent=self)
        box.setObjectName("errorMessage")
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.statusBar().showMessage(message.splitlines()[0], 8000)

    # ------------------------------------------------------------------ actions
    def import_dialog(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(
            self,
            "Import files",
            str(Path.home()),
            "Media (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff "
            "*.wav *.mp3 *.flac *.ogg *.m4a *.mp4 *.mov *.webm);;All files (*)",
        )
        if files:
            self.import_paths([Path(f) for f in files], self._centre())

    def focus_tray(self) -> None:
        self.tray_dock.show()
        self.tray_dock.raise_()
        self.tray.prompt.setFocus()

    def generate(self) -> None:
        if self.space is None:
            self.show_error("Open a space first.")
            return
        self.tray.generate()

    def _make_tray(self) -> ForgeTray:
        tray = ForgeTray(self, self.studio)
        tray.placement = self._centre
        return tray

    def delete_selection(self) -> None:
        self.view.delete_selection()

    def _centre(self) -> tuple[float, float]:
        p = self.view.center()
        return p.x(), p.y()

    def frame_selection(self) -> None:
        self.view.create_frame_around_selection("Frame")

    def preferences(self) -> None:
        self.open_preferences()

    def open_preferences(self, page: str = "") -> None:
        dialog = PreferencesDialog(self.studio, self, page)
        dialog.providers_changed.connect(self._providers_changed)
        dialog.exec()

    def _providers_changed(self) -> None:
        """Keys or provider settings changed: rebuild the registry and reopen the space."""
        self.studio.reload_providers()
        old_tray, self.tray = self.tray, self._make_tray()  # its options list the providers
        old_tray.set_space(None)
        self.tray_dock.setWidget(self.tray)
        old_tray.deleteLater()
        if self.session is not None:
            sid = self.session.space.id
            self.close_space()
            self.open_space(sid)
        self._update_status()

    def open_data_folder(self) -> None:
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.studio.paths.home)))

    def about(self) -> None:
        QMessageBox.about(
            self,
            "About Forge Studio",
            f"Forge Studio — a local AI asset studio.\nData folder: {self.studio.paths.home}",
        )

    # ------------------------------------------------------------------ events
    def _on_event(self, event: Event) -> None:
        self.jobs_panel.apply_event(event)
        self.tray.apply_event(event)
        self.inspector.apply_event(event)
        if self._held is not None:
            self._held.append(event)
        else:
            self.scene.apply_event(event)
        if event.type.startswith(("job:", "queue:", "variant:")):
            self._status_timer.start()
        if event.type in ("asset:created", "asset:deleted", "asset:restored"):
            self._status_timer.start()

    def _selection_changed(self, ids: list[str]) -> None:
        self.inspector.show_asset(ids[0] if len(ids) == 1 else None, len(ids))

    def _find_changed(self, criteria: dict[str, object]) -> None:
        query = parse_query(str(criteria.get("text") or ""))
        kind = criteria.get("media_kind")
        query = dataclasses.replace(
            query,
            media_kinds=query.media_kinds | {str(kind)} if kind else query.media_kinds,
            starred=True if criteria.get("starred") else query.starred,
        )
        total = self.scene.set_filter(None if query.empty else query)
        self._match = 0
        self.find_bar.set_count(1 if total else 0, total)
        if total:
            self.scene.focus_match(0)

    def _find_step(self, delta: int) -> None:
        total = len(self.scene.matches())
        if not total:
            return
        self._match = (self._match + delta) % total
        self.scene.focus_match(self._match)
        self.find_bar.set_count(self._match + 1, total)

    def _counts_changed(self, counts: dict[str, int]) -> None:
        self._counts = dict(counts)
        self._update_status()

    def _update_status(self) -> None:
        if self.space is not None:
            n = self.space.query("SELECT COUNT(*) FROM assets WHERE deleted_at IS NULL")[0][0]
            self.spaces.set_count(self.space.id, int(n))
        counts = self._counts if self.session else {}
        parts = []
        if counts.get("running"):
            parts.append(f"{counts['running']} running")
        if counts.get("queued"):
            parts.append(f"{counts['queued']} queued")
        if counts.get("failed"):
            parts.append(f"{counts['failed']} failed")
        paused = self.space is not None and self.space.queue_paused()
        text = "Jobs: " + ", ".join(parts) if parts else "Queue idle"
        self.queue_label.setText(("Queue paused · " if paused else "") + text)
        names = [n for n in self.studio.providers.names() if n != "local"]
        self.provider_label.setText(
            "Providers: local (offline)" + (f" · online: {', '.join(names)}" if names else "")
        )

    # ------------------------------------------------------------------ persistence
    def _restore_window(self) -> None:
        geo = settings.get_or(self.studio.library, GEOMETRY_KEY, None)
        state = settings.get_or(self.studio.library, STATE_KEY, None)
        if geo:
            self.restoreGeometry(QByteArray(base64.b64decode(geo)))
        if state:
            self.restoreState(QByteArray(base64.b64decode(state)))

    def save_window(self) -> None:
        lib = self.studio.library
        geometry = base64.b64encode(bytes(self.saveGeometry().data())).decode()
        settings.remember(lib, GEOMETRY_KEY, geometry)
        settings.remember(lib, STATE_KEY, base64.b64encode(bytes(self.saveState().data())).decode())

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_window()
        self.close_space()
        QThreadPool.globalInstance().waitForDone(5000)
        self.scene.thumbs.close()
        super().closeEvent(event)
