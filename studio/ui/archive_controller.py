"""File ▸ Export space… / Import space…: a whole space to or from one ``.forgespace``
file, off the UI thread, with a progress dialog."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog

from studio.core.errors import StudioError

if TYPE_CHECKING:
    from studio.core.archive import ExportResult, ImportResult
    from studio.ui.main_window import MainWindow

FILTER = "Forge Studio space (*.forgespace);;All files (*)"


class ArchiveJob(QObject, QRunnable):
    """Runs ``work(progress)`` on the pool; ``progress(done, total)`` and the result
    (or the error's one sentence) come back as signals, on the UI thread."""

    progressed = Signal(int, int)
    finished_ok = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Callable[[Callable[[int, int], None]], Any]) -> None:
        QObject.__init__(self)
        QRunnable.__init__(self)
        self.setAutoDelete(False)
        self._work = work

    def run(self) -> None:
        try:
            result = self._work(lambda done, total: self.progressed.emit(done >> 10, total >> 10))
        except StudioError as exc:
            self.failed.emit(exc.message)
        except Exception as exc:  # never lose the dialog to an unexpected error
            self.failed.emit(f"the archive could not be handled ({type(exc).__name__}: {exc})")
        else:
            self.finished_ok.emit(result)


class ArchiveController(QObject):
    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.running: ArchiveJob | None = None
        self.dialog: QProgressDialog | None = None

    @property
    def win(self) -> MainWindow:
        return cast("MainWindow", self.parent())

    def export_dialog(self) -> None:
        w = self.win
        space = w.space
        if space is None:
            w.show_error("Open a space first.")
            return
        default = w.studio.paths.exports_dir / f"{space.slug}.forgespace"
        chosen, _ = QFileDialog.getSaveFileName(w, "Export space", str(default), FILTER)
        if chosen:
            self.export_to(space.slug, Path(chosen))

    def export_to(self, slug: str, dest: Path) -> ArchiveJob:
        from studio.core.archive import export_space  # not on the start path

        studio = self.win.studio
        return self._start(
            "Exporting space…",
            lambda progress: export_space(studio, slug, dest, progress=progress),
            self._exported,
        )

    def import_dialog(self) -> None:
        w = self.win
        chosen, _ = QFileDialog.getOpenFileName(w, "Import space", str(Path.home()), FILTER)
        if chosen:
            self.import_from(Path(chosen))

    def import_from(self, file: Path) -> ArchiveJob:
        from studio.core.archive import import_space

        studio = self.win.studio
        return self._start(
            "Importing space…",
            lambda progress: import_space(studio, file, progress=progress),
            self._imported,
        )

    def _start(
        self,
        title: str,
        work: Callable[[Callable[[int, int], None]], Any],
        done: Callable[[Any], None],
    ) -> ArchiveJob:
        w = self.win
        dialog = QProgressDialog(title, "", 0, 0, w)
        dialog.setCancelButton(None)  # all or nothing: it stops only when whole or refused
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.setMinimumDuration(300)
        job = ArchiveJob(work)

        def progressed(d: int, t: int) -> None:
            dialog.setMaximum(max(1, t))
            dialog.setValue(d)

        def finished(result: object) -> None:
            self._end()
            done(result)

        def failed(message: str) -> None:
            self._end()
            w.show_error(message)

        job.progressed.connect(progressed)
        job.finished_ok.connect(finished)
        job.failed.connect(failed)
        self.running, self.dialog = job, dialog
        QThreadPool.globalInstance().start(job)
        return job

    def _end(self) -> None:
        if self.dialog is not None:
            self.dialog.close()
            self.dialog.deleteLater()
        self.running = self.dialog = None

    def _exported(self, result: ExportResult) -> None:
        self.win.statusBar().showMessage(
            f"Exported to {result.path} ({result.size_bytes / 2**20:,.1f} MiB)", 8000
        )

    def _imported(self, result: ImportResult) -> None:
        w = self.win
        w.spaces.refresh(result.entry.id)
        w.open_space(result.entry.id)
        w.statusBar().showMessage(f"Imported the space {result.entry.name!r}", 8000)
