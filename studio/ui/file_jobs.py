"""Files written out of the app (a converted copy; a selection or a collection exported
to a folder — ``BulkActions.export_variants`` is the one export path) off the UI thread,
with a progress dialog; the result or the error's one sentence comes back on the UI
thread."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QRunnable, Qt, QThreadPool, Signal
from PySide6.QtWidgets import QProgressDialog, QWidget

from studio.core.errors import StorageError, StudioError
from studio.core.space import Space

if TYPE_CHECKING:
    from studio.core.exports import ExportedFile

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


def free_name(path: Path) -> Path:
    """``path``, or ``stem-2.ext``, ``stem-3.ext``… — the first that does not exist."""
    if not path.exists():
        return path
    for n in range(2, 10_000):
        candidate = path.with_name(f"{path.stem}-{n}{path.suffix}")
        if not candidate.exists():
            return candidate
    raise StorageError(f"too many files named {path.name} in {path.parent}")


def export_to_folder(
    space: Space, variant_ids: Sequence[str], folder: Path, progress: Progress
) -> list[ExportedFile]:
    """Each variant's original into ``folder`` (made if missing) as
    ``<asset>-<variant>.<ext>``, provenance embedded; a name already there gets ``-2``…
    (never overwritten). ``progress(done, total)`` after each file. Runs off the UI
    thread."""
    from studio.core.exports import export_name, export_variant  # (provenance, XML, HTTP)

    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise StorageError(f"could not create {folder}: {exc.strerror or exc}") from exc
    out: list[ExportedFile] = []
    for vid in variant_ids:
        out.append(export_variant(space, vid, free_name(folder / export_name(space, vid))))
        progress(len(out), len(variant_ids))
    return out
