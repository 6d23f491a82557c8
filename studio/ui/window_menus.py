"""The main window's menu bar and the small actions only the menus trigger."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from studio.core import commands as c
from studio.core.layout import ArrangeBy
from studio.ui import bulk_actions
from studio.ui.collections.panel import NEW_SHORTCUT as NEW_COLLECTION_SHORTCUT
from studio.ui.folders import Opener, show_folder, system_open

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow


class WindowMenus(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.opener: Opener = system_open
        """Opens a folder in the file manager (tests replace it)."""

    @property
    def win(self) -> MainWindow:
        """The parent (not kept in an attribute: no reference cycle, so a dropped
        MainWindow is freed at once and its timers die with it)."""
        return cast("MainWindow", self.parent())

    def build(self) -> None:
        w = self.win
        bar = w.menuBar()

        def act(
            menu: QMenu,
            text: str,
            slot: Callable[[], object],
            shortcut: QKeySequence.StandardKey | str | None = None,
            name: str | None = None,
        ) -> QAction:
            a = QAction(text, w)
            if shortcut is not None:
                a.setShortcut(QKeySequence(shortcut))
            a.triggered.connect(slot)
            if name:
                a.setObjectName(name)
            menu.addAction(a)
            return a

        file = bar.addMenu("&File")
        act(file, "&New space…", w.spaces.create_space, QKeySequence.StandardKey.New, "newSpace")
        act(file, "&Import…", w.import_control.import_dialog, "Ctrl+I", "import")
        file.addSeparator()
        act(file, "&Export space…", w.archive_control.export_dialog, None, "exportSpace")
        act(file, "Import s&pace…", w.archive_control.import_dialog, None, "importSpace")
        file.addSeparator()
        act(file, "&Share space…", self.share, "Ctrl+Shift+S", "share")
        act(file, "&Join space…", self.join, "Ctrl+Shift+J", "join")
        file.addSeparator()
        act(file, "&Preferences…", self.preferences, QKeySequence.StandardKey.Preferences)
        act(file, "Open data &folder", self.open_data_folder)
        file.addSeparator()
        act(file, "&Quit", w.close, QKeySequence.StandardKey.Quit)

        edit = bar.addMenu("&Edit")
        undo = w.undo_stack.createUndoAction(w, "&Undo")
        undo.setShortcut(QKeySequence("Ctrl+Z"))
        redo = w.undo_stack.createRedoAction(w, "&Redo")
        redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addAction(undo)
        edit.addAction(redo)
        edit.addSeparator()
        act(edit, "&Delete", self.delete_selection, QKeySequence.StandardKey.Delete, "delete")
        act(edit, "Select &all", w.scene.select_all, QKeySequence.StandardKey.SelectAll)
        act(edit, "&Find…", w.find_bar.open_bar, QKeySequence.StandardKey.Find, "find")
        act(
            edit,
            "New &frame around selection",
            self.frame_selection,
            "Ctrl+Shift+F",
            "frameSelection",
        )
        act(
            edit,
            "New &collection from selection…",
            w.collections.new_collection,
            NEW_COLLECTION_SHORTCUT,
            "newCollection",
        )
        selection = edit.addMenu("&Selected assets")
        selection.setObjectName("bulkEditMenu")
        bulk_actions.fill_menu(w.view.bulk, selection, w.scene.selected_ids)

        view = bar.addMenu("&View")
        act(view, "&Fit all", w.view.fit_all, "F")
        act(view, "Open asset &details", w.inspector.open_full_view, "Ctrl+D", "fullView")
        act(view, "Zoom &in", w.view.zoom_in, QKeySequence.StandardKey.ZoomIn)
        act(view, "Zoom &out", w.view.zoom_out, QKeySequence.StandardKey.ZoomOut)
        arrange = view.addMenu("&Arrange (selection, or the whole space)")
        for by in ArrangeBy:
            act(
                arrange,
                f"By &{by.value}",
                self._arranger(by),
                "Ctrl+Shift+A" if by is ArrangeBy.KIND else None,
                f"arrangeBy{by.value.title()}",
            )
        act(view, "F&ilters", self.toggle_filters, "Ctrl+Alt+F", "showFilters")
        view.addSeparator()
        view.addAction(w.spaces_dock.toggleViewAction())
        collections = w.collections_dock.toggleViewAction()
        collections.setShortcut(QKeySequence("Ctrl+Shift+L"))
        collections.setObjectName("toggleCollections")
        view.addAction(collections)
        view.addAction(w.inspector_dock.toggleViewAction())
        view.addAction(w.jobs_dock.toggleViewAction())
        view.addAction(w.tray_dock.toggleViewAction())
        view.addAction(w.people_dock.toggleViewAction())

        gen = bar.addMenu("&Generate")
        act(gen, "&Write a prompt", self.focus_tray, "Ctrl+G", "focusTray")
        generate = act(gen, "&Generate", self.generate, "Ctrl+Return", "generate")
        generate.setShortcuts([QKeySequence("Ctrl+Return"), QKeySequence("Ctrl+Enter")])
        act(gen, "&Style presets…", w.edit_style_presets, None, "stylePresets")
        gen.addSeparator()
        act(gen, "&Pause queue", lambda: w.run([c.PauseQueue()], "Pause queue"))
        act(gen, "&Resume queue", lambda: w.run([c.ResumeQueue()], "Resume queue"))

        help_ = bar.addMenu("&Help")
        act(help_, "&Keyboard shortcuts", self.shortcuts, "Ctrl+/", "shortcuts")
        act(help_, "&About Forge Studio", self.about, None, "about")

    def _arranger(self, by: ArrangeBy) -> Callable[[], object]:
        # no default argument: a triggered action would pass its checked flag into it
        return lambda: self.win.view.arrange(by)

    def focus_tray(self) -> None:
        w = self.win
        w.tray_dock.show()
        w.tray_dock.raise_()
        w.tray.prompt.setFocus()

    def generate(self) -> None:
        w = self.win
        if w.space is None:
            w.show_error("Open a space first.")
            return
        w.tray.generate()

    def toggle_filters(self) -> None:
        """Show the filter panel in front (or close it when it is in front already)."""
        dock = self.win.filter_dock
        if dock.isVisible() and not dock.visibleRegion().isEmpty():
            dock.hide()
        else:
            dock.show()
            dock.raise_()

    def delete_selection(self) -> None:
        self.win.view.delete_selection()

    def frame_selection(self) -> None:
        self.win.view.create_frame_around_selection("Frame")

    def share(self) -> None:
        from studio.ui.sharing import window as sharing_window  # not on the start path

        sharing_window.open_share(self.win)

    def join(self) -> None:
        from studio.ui.sharing import window as sharing_window

        sharing_window.open_join(self.win)

    def preferences(self) -> None:
        self.win.open_preferences()

    def open_data_folder(self) -> None:
        show_folder(self.win, self.win.studio.paths.home, lambda p: self.opener(p))

    def shortcuts(self) -> None:
        from studio.ui import help_dialog  # (the package versions): when asked for

        help_dialog.show_shortcuts(self.win)

    def about(self) -> None:
        from studio.ui import help_dialog

        help_dialog.show_about(self.win, str(self.win.studio.paths.home))
