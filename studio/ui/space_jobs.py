"""Background work on an open space (imports, snapshots), run on Qt's thread pool; the
window waits for it before closing the space."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

from PySide6.QtCore import QObject, QRunnable, Signal

from studio.core.actor import Actor
from studio.core.import_recovery import recover_interrupted
from studio.core.leftovers import sweep_leftovers_at_open
from studio.core.space import Space

log = logging.getLogger(__name__)


class SpaceJob(QObject, QRunnable):
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


class ImportJob(SpaceJob):
    """Emits ``progress(files done, files)`` per file, then ``done(ImportReport, origin)``."""

    progress = Signal(int, int)

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
        from studio.core.imports import import_files  # media libraries: not at start

        report = import_files(
            self.space,
            paths,
            actor,
            into=into,
            origin=at,
            progress=lambda done, total, _path: self.progress.emit(done, total),
        )
        self.done.emit(report, at)


class SnapshotJob(SpaceJob):
    """Emits ``done(Space, Snapshot)``; with ``recover``, first fails the imports an
    earlier process left unfinished (``recover_interrupted``), so the snapshot shows
    them failed, and once the snapshot is out sweeps the files killed work left
    (``sweep_leftovers_at_open``, which changes no row): both read whole tables or
    folders, work for this thread, not the UI's. The sweep used to come first: on the
    day's first open of a 50,000-card space the canvas stayed empty 7-18 s while it
    walked the media folder. The window waits for the whole job (``finished``) before
    it closes the space."""

    def __init__(self, space: Space, *, recover: bool = False) -> None:
        super().__init__(space)
        self.recover = recover

    def work(self) -> None:
        if self.recover:
            try:
                recover_interrupted(self.space)
            except Exception:  # the space still opens; the next open tries again
                log.exception("could not fail the imports interrupted work left in a space")
        self.done.emit(self.space, self.space.snapshot())
        if self.recover:
            try:
                sweep_leftovers_at_open(self.space)
            except Exception:  # the next open tries again
                log.exception("could not tidy what interrupted work left in a space")


def prompts_of(space: Space, variant_ids: Sequence[str]) -> dict[str, str]:
    """Prompts (or original file names) of many variants, a few queries in all."""
    return space.read.prompts(variant_ids)
