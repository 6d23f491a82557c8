"""Files written out of the app (a converted copy, a selection exported to a folder)
off the UI thread, with a progress dialog; the result or the error's one sentence comes
back on the UI thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QFileDialog, QProgressDialog, QWidget

from studio.core.errors import StudioError
from studio.core.exports import ExportedFile, export_variants
from studio.core.space import Space

Progress = Callable[[int, int], None]
Work = Callable[[Progress], Any]

_RUNNING: set[FileJob] = set()  # alive until they report (Qt holds no reference)


class FileJob(QObject, QRunnable):
    """Runs ``work(progress)`` on Qt's global pool (the window waits for it on close)."""

    progressed = Signal(int, int)
    finished_ok = Signal(object)
    failed = Signal(str)

    def __init__(self, work: Work) -> None:
        QObject.__init__(self)
        QRunnable.__init__(self)
        self.setAutoDelete(False)
        self._work = work

    def run(self) -> None:
        try:
            result = self._work(lambda done, total: self.progressed.emit(done, total))
        except StudioError as exc:
            self.failed.emit(exc.message)
        except OSError as exc:
            self.failed.emit(f"could not write the file: {exc.strerror or exc}")
        except Exception as exc:  # never lose the dialog to an unexpected error
            self.failed.emit(f"the file could not be written ({type(exc).__name__}: {exc})")
        else:
            self.finished_ok.emit(result)


def start_file_job(
    parent: QWidget,
    title: str,
    work: Work,
    done: Callable[[Any], None],
    error: Callable[[str], None],
) -> FileJob:
    """Run ``work`` off the UI thread behind a progress dialog (busy until ``work``
    reports a total); ``done(result)`` or ``error(message)`` afterwards."""
    dialog = QProgressDialog(title, "", 0, 0, parent)
    dialog.setCancelButton(None)  # a file is written whole or not at all
    dialog.setWindowModality(Qt.WindowModality.WindowModal)
    dialog.setMinimumDuration(300)
    job = FileJob(work)

    def progressed(d: int, t: int) -> None:
        dialog.setMaximum(max(1, t))
        dialog.setValue(d)

    def end() -> None:
        _RUNNING.discard(job)
        dialog.close()
        dialog.deleteLater()

    def finished(result: object) -> None:
        end()
        done(result)

    def failed(message: str) -> None:
        end()
        error(message)

    job.progressed.connect(progressed)
    job.finished_ok.connect(finished)
    job.failed.connect(failed)
    _RUNNING.add(job)
    QThreadPool.globalInstance().start(job)
    return job


def ask_export_files(
    parent: QWidget,
    space: Space,
    asset_ids: Sequence[str],
    error: Callable[[str], None],
    done: Callable[[list[ExportedFile]], None] = lambda _files: None,
) -> FileJob | None:
    """Ask for a folder, then export each asset's active variant there (provenance
    embedded), off the UI thread."""
    folder = QFileDialog.getExistingDirectory(parent, "Export files to", str(Path.home()))
    if not folder:
        return None
    ids = list(asset_ids)
    n = len(ids)
    return start_file_job(
        parent,
        f"Exporting {n} file{'s' if n != 1 else ''}…",
        lambda progress: export_variants(space, ids, Path(folder), progress=progress),
        done,
        lambda message: error(f"Could not export to {folder}: {message}"),
    )
