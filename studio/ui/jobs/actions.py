"""What the jobs panel's buttons, advice buttons and context menu do: cancel, retry,
show the asset, pause / resume the queue. Every change goes through ``host.run``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, cast

from PySide6.QtCore import QModelIndex, QObject, QPoint
from PySide6.QtWidgets import QMenu

from studio.core import commands as c
from studio.ui.jobs.advice import Action
from studio.ui.jobs.model import JobLine

if TYPE_CHECKING:
    from studio.ui.jobs_panel import JobsPanel


def retryable(line: JobLine) -> bool:
    return line.job.status in ("failed", "cancelled") and (
        line.advice is None or line.advice.action is not Action.NONE
    )


class JobActions(QObject):
    def __init__(self, panel: JobsPanel) -> None:
        super().__init__(panel)

    @property
    def panel(self) -> JobsPanel:
        """The parent (not kept in an attribute: no reference cycle)."""
        return cast("JobsPanel", self.parent())

    def _run(self, cmds: Sequence[c.Command], text: str) -> bool:
        if not cmds:
            return False
        ok = self.panel.host.run(cmds, text)
        self.panel.schedule_refresh()  # events will also ask; one read either way
        return ok

    def cancel_selected(self) -> bool:
        ids = [line.job.id for line in self.panel.selected_lines() if line.active]
        return self._run(
            [c.CancelJob(jid) for jid in ids], "Cancel job" if len(ids) == 1 else "Cancel jobs"
        )

    def retry_selected(self) -> bool:
        vids = [line.job.variant_id for line in self.panel.selected_lines() if retryable(line)]
        return self._run(
            [c.RetryVariant(v) for v in vids], "Retry job" if len(vids) == 1 else "Retry jobs"
        )

    def show_selected(self) -> None:
        for line in self.panel.selected_lines()[:1]:
            if line.what.asset_id:
                self.panel.host.show_asset(line.what.asset_id)

    def toggle_pause(self) -> bool:
        space = self.panel.space
        if space is None:
            return False
        paused = space.queue_paused()
        cmd: c.Command = c.ResumeQueue() if paused else c.PauseQueue()
        ok = self._run([cmd], "Resume queue" if paused else "Pause queue")
        self.panel.show_state(space.queue_paused())
        return ok

    def act(self, job_id: str) -> None:
        """Do what a row's advice button offers."""
        panel = self.panel
        row = panel.model.row_of(job_id)
        if row is None:
            return
        line = panel.model.lines[row]
        action = line.advice.action if line.advice else Action.NONE
        if action is Action.ADD_KEY:
            panel.host.open_preferences("keys")
        elif action is Action.EDIT_PROMPT and line.what.asset_id:
            panel.host.show_asset(line.what.asset_id)
        elif action is Action.RETRY:
            self._run([c.RetryVariant(line.job.variant_id)], "Retry job")

    def context_menu(self, pos: QPoint) -> None:
        panel = self.panel
        index: QModelIndex = panel.view.indexAt(pos)
        if not index.isValid():
            return
        if index.row() not in {i.row() for i in panel.view.selectionModel().selectedRows()}:
            panel.view.selectRow(index.row())
        lines = panel.selected_lines()
        menu = QMenu(panel)
        if any(line.active for line in lines):
            menu.addAction("Cancel", self.cancel_selected)
        if any(retryable(line) for line in lines):
            menu.addAction("Retry", self.retry_selected)
        if lines and lines[0].what.asset_id:
            menu.addAction("Show asset", self.show_selected)
        first = lines[0] if lines else None
        if first and first.advice and first.advice.action in (Action.ADD_KEY, Action.EDIT_PROMPT):
            menu.addAction(first.advice.button, lambda: self.act(first.job.id))
        if not menu.isEmpty():
            menu.exec(panel.view.viewport().mapToGlobal(pos))
