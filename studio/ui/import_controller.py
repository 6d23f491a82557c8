"""Importing files into the open space: off the UI thread, one undo step per import,
refused files reported in one message."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QObject, QThreadPool
from PySide6.QtWidgets import QFileDialog

from studio.core import settings
from studio.ui.space_jobs import ImportJob, SpaceJob
from studio.ui.undo import AppliedStep

if TYPE_CHECKING:
    from studio.core.imports import ImportReport
    from studio.ui.main_window import MainWindow

MEDIA_FILTER = (
    "Media (*.png *.jpg *.jpeg *.webp *.gif *.bmp *.tif *.tiff "
    "*.wav *.mp3 *.flac *.ogg *.m4a *.mp4 *.mov *.webm);;All files (*)"
)


def refusal_message(report: ImportReport) -> str:
    """What was not imported and why; its first line says it all on its own (the
    status bar shows only that line)."""
    refused = report.refused
    first = refused[0].line()
    if len(refused) == 1:
        return f"Not imported: {first}"
    lines = "\n".join(r.line() for r in refused)
    return f"{len(refused)} files were not imported (first: {first}):\n{lines}"


class ImportController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)

    @property
    def win(self) -> MainWindow:
        """The parent (not kept in an attribute: no reference cycle, so a dropped
        MainWindow is freed at once and its timers die with it)."""
        return cast("MainWindow", self.parent())

    def import_paths(
        self, paths: Sequence[Path], at: tuple[float, float], into: str | None = None
    ) -> None:
        w = self.win
        space = w.space
        if space is None:
            w.show_error("Open a space first.")
            return
        job = ImportJob(space, w.actor, [Path(p) for p in paths], at, into)
        job.done.connect(self._import_done)
        job.progress.connect(self._import_progress)
        w.space_control.jobs.append(job)
        w.statusBar().showMessage(f"Importing {len(paths)} file(s)…")
        QThreadPool.globalInstance().start(job)

    def _import_progress(self, done: int, total: int) -> None:
        """One step per file (the files are prepared in parallel, reported in order)."""
        if done < total:
            self.win.statusBar().showMessage(f"Importing {done + 1} of {total} files…")

    def _import_done(self, report: ImportReport, _at: object) -> None:
        w = self.win
        job = self.sender()
        w.space_control.jobs = [j for j in w.space_control.jobs if j is not job]
        space = w.space
        same_space = isinstance(job, SpaceJob) and job.space is space
        if report.imported and space is not None and same_space:
            n = len(report.imported)
            w.undo_stack.push(
                AppliedStep(
                    space,
                    w.actor,
                    report.undo,
                    f"Import {n} file{'s' if n != 1 else ''}",
                    w.show_error,
                )
            )
        n = len(report.imported)
        w.statusBar().showMessage(f"Imported {n} file{'s' if n != 1 else ''}", 4000)
        if report.imported and same_space:  # the user's new cards: selected, in sight
            w.view.reveal(list(dict.fromkeys(i.asset_id for i in report.imported)))
        if report.refused:
            w.show_error(refusal_message(report))

    def import_dialog(self) -> None:
        w = self.win
        start = w.folders.start(settings.IMPORT_FOLDER)  # where the last import came from
        files, _ = QFileDialog.getOpenFileNames(w, "Import files", str(start), MEDIA_FILTER)
        if files:
            w.folders.remember(settings.IMPORT_FOLDER, Path(files[0]))
            self.import_paths([Path(f) for f in files], w.centre())
