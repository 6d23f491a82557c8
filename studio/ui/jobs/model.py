"""The jobs table: which jobs to show, in what order, and how each cell reads.

:func:`arrange` is pure (rows in, lines out); :class:`JobsModel` is the Qt model the
panel's view shows; :class:`ProgressDelegate` paints running jobs' progress bars.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from enum import IntEnum
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QPainter
from PySide6.QtWidgets import (
    QApplication,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionProgressBar,
    QStyleOptionViewItem,
)

from studio.store.records import JobRow
from studio.ui.jobs.advice import Advice, duration

RECENT_LIMIT = 50
RECENT_MS = 24 * 3600 * 1000
FINISHED = ("succeeded", "failed", "cancelled")

JOB_ID_ROLE = Qt.ItemDataRole.UserRole + 1
PROGRESS_ROLE = Qt.ItemDataRole.UserRole + 2  # int percent, or None when not running


class Column(IntEnum):
    POSITION = 0
    WHAT = 1
    ASKED_BY = 2
    PROVIDER = 3
    STATUS = 4
    PROGRESS = 5
    ELAPSED = 6
    TRIES = 7
    PROBLEM = 8
    ACTION = 9


HEADERS = {
    Column.POSITION: "#",
    Column.WHAT: "What",
    Column.ASKED_BY: "Asked by",
    Column.PROVIDER: "Provider",
    Column.STATUS: "Status",
    Column.PROGRESS: "Progress",
    Column.ELAPSED: "Time",
    Column.TRIES: "Tries",
    Column.PROBLEM: "Problem",
    Column.ACTION: "",
}
STATUS_WORDS = {
    "queued": "Queued",
    "running": "Running",
    "succeeded": "Done",
    "failed": "Failed",
    "cancelled": "Cancelled",
}
STATUS_COLOURS = {
    "running": "#6aa8ff",
    "succeeded": "#6cc48a",
    "failed": "#ff7a6e",
    "cancelled": "#8b93a1",
}


@dataclass(frozen=True, slots=True)
class What:
    """The asset a job works for, the start of its prompt, and who asked for it when that
    was someone the space is shared with (their device's name; "" otherwise)."""

    asset_id: str | None
    name: str
    prompt: str
    asked_by: str = ""

    def text(self, limit: int = 60) -> str:
        prompt = " ".join(self.prompt.split())
        if len(prompt) > limit:
            prompt = prompt[: limit - 1].rstrip() + "…"
        return f"{self.name} — {prompt}" if prompt else self.name


UNKNOWN = What(None, "(unknown)", "")


@dataclass(frozen=True, slots=True)
class JobLine:
    job: JobRow
    position: int | None  # 1 = next to start; None unless queued
    what: What
    advice: Advice | None
    progress: float | None = None  # running jobs only: the last reported fraction

    @property
    def active(self) -> bool:
        return self.job.status in ("queued", "running")

    @property
    def percent(self) -> int | None:
        """Progress in whole percent while running; None otherwise."""
        if self.job.status != "running":
            return None
        return round(100 * max(self.progress or 0.0, self.job.progress or 0.0))


def arrange(
    active: Iterable[JobRow],
    recent: Iterable[JobRow],
    ready_order: Sequence[str],
    now: int,
    hidden: frozenset[str] | set[str] = frozenset(),
) -> list[tuple[JobRow, int | None]]:
    """Running jobs (oldest start first), then queued ones in queue order numbered
    1..n, then finished ones — newest first, one per variant (a retried variant shows
    its new job only), finished in the last 24 h, at most 50, minus ``hidden``.

    Queued jobs missing from ``ready_order`` (their asset was deleted) never run and
    are left out."""
    active = list(active)
    running = sorted(
        (j for j in active if j.status == "running"), key=lambda j: (j.started_at or 0, j.id)
    )
    queued = {j.id: j for j in active if j.status == "queued"}
    out: list[tuple[JobRow, int | None]] = [(j, None) for j in running]
    position = 0
    for jid in ready_order:
        if jid in queued:
            position += 1
            out.append((queued[jid], position))
    seen = {j.variant_id for j in active}
    finished = 0
    for j in recent:  # newest first
        if finished >= RECENT_LIMIT:
            break
        if j.status not in FINISHED or j.variant_id in seen:
            continue
        seen.add(j.variant_id)
        if j.id in hidden or (j.finished_at or j.created_at) < now - RECENT_MS:
            continue
        out.append((j, None))
        finished += 1
    return out


class JobsModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[JobLine] = []
        self._row: dict[str, int] = {}
        self.now = 0
        self.paused = False

    # ------------------------------------------------------------------ updates
    def set_lines(self, lines: list[JobLine], now: int, paused: bool) -> None:
        self.beginResetModel()
        self.lines = lines
        self._row = {line.job.id: i for i, line in enumerate(lines)}
        self.now = now
        self.paused = paused
        self.endResetModel()

    def row_of(self, job_id: str) -> int | None:
        return self._row.get(job_id)

    def set_progress(self, job_id: str, fraction: float) -> bool:
        """Move one running job's bar; False when the job is not shown running."""
        row = self._row.get(job_id)
        if row is None or self.lines[row].job.status != "running":
            return False
        self.lines[row] = replace(self.lines[row], progress=fraction)
        index = self.index(row, Column.PROGRESS)
        self.dataChanged.emit(index, index, [PROGRESS_ROLE, Qt.ItemDataRole.DisplayRole])
        return True

    def tick(self, now: int) -> None:
        """A second passed: running jobs' elapsed time moves."""
        self.now = now
        for row, line in enumerate(self.lines):
            if line.job.status == "running":
                index = self.index(row, Column.ELAPSED)
                self.dataChanged.emit(index, index, [Qt.ItemDataRole.DisplayRole])

    # ------------------------------------------------------------------ the Qt model
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.lines)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(Column)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return HEADERS[Column(section)]
        return None

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> Any:
        if not index.isValid() or index.row() >= len(self.lines):
            return None
        line = self.lines[index.row()]
        col = Column(index.column())
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text(line, col)
        if role == JOB_ID_ROLE:
            return line.job.id
        if role == PROGRESS_ROLE:
            return line.percent
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tooltip(line, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            if col == Column.STATUS and line.job.status in STATUS_COLOURS:
                return QColor(STATUS_COLOURS[line.job.status])
            if col == Column.PROBLEM and line.job.status == "queued":
                return QColor("#e0b45a")
            if col == Column.PROBLEM and line.job.status == "cancelled":
                return QColor(STATUS_COLOURS["cancelled"])  # asked for: quiet, not a problem
            if col == Column.PROBLEM:
                return QColor("#f0a29a")
            if not line.active:
                return QColor("#9aa3b2")
        if role == Qt.ItemDataRole.TextAlignmentRole and col in (
            Column.POSITION,
            Column.ELAPSED,
            Column.TRIES,
        ):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _text(self, line: JobLine, col: Column) -> str:
        job = line.job
        if col == Column.POSITION:
            return "" if line.position is None else str(line.position)
        if col == Column.WHAT:
            return line.what.text()
        if col == Column.ASKED_BY:
            return line.what.asked_by
        if col == Column.PROVIDER:
            return job.provider
        if col == Column.STATUS:
            word = STATUS_WORDS.get(job.status, job.status)
            if job.status == "queued" and job.error_code:
                return "Waiting"
            if job.status == "queued" and self.paused:
                return "Paused"
            return word
        if col == Column.PROGRESS:
            return "" if line.percent is None else f"{line.percent}%"
        if col == Column.ELAPSED:
            if job.status == "running" and job.started_at is not None:
                return duration(self.now - job.started_at)
            if job.started_at is not None and job.finished_at is not None:
                return duration(job.finished_at - job.started_at)
            return ""
        if col == Column.TRIES:
            return f"{job.attempts}/{job.max_attempts}"
        if col == Column.PROBLEM and line.advice is not None:
            text = line.advice.text
            return f"{text} ({line.advice.detail})" if line.advice.detail else text
        return ""

    def _tooltip(self, line: JobLine, col: Column) -> str | None:
        if col == Column.WHAT:
            return f"{line.what.name}\n{line.what.prompt}".strip()
        if col == Column.ASKED_BY and line.what.asked_by:
            return f"Asked for by {line.what.asked_by}, who this space is shared with"
        if col in (Column.PROBLEM, Column.ACTION, Column.STATUS) and line.advice is not None:
            return line.advice.full
        if col == Column.POSITION and line.position is not None:
            return f"Starts when the {line.position - 1} job(s) before it have started"
        return None


class ProgressDelegate(QStyledItemDelegate):
    """A progress bar in the cell of each running job."""

    def paint(
        self,
        painter: QPainter,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        percent = index.data(PROGRESS_ROLE)
        if percent is None:
            super().paint(painter, option, index)
            return
        bar = QStyleOptionProgressBar()
        bar.rect = option.rect.adjusted(4, 5, -4, -5)
        bar.minimum = 0
        bar.maximum = 100
        bar.progress = int(percent)
        bar.text = f"{percent}%"
        bar.textVisible = True
        bar.state = QStyle.StateFlag.State_Enabled | QStyle.StateFlag.State_Horizontal
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ProgressBar, bar, painter)
