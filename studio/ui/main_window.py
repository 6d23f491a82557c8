"""The main window: spaces and collections on the left, the canvas in the middle, the inspector on the
right; menus, shortcuts, status bar. It is the canvas's host: every user action goes
through its undo stack as core commands.

The window lays the rooms out and answers the host protocol (``studio.ui.host``); the
jobs are done by controllers: which space is open (``SpaceController``), imports
(``ImportController``), the status bar (``StatusController``), find
(``FindController``) and the menus (``WindowMenus``)."""

from __future__ import annotations

import base64
import logging
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, Qt, QThreadPool, QTimer
from PySide6.QtGui import QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from studio.core import settings
from studio.core.actor import Actor
from studio.core.commands import Command
from studio.core.space import Space
from studio.core.studio import Studio
from studio.ui import window_later
from studio.ui.archive_controller import ArchiveController
from studio.ui.canvas import CanvasScene, CanvasView
from studio.ui.collections.banner import CollectionBanner
from studio.ui.collections.panel import CollectionsPanel
from studio.ui.details import AssetDetailsWidget
from studio.ui.filter_panel import FilterPanel
from studio.ui.find_bar import FindBar, FindController
from studio.ui.folders import FolderMemory
from studio.ui.import_controller import ImportController
from studio.ui.refine_follow import RefineFollower
from studio.ui.session import SpaceSession
from studio.ui.space_controller import LAST_SPACE_KEY, SpaceController
from studio.ui.spaces_panel import SpacesPanel
from studio.ui.status_controller import StatusController
from studio.ui.undo import created_assets, push
from studio.ui.window_menus import WindowMenus

if TYPE_CHECKING:  # built after the first frame (studio.ui.window_later)
    from studio.ui.assistant import ChatDockWidget
    from studio.ui.assistant.enhance import PromptEnhancer
    from studio.ui.jobs_panel import JobsPanel
    from studio.ui.sharing.controller import SharingController
    from studio.ui.sharing.people_panel import PeoplePanel
    from studio.ui.style_presets import StylePresetsDialog
    from studio.ui.tray import ForgeTray
    from studio.ui.tray.state import TrayDrafts

log = logging.getLogger(__name__)

GEOMETRY_KEY = settings.WINDOW_GEOMETRY
STATE_KEY = settings.WINDOW_STATE

__all__ = ["LAST_SPACE_KEY", "MainWindow"]


class MainWindow(QMainWindow):
    # made by studio.ui.window_later.build (at once unless ``defer``)
    tray: ForgeTray
    enhancer: PromptEnhancer
    assistant: ChatDockWidget
    jobs_panel: JobsPanel
    sharing: SharingController
    people: PeoplePanel

    def __init__(self, studio: Studio, actor: Actor | None = None, *, defer: bool = False) -> None:
        """``defer``: leave the parts in ``window_later.LATER`` to
        ``window_later.after_first_frame`` (the app: the first frame sooner)."""
        super().__init__()
        self.studio = studio
        self.actor = actor or Actor.local_owner()
        self.undo_stack = QUndoStack(self)
        self.folders = FolderMemory(studio.library, Path.home(), studio.paths.exports_dir)
        """Where the import and export dialogs start (the last folder used)."""
        self.style_editor: StylePresetsDialog | None = None
        self.refines = RefineFollower(self._run_later)
        """Makes a completed refine's variant active (one undoable step)."""
        self.space_control = SpaceController(self)
        self.import_control = ImportController(self)
        self.archive_control = ArchiveController(self)
        self.setWindowTitle("Forge Studio")
        self.resize(1400, 900)

        self.scene = CanvasScene(parent=self)
        self.view = CanvasView(self.scene, self)
        self.view.bulk.status = lambda m: self.statusBar().showMessage(m, 8000)
        self.view.bulk.folders = self.folders
        self.find_bar = FindBar()
        self.find_bar.hide()
        centre = QWidget()
        layout = QVBoxLayout(centre)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.find_bar)
        self.collection_banner = CollectionBanner(self.view)
        layout.addWidget(self.collection_banner)
        layout.addWidget(self.view, 1)
        self.setCentralWidget(centre)
        self.centre_layout = layout

        self.spaces = SpacesPanel(studio)
        self.spaces.open_requested.connect(self.open_space)
        self.spaces.deleted.connect(self.space_control.space_deleted)
        self.spaces.renamed.connect(lambda _sid: self.space_control.update_title())
        self.spaces_dock = self._dock(
            "Spaces", "spacesDock", self.spaces, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.collections = CollectionsPanel(self, self.scene, self.view.bulk)
        self.collections_dock = self._dock(
            "Collections",
            "collectionsDock",
            self.collections,
            Qt.DockWidgetArea.LeftDockWidgetArea,
        )
        self.splitDockWidget(self.spaces_dock, self.collections_dock, Qt.Orientation.Vertical)
        self.collections.opened.connect(self.collection_banner.show_collection)
        self.collection_banner.show_all.connect(self.collections.show_all)
        self.scene.loaded.connect(self.collections.refresh)  # names and thumbnails
        self.filter_panel = FilterPanel()
        self.filter_dock = self._dock(
            "Filters", "filterDock", self.filter_panel, Qt.DockWidgetArea.LeftDockWidgetArea
        )
        self.tabifyDockWidget(self.spaces_dock, self.filter_dock)
        self.spaces_dock.raise_()
        self.inspector = AssetDetailsWidget(self)
        self.inspector_dock = self._dock(
            "Details", "inspectorDock", self.inspector, Qt.DockWidgetArea.RightDockWidgetArea
        )
        right = Qt.DockWidgetArea.RightDockWidgetArea
        # filled by window_later.build: the jobs, the People panel (and the connection
        # banner above the canvas), the assistant, the Forge tray
        room = window_later.placeholder
        self.jobs_dock = self._dock("Jobs", "jobsDock", room(), right)
        self.tabifyDockWidget(self.inspector_dock, self.jobs_dock)
        self.people_dock = self._dock("People", "peopleDock", room(), right)
        self.tabifyDockWidget(self.jobs_dock, self.people_dock)
        self.assistant_dock = self._dock("Assistant", "assistantDock", room(), right)
        self.tabifyDockWidget(self.jobs_dock, self.assistant_dock)
        self.tray_dock = self._dock(
            "Forge",
            "trayDock",
            room(window_later.TRAY_HEIGHT),
            Qt.DockWidgetArea.BottomDockWidgetArea,
        )
        self.inspector_dock.raise_()
        self.status_control = StatusController(self)
        self.queue_label = self.status_control.queue_label
        self.provider_label = self.status_control.provider_label

        self.view.selection_changed.connect(self._selection_changed)
        self.find_control = FindController(self.find_bar, self.scene, self, self.filter_panel)
        self.filter_dock.visibilityChanged.connect(self.find_control.visibility_changed)
        self.menus = WindowMenus(self)
        self.menus.build()
        self._restore_window()
        self.spaces.refresh()
        if not defer:
            window_later.build(self)
        self.status_control.update_status()

    def __getattr__(self, name: str) -> object:
        """A deferred part asked for before it was built: built now."""
        if name in window_later.LATER and not window_later.built(self):
            window_later.build(self)
            return getattr(self, name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ------------------------------------------------------------------ layout
    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        return dock

    def make_tray(self, drafts: TrayDrafts | None = None) -> ForgeTray:
        from studio.assistant.setup import client_for, has_key
        from studio.ui.assistant.enhance import PromptEnhancer
        from studio.ui.tray import ForgeTray
        from studio.ui.tray.state import mode_kind

        tray = ForgeTray(self, self.studio, drafts=drafts)
        tray.placement = self.centre
        tray.edit_styles.connect(self.edit_style_presets)
        self.enhancer = PromptEnhancer(
            tray.prompt,
            lambda: mode_kind(tray.current_mode()),
            lambda: client_for(self.studio.library),
            on_error=self.show_error,
            has_key=lambda: has_key(self.studio.library),
        )
        self.enhancer.attach()  # "Enhance" beside the prompt: both prompts reach the recipe
        return tray

    def edit_style_presets(self) -> StylePresetsDialog:
        """Show the style preset editor (non-modal; one per window)."""
        if self.style_editor is None:
            from studio.ui.style_presets import StylePresetsDialog

            self.style_editor = StylePresetsDialog(self, self)
        self.style_editor.set_space(self.space)
        self.style_editor.show()
        self.style_editor.raise_()
        self.style_editor.activateWindow()
        return self.style_editor

    def centre(self) -> tuple[float, float]:
        p = self.view.center()
        return p.x(), p.y()

    # ------------------------------------------------------------------ spaces
    @property
    def session(self) -> SpaceSession | None:
        return self.space_control.session

    @property
    def space(self) -> Space | None:
        return self.space_control.space

    def open_space(self, space_id: str) -> None:
        self.space_control.open_space(space_id)

    def close_space(self) -> None:
        self.space_control.close_space()

    # ------------------------------------------------------------------ host
    def run(self, cmds: Sequence[Command], text: str) -> bool:
        space = self.space
        if space is None:
            self.show_error("Open a space first.")
            return False
        cmds = self.enhancer.annotate(cmds)
        if space.is_replica:  # a joined space: the host applies it (or it waits here)
            return self.sharing.send(cmds, text)
        step = push(self.undo_stack, space, self.actor, list(cmds), text, self.show_error)
        if step is None:
            return False
        self.refines.watch(step.applied)
        self.reveal_new(created_assets(step.applied))
        return True

    def reveal_new(self, new: Sequence[str]) -> None:
        """The user's own new cards (here, or applied by the host of a joined space):
        selected and brought into sight, out of a collection that does not hold them."""
        if not new:
            return
        scope = self.scene.scope
        if scope is not None and not scope.issuperset(new):
            self.collections.show_all()  # not in the open collection: show them
        self.view.reveal(new)

    def _run_later(self, cmds: Sequence[Command], text: str) -> bool:
        """:meth:`run` once the event loop is back (never inside another step's push)."""
        QTimer.singleShot(0, lambda: self.run(cmds, text))
        return True

    def import_paths(
        self, paths: Sequence[Path], at: tuple[float, float], into: str | None = None
    ) -> None:
        self.import_control.import_paths(paths, at, into)

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

    def fetch_original(self, variant_id: str, ready: Callable[[], None]) -> bool:
        return self.sharing.fetch_original(variant_id, ready)

    def show_error(self, message: str) -> None:
        box = QMessageBox(QMessageBox.Icon.Warning, "Forge Studio", message, parent=self)
        box.setObjectName("errorMessage")
        box.setModal(False)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.show()
        self.statusBar().showMessage(message.splitlines()[0], 8000)

    def open_preferences(self, page: str = "") -> None:
        from studio.ui.preferences import PreferencesDialog

        dialog = PreferencesDialog(self.studio, self, page)
        dialog.providers_changed.connect(self._providers_changed)
        dialog.exec()

    def _providers_changed(self) -> None:
        """Keys or provider settings changed: rebuild the registry and reopen the space."""
        self.studio.reload_providers()
        # its options list the providers; each space's draft carries over
        old_tray, self.tray = self.tray, self.make_tray(self.tray.drafts)
        old_tray.set_space(None)
        self.tray_dock.setWidget(self.tray)
        old_tray.deleteLater()
        if self.session is not None:
            sid = self.session.space.id
            self.close_space()
            self.open_space(sid)
        self.status_control.update_status()
        self.assistant.check_key()

    def _selection_changed(self, ids: list[str]) -> None:
        self.inspector.show_asset(ids[0] if len(ids) == 1 else None, len(ids))

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
        self.spaces.stop_clock()
        built = window_later.ready(self)
        window_later.skip(self)  # not after this
        if built:
            self.assistant.shutdown()
        self.close_space()
        self.find_control.close()
        if built:
            self.sharing.close()
        QThreadPool.globalInstance().waitForDone(5000)
        self.scene.thumbs.close()
        super().closeEvent(event)
