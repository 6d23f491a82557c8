"""The jobs panel: the queue with positions and progress, recent outcomes in words,
and cancel / retry / pause.

It reads the space only on a refresh, which events schedule through one ~150 ms
single-shot timer (a burst of events costs one read); progress events move a row's bar
directly. Every change goes through ``host.run`` (one undoable step).
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSizePolicy,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from studio.core.errors import StudioError
from studio.core.protocol import (
    AssetData,
    Deleted,
    Empty,
    JobData,
    JobProgress,
    Moved,
    TypedEvent,
    VariantData,
    VariantDeleted,
)
from studio.core.space import Space
from studio.store.records import JobRow
from studio.ui.host import StudioHost
from studio.ui.jobs.actions import JobActions, retryable
from studio.ui.jobs.advice import Action, advise
from studio.ui.jobs.model import (
    UNKNOWN,
    Column,
    JobLine,
    JobsModel,
    ProgressDelegate,
    What,
    arrange,
)
from studio.ui.jobs.problem import ProblemNote
from studio.ui.widgets import tool_button

log = logging.getLogger(__name__)

PEER = "peer:"
"""Actor ids of the devices a space is shared with (``studio.sync.conversation``)."""

REFRESH_MS = 150
TICK_MS = 1000


class JobsPanel(QWidget):
    counts_changed = Signal(dict)  # {"queued": n, "running": n, "failed": n}

    def __init__(self, host: StudioHost, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("jobsPanel")
        self.host = host
        self.job_actions = JobActions(self)
        self.space: Space | None = None
        self.model = JobsModel()
        self._what: dict[str, What] = {}  # job id -> what it makes (never changes)
        self._live: dict[str, float] = {}  # job id -> last progress event
        self._hidden: set[str] = set()  # finished jobs cleared from the view
        self._counts: dict[str, int] | None = None

        self._refresh_timer = QTimer(self, singleShot=True, interval=REFRESH_MS)
        self._refresh_timer.timeout.connect(self.refresh)
        self._tick_timer = QTimer(self, interval=TICK_MS)
        self._tick_timer.timeout.connect(self._tick)

        self.pause_button = self._tool("Pause queue", "Start no new jobs until resumed")
        self.pause_button.setCheckable(True)
        self.pause_button.clicked.connect(self.job_actions.toggle_pause)
        self.cancel_button = self._tool("Cancel", "Cancel the selected queued or running jobs")
        self.cancel_button.clicked.connect(self.job_actions.cancel_selected)
        self.retry_button = self._tool("Retry", "Retry the selected failed or cancelled jobs")
        self.retry_button.clicked.connect(self.job_actions.retry_selected)
        self.show_button = self._tool("Show asset", "Show the selected job's asset on the canvas")
        self.show_button.clicked.connect(self.job_actions.show_selected)
        self.clear_button = self._tool(
            "Clear finished", "Hide finished jobs from this list (nothing is deleted)"
        )
        self.clear_button.clicked.connect(self.clear_finished)
        # the pause button fits both its words, so it never moves its neighbours
        self.pause_button.setText("Resume queue")
        wide = self.pause_button.sizeHint().width()
        self.pause_button.setText("Pause queue")
        self.pause_button.setFixedWidth(max(wide, self.pause_button.sizeHint().width()))
        # the summary is on a row of its own and wraps: a longer summary never asks the
        # dock for more width (the dock keeps the width the user gave it)
        self.summary = QLabel()
        self.summary.setObjectName("jobsSummary")
        self.summary.setWordWrap(True)
        self.summary.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for b in (self.pause_button, self.cancel_button, self.retry_button, self.show_button):
            bar.addWidget(b)
        bar.addWidget(self.clear_button)
        bar.addStretch(1)

        self.view = QTableView()
        self.view.setObjectName("jobsTable")
        self.view.setModel(self.model)
        self.view.setItemDelegateForColumn(Column.PROGRESS, ProgressDelegate(self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setDefaultSectionSize(28)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for col, width in (
            (Column.POSITION, 34),
            (Column.ASKED_BY, 90),
            (Column.PROVIDER, 76),
            (Column.STATUS, 76),
            (Column.PROGRESS, 100),
            (Column.ELAPSED, 56),
            (Column.TRIES, 44),
            (Column.ACTION, 120),
        ):
            self.view.setColumnWidth(col, width)
        header.setSectionResizeMode(Column.PROBLEM, QHeaderView.ResizeMode.Stretch)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self.job_actions.context_menu)
        self.view.doubleClicked.connect(lambda _i: self.job_actions.show_selected())
        self.view.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.empty = QLabel(alignment=Qt.AlignmentFlag.AlignCenter)
        self.empty.setObjectName("jobsEmpty")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: #7d8594; padding: 16px;")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.view)
        self.stack.addWidget(self.empty)
        self.problem = ProblemNote()  # the selected (or newest) job's problem, wrapped

        self.setStyleSheet(  # the app theme sets no disabled colours
            "QToolButton:disabled { color: #5d6470; }"
            " QToolButton:checked { background: #4a3a1c; color: #f3d9a4; border-radius: 3px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 4, 6, 6)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.summary)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.problem)
        self.set_space(None)

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        # "What" takes 40% of what the fixed columns leave (150..320 px), "Problem" the rest
        fixed = sum(
            self.view.columnWidth(col) for col in Column if col not in (Column.WHAT, Column.PROBLEM)
        )
        spare = event.size().width() - fixed - 30  # margins, frame, scroll bar
        self.view.setColumnWidth(Column.WHAT, max(150, min(320, int(spare * 0.4))))

    def _tool(self, text: str, tip: str) -> QToolButton:
        b = tool_button(text, tip)
        b.setAutoRaise(True)
        b.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        return b

    # ------------------------------------------------------------------ wiring
    def set_space(self, space: Space | None) -> None:
        self.space = space
        self._what.clear()
        self._live.clear()
        self._hidden.clear()
        self._refresh_timer.stop()
        self.refresh()

    def apply_event(self, event: TypedEvent) -> None:
        """Schedule a refresh for job, queue, variant and asset changes (coalesced); move
        a progress bar at once."""
        match event:
            case TypedEvent(data=JobProgress(job_id=job_id, progress=fraction)):
                self._live[job_id] = fraction
                self.model.set_progress(job_id, fraction)
            case TypedEvent(kind="asset:deleted", data=Deleted(id=asset_id)):
                self._forget_what(asset_id)
            case TypedEvent(data=AssetData(id=asset_id)):  # a rename shows in "What"
                self._forget_what(asset_id)
            case TypedEvent(data=Moved()):
                self.schedule_refresh()
            case TypedEvent(data=JobData() | VariantData() | VariantDeleted()):
                self.schedule_refresh()
            case TypedEvent(kind="queue:paused" | "queue:resumed", data=Empty()):
                self.schedule_refresh()

    def _forget_what(self, asset_id: str) -> None:
        for job_id in [j for j, w in self._what.items() if w.asset_id == asset_id]:
            del self._what[job_id]
        self.schedule_refresh()

    def schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start()

    # ------------------------------------------------------------------ reading
    def refresh(self) -> None:
        """Read the jobs now and redraw (keeps the selection)."""
        self._refresh_timer.stop()
        space = self.space
        selected = {line.job.id for line in self.selected_lines()}
        if space is None:
            self.model.set_lines([], 0, False)
            self.show_state(False)
            self._emit_counts({"queued": 0, "running": 0, "failed": 0})
            return
        now = space.clock()
        try:
            paused = space.queue_paused()
            active = space.jobs(active_only=True, limit=100_000)
            recent = space.jobs(limit=len(active) + 300)
            ready = space.read.queue_order()
        except StudioError as exc:  # closed under us; the next space comes
            log.warning("jobs panel: could not read the jobs (%s)", exc)
            return
        self._learn_what(space, [*active, *recent])
        names = set(space.providers.names()) if space.providers is not None else None
        lines: list[JobLine] = []
        for job, position in arrange(active, recent, ready, now, self._hidden):
            available = names is None or job.provider in names
            progress = self._live.get(job.id) if job.status == "running" else None
            lines.append(
                JobLine(
                    job,
                    position,
                    self._what.get(job.id, UNKNOWN),
                    advise(job, now, provider_available=available),
                    progress,
                )
            )
        active_ids = {j.id for j in active}
        self._live = {k: v for k, v in self._live.items() if k in active_ids}
        self.model.set_lines(lines, now, paused)
        # "Asked by" only where someone the space is shared with asked for a job
        self.view.setColumnHidden(Column.ASKED_BY, not any(ln.what.asked_by for ln in lines))
        self._add_action_buttons()
        self._restore_selection(selected)
        self.show_state(paused)
        running = sum(1 for line in lines if line.job.status == "running")
        if running and not self._tick_timer.isActive():
            self._tick_timer.start()
        elif not running:
            self._tick_timer.stop()
        self._emit_counts(
            {
                "queued": sum(1 for line in lines if line.job.status == "queued"),
                "running": running,
                "failed": sum(1 for line in lines if line.job.status == "failed"),
            }
        )

    def _learn_what(self, space: Space, jobs: list[JobRow]) -> None:
        """What the jobs not seen before are about: two reads for all of them."""
        new = {job.id: job.variant_id for job in jobs if job.id not in self._what}
        if not new:
            return
        try:
            labels = space.read.variant_labels(list(new.values()))
            prompts = space.read.prompts(list(new.values()))
            asked = space.read.requesters(list(new.values()))
        except StudioError:
            return
        for job_id, vid in new.items():
            label = labels.get(vid)
            if label is not None:
                name = "(deleted asset)" if label.asset_deleted else label.asset_name
                who = asked.get(vid)
                by = (who.name or "a peer") if who and who.actor_id.startswith(PEER) else ""
                self._what[job_id] = What(label.asset_id, name, prompts.get(vid, ""), by)

    def _emit_counts(self, counts: dict[str, int]) -> None:
        if counts != self._counts:
            self._counts = counts
            self.counts_changed.emit(dict(counts))

    def show_state(self, paused: bool) -> None:
        has_space = self.space is not None
        self.pause_button.setEnabled(has_space)
        self.pause_button.setChecked(paused)
        self.pause_button.setText("Resume queue" if paused else "Pause queue")
        self.pause_button.setToolTip(
            "Let queued jobs start again" if paused else "Start no new jobs until resumed"
        )
        self.clear_button.setEnabled(any(not line.active for line in self.model.lines))
        counts = {"running": 0, "queued": 0, "failed": 0}
        for line in self.model.lines:
            if line.job.status in counts:
                counts[line.job.status] += 1
        parts = [f"{n} {word}" for word, n in counts.items() if n]
        if paused:
            parts.insert(0, "Queue paused")
        self.summary.setText(" · ".join(parts))
        self.summary.setStyleSheet("color: #e0b45a;" if paused else "color: #9aa3b2;")
        if not has_space:
            self.empty.setText("Open a space to see its jobs.")
        else:
            self.empty.setText(
                "No jobs. Generations you start appear here while they wait and run."
            )
        self.stack.setCurrentWidget(self.view if self.model.lines else self.empty)
        self._update_buttons()

    def _add_action_buttons(self) -> None:
        for row, line in enumerate(self.model.lines):
            if line.advice is None or line.advice.action is Action.NONE:
                continue
            button = QPushButton(line.advice.button)
            button.setObjectName(f"jobAction-{line.job.id}")
            button.setToolTip(line.advice.full)
            button.clicked.connect(lambda _=False, jid=line.job.id: self.job_actions.act(jid))
            holder = QWidget()
            box = QHBoxLayout(holder)
            box.setContentsMargins(4, 1, 4, 1)
            box.addWidget(button)
            self.view.setIndexWidget(self.model.index(row, Column.ACTION), holder)

    def action_button(self, job_id: str) -> QPushButton | None:
        """The advice button on a job's row (None when it has none)."""
        row = self.model.row_of(job_id)
        if row is None:
            return None
        holder = self.view.indexWidget(self.model.index(row, Column.ACTION))
        return None if holder is None else holder.findChild(QPushButton)

    def _restore_selection(self, job_ids: set[str]) -> None:
        selection = self.view.selectionModel()
        for job_id in job_ids:
            row = self.model.row_of(job_id)
            if row is not None:
                selection.select(
                    self.model.index(row, 0),
                    selection.SelectionFlag.Select | selection.SelectionFlag.Rows,
                )

    def _tick(self) -> None:
        if self.space is None:
            self._tick_timer.stop()
            return
        self.model.tick(self.space.clock())

    # ------------------------------------------------------------------ selection
    def selected_lines(self) -> list[JobLine]:
        rows = sorted({i.row() for i in self.view.selectionModel().selectedRows()})
        return [self.model.lines[r] for r in rows if r < len(self.model.lines)]

    def select_job(self, job_id: str) -> bool:
        row = self.model.row_of(job_id)
        if row is None:
            return False
        self.view.selectRow(row)
        return True

    def _update_buttons(self) -> None:
        lines = self.selected_lines()
        self.cancel_button.setEnabled(any(line.active for line in lines))
        self.retry_button.setEnabled(any(retryable(line) for line in lines))
        self.show_button.setEnabled(any(line.what.asset_id for line in lines))
        self.problem.show_for(lines, self.model.lines)

    def clear_finished(self) -> None:
        self._hidden.update(line.job.id for line in self.model.lines if not line.active)
        self.refresh()
