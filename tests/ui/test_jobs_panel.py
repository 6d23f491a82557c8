"""The jobs panel driven through its real widgets, on a real space and scheduler."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from studio.core import commands as c
from studio.core.events import Event
from studio.core.space import Space
from studio.jobs.executor import InlineExecutor
from studio.jobs.scheduler import Scheduler
from studio.store.records import JobRow
from studio.ui.feed_follower import typed
from studio.ui.jobs.advice import Action, advise, clock_time, duration
from studio.ui.jobs.model import PROGRESS_ROLE, Column, arrange
from studio.ui.jobs_panel import JobsPanel
from tests.conftest import OWNER, FakeClock
from tests.ui.fake_host import FakeHost
from workers.base import ErrorKind, ProviderError
from workers.testing import ScriptedProvider

IMAGE = c.MediaKindName.IMAGE
PLAIN = c.GenerationOptions(no_style=True)
SHOTS = Path("/tmp/forge-shots")


class HeldExecutor:
    """Keeps job bodies until told to run them: a job stays 'running' meanwhile."""

    def __init__(self) -> None:
        self.bodies: list[Callable[[], None]] = []

    def submit(self, fn: Callable[[], None]) -> None:
        self.bodies.append(fn)

    def run_all(self) -> None:
        while self.bodies:
            self.bodies.pop(0)()

    def shutdown(self, wait: bool = True) -> None:
        pass


def request(space: Space, prompt: str = "a red fox in the snow", priority: int = 0) -> str:
    options = c.GenerationOptions(no_style=True, priority=priority)
    cmd = c.RequestGeneration(prompt, IMAGE, name=prompt.split()[-1].title(), options=options)
    return str(space.apply(cmd, OWNER).created["job_id"])


def job(space: Space, jid: str) -> JobRow:
    return next(j for j in space.jobs() if j.id == jid)


@pytest.fixture
def host(space: Space) -> FakeHost:
    return FakeHost(space)


@pytest.fixture
def panel(host: FakeHost, space: Space, qtbot) -> Iterator[JobsPanel]:  # type: ignore[no-untyped-def]
    p = JobsPanel(host)
    qtbot.addWidget(p)
    p.resize(1200, 320)
    p.set_space(space)
    unsubscribe = space.subscribe(typed(p.apply_event))  # the app: via its feed follower
    yield p
    unsubscribe()
    p.set_space(None)  # as the window does before it closes a space


def ids(panel: JobsPanel) -> list[str]:
    return [line.job.id for line in panel.model.lines]


def cell(panel: JobsPanel, jid: str, col: Column, role: int = 0) -> object:
    row = panel.model.row_of(jid)
    assert row is not None, f"job {jid} is not shown"
    return panel.model.index(row, col).data(role)


def fail_one(space: Space, provider: ScriptedProvider, error: ProviderError, prompt: str) -> str:
    provider.script.append(error)
    jid = request(space, prompt)
    Scheduler(space, InlineExecutor()).pump()
    return jid


# --------------------------------------------------------------------------- queue


def test_queue_positions_follow_the_scheduler(panel: JobsPanel, space: Space, qtbot) -> None:  # type: ignore[no-untyped-def]
    first = request(space, "a quiet harbour")
    second = request(space, "a stone bridge")
    urgent = request(space, "a burning tower", priority=5)
    qtbot.waitUntil(lambda: len(panel.model.lines) == 3, timeout=2000)
    positions = Scheduler(space, InlineExecutor()).positions()
    assert positions == {urgent: 1, first: 2, second: 3}
    assert ids(panel) == [urgent, first, second]
    for jid, pos in positions.items():
        assert cell(panel, jid, Column.POSITION) == str(pos)
        assert cell(panel, jid, Column.STATUS) == "Queued"
        assert cell(panel, jid, Column.PROVIDER) == "scripted"
        assert cell(panel, jid, Column.TRIES) == f"0/{job(space, jid).max_attempts}"
    assert cell(panel, urgent, Column.WHAT) == "Tower — a burning tower"
    assert panel.stack.currentWidget() is panel.view


def test_events_are_coalesced_into_one_read(
    panel: JobsPanel, space: Space, qtbot, monkeypatch: pytest.MonkeyPatch
) -> None:  # type: ignore[no-untyped-def]
    reads: list[bool] = []
    real = space.jobs

    def counting(**kw: object) -> list[JobRow]:
        reads.append(bool(kw.get("active_only")))
        return real(**kw)  # type: ignore[arg-type]

    monkeypatch.setattr(space, "jobs", counting)
    for i in range(5):  # 5 commands, ~15 events
        request(space, f"a lantern number {i}")
    assert panel._refresh_timer.isActive() and reads == []
    qtbot.waitUntil(lambda: len(panel.model.lines) == 5, timeout=2000)
    assert reads.count(True) == 1  # one refresh for the whole burst


def test_progress_event_moves_the_bar_and_time_ticks(
    panel: JobsPanel, space: Space, clock: FakeClock, qtbot
) -> None:  # type: ignore[no-untyped-def]
    jid = request(space)
    executor = HeldExecutor()
    sched = Scheduler(space, executor)
    sched.pump()
    panel.refresh()
    assert job(space, jid).status == "running"
    assert cell(panel, jid, Column.STATUS) == "Running"
    assert cell(panel, jid, Column.POSITION) == ""
    assert cell(panel, jid, Column.PROGRESS, PROGRESS_ROLE) == 0
    space.publish_transient(
        Event("job:progress", {"job_id": jid, "variant_id": "v", "progress": 0.4, "message": ""})
    )
    assert cell(panel, jid, Column.PROGRESS, PROGRESS_ROLE) == 40  # at once, no refresh
    assert cell(panel, jid, Column.PROGRESS) == "40%"
    panel.refresh()  # a refresh keeps the last reported progress
    assert cell(panel, jid, Column.PROGRESS, PROGRESS_ROLE) == 40
    assert panel._tick_timer.isActive()
    clock.advance(65_000)
    panel._tick()
    assert cell(panel, jid, Column.ELAPSED) == "1:05"
    executor.run_all()
    qtbot.waitUntil(lambda: cell(panel, jid, Column.STATUS) == "Done", timeout=2000)
    assert cell(panel, jid, Column.PROGRESS, PROGRESS_ROLE) is None
    assert not panel._tick_timer.isActive()


def test_cancel_a_queued_job_from_the_panel(
    panel: JobsPanel, space: Space, host: FakeHost, qtbot
) -> None:  # type: ignore[no-untyped-def]
    keep = request(space, "a wooden cart")
    jid = request(space, "a silver key")
    panel.refresh()
    assert not panel.cancel_button.isEnabled()
    assert panel.select_job(jid)
    assert panel.cancel_button.isEnabled() and not panel.retry_button.isEnabled()
    qtbot.mouseClick(panel.cancel_button, Qt.MouseButton.LeftButton)
    assert job(space, jid).status == "cancelled"
    assert space.variant_detail(job(space, jid).variant_id).row.status == "failed"
    assert job(space, keep).status == "queued"
    assert host.stack.undoText() == "Cancel job" and host.errors == []
    qtbot.waitUntil(lambda: cell(panel, jid, Column.STATUS) == "Cancelled", timeout=2000)
    assert cell(panel, keep, Column.POSITION) == "1"
    assert panel.action_button(jid).text() == "Retry"  # type: ignore[union-attr]
    host.stack.undo()  # undo = a new job for the variant
    qtbot.waitUntil(lambda: len([j for j in space.jobs() if j.status == "queued"]) == 2)


# --------------------------------------------------------------------------- failures in words


def test_safety_block_offers_edit_prompt(
    panel: JobsPanel, space: Space, provider: ScriptedProvider, host: FakeHost, qtbot
) -> None:  # type: ignore[no-untyped-def]
    error = ProviderError(ErrorKind.SAFETY_BLOCKED, "prompt blocked: violence")
    jid = fail_one(space, provider, error, "a battle scene")
    panel.refresh()
    assert cell(panel, jid, Column.STATUS) == "Failed"
    text = str(cell(panel, jid, Column.PROBLEM))
    assert "blocked this request for safety" in text and "Change the prompt" in text
    assert "prompt blocked: violence" in text  # the provider's own words
    button = panel.action_button(jid)
    assert button is not None and button.text() == "Edit prompt…"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    asset_id = space.variant_detail(job(space, jid).variant_id).row.asset_id
    assert host.shown == [asset_id]


def test_auth_failure_offers_add_key(
    panel: JobsPanel, space: Space, provider: ScriptedProvider, host: FakeHost, qtbot
) -> None:  # type: ignore[no-untyped-def]
    jid = fail_one(space, provider, ProviderError(ErrorKind.AUTH, "401 bad key"), "a castle")
    panel.refresh()
    assert "refused the API key" in str(cell(panel, jid, Column.PROBLEM))
    button = panel.action_button(jid)
    assert button is not None and button.text() == "Add key…"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert host.preferences == ["keys"]


def test_rate_limited_job_waits_with_the_time_it_retries(
    panel: JobsPanel, space: Space, provider: ScriptedProvider, clock: FakeClock
) -> None:
    error = ProviderError(ErrorKind.RATE_LIMITED, "429 slow down", retry_after=30)
    jid = fail_one(space, provider, error, "a harbour at dusk")
    panel.refresh()
    row = job(space, jid)
    assert row.status == "queued" and row.error_code == "RATE_LIMITED"
    assert cell(panel, jid, Column.STATUS) == "Waiting"
    text = str(cell(panel, jid, Column.PROBLEM))
    assert f"Waiting — retries at {clock_time(row.not_before)}" in text
    assert "429 slow down" in text
    assert panel.action_button(jid) is None  # nothing to do but wait
    assert cell(panel, jid, Column.POSITION) == "1"


def test_retry_a_failed_job_from_the_panel(
    panel: JobsPanel, space: Space, provider: ScriptedProvider, host: FakeHost, qtbot
) -> None:  # type: ignore[no-untyped-def]
    error = ProviderError(ErrorKind.QUOTA, "monthly quota exceeded")
    old = fail_one(space, provider, error, "a desert caravan")
    vid = job(space, old).variant_id
    panel.refresh()
    assert "Check the plan" in str(cell(panel, old, Column.PROBLEM))
    button = panel.action_button(old)
    assert button is not None and button.text() == "Retry"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    assert host.errors == [] and host.stack.undoText() == "Retry job"
    new = next(j for j in space.jobs() if j.variant_id == vid and j.id != old)
    assert new.status == "queued"
    qtbot.waitUntil(lambda: ids(panel) == [new.id], timeout=2000)  # the old row gives way
    assert Scheduler(space, InlineExecutor()).run_until_idle(timeout_s=10)
    assert job(space, new.id).status == "succeeded"
    assert space.variant_detail(vid).row.status == "completed"
    qtbot.waitUntil(lambda: cell(panel, new.id, Column.STATUS) == "Done", timeout=2000)


def test_retry_from_the_toolbar_and_clear_finished(
    panel: JobsPanel, space: Space, provider: ScriptedProvider, qtbot
) -> None:  # type: ignore[no-untyped-def]
    error = ProviderError(ErrorKind.MALFORMED, "unreadable JSON")
    old = fail_one(space, provider, error, "a copper kettle")
    panel.refresh()
    panel.select_job(old)
    assert panel.retry_button.isEnabled() and not panel.cancel_button.isEnabled()
    qtbot.mouseClick(panel.retry_button, Qt.MouseButton.LeftButton)
    assert Scheduler(space, InlineExecutor()).run_until_idle(timeout_s=10)
    panel.refresh()
    assert [line.job.status for line in panel.model.lines] == ["succeeded"]
    qtbot.mouseClick(panel.clear_button, Qt.MouseButton.LeftButton)
    assert panel.model.lines == [] and panel.stack.currentWidget() is panel.empty
    assert len(space.jobs()) == 2  # hidden, not deleted
    request(space, "a fresh one")
    panel.refresh()
    assert len(panel.model.lines) == 1


# --------------------------------------------------------------------------- queue controls


def test_pause_and_resume_the_queue(panel: JobsPanel, space: Space, host: FakeHost, qtbot) -> None:  # type: ignore[no-untyped-def]
    jid = request(space)
    panel.refresh()
    assert panel.pause_button.text() == "Pause queue" and not panel.pause_button.isChecked()
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert space.queue_paused()
    assert panel.pause_button.text() == "Resume queue" and panel.pause_button.isChecked()
    qtbot.waitUntil(lambda: cell(panel, jid, Column.STATUS) == "Paused", timeout=2000)
    assert "Queue paused" in panel.summary.text()
    qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
    assert not space.queue_paused()
    assert panel.pause_button.text() == "Pause queue"
    host.stack.undo()  # undo the resume
    assert space.queue_paused()
    qtbot.waitUntil(lambda: panel.pause_button.isChecked(), timeout=2000)


def test_counts_changed(panel: JobsPanel, space: Space, provider: ScriptedProvider, qtbot) -> None:  # type: ignore[no-untyped-def]
    seen: list[dict[str, int]] = []
    panel.counts_changed.connect(seen.append)
    fail_one(space, provider, ProviderError(ErrorKind.AUTH, "no"), "one")
    request(space, "two")
    request(space, "three")
    executor = HeldExecutor()
    Scheduler(space, executor).pump()  # both start; concurrency default is 2
    request(space, "four")
    panel.refresh()
    assert seen[-1] == {"queued": 1, "running": 2, "failed": 1}
    executor.run_all()
    panel.refresh()
    assert seen[-1] == {"queued": 1, "running": 0, "failed": 1}
    before = len(seen)
    panel.refresh()
    assert len(seen) == before  # emitted on change only
    panel.set_space(None)
    assert seen[-1] == {"queued": 0, "running": 0, "failed": 0}
    assert not panel.pause_button.isEnabled()
    assert "Open a space" in panel.empty.text()


# --------------------------------------------------------------------------- pure parts


def _row(jid: str, status: str, vid: str = "", **kw: object) -> JobRow:
    base = dict(
        id=jid,
        variant_id=vid or f"v-{jid}",
        provider="gemini",
        status=status,
        priority=0,
        attempts=1,
        max_attempts=3,
        not_before=0,
        progress=None,
        error_code=None,
        error_message=None,
        created_at=1000,
        started_at=None,
        finished_at=None,
    )
    base.update(kw)
    return JobRow(**base)  # type: ignore[arg-type]


def test_arrange_orders_dedupes_and_limits() -> None:
    now = 10 * 24 * 3600 * 1000
    running = _row("r", "running", started_at=5)
    q1, q2, orphan = _row("q1", "queued"), _row("q2", "queued"), _row("qx", "queued")
    retried = _row("old", "failed", vid="v-q1", finished_at=now - 10)
    done = _row("d", "succeeded", finished_at=now - 5)
    stale = _row("s", "failed", finished_at=now - 25 * 3600 * 1000)
    hidden = _row("h", "cancelled", finished_at=now - 1)
    lines = arrange(
        [q1, running, q2, orphan],
        [hidden, done, retried, stale],
        ["q2", "q1"],
        now,
        {"h"},
    )
    assert [(j.id, p) for j, p in lines] == [("r", None), ("q2", 1), ("q1", 2), ("d", None)]
    many = [_row(f"f{i}", "failed", finished_at=now - i) for i in range(80)]
    assert len(arrange([], many, [], now)) == 50


def test_advice_for_each_kind() -> None:
    now = 1_000_000
    cases = {
        "AUTH": Action.ADD_KEY,
        "QUOTA": Action.RETRY,
        "SAFETY_BLOCKED": Action.EDIT_PROMPT,
        "INVALID_REQUEST": Action.EDIT_PROMPT,
        "TRANSIENT": Action.RETRY,
        "PROVIDER_DOWN": Action.RETRY,
        "MALFORMED": Action.RETRY,
        "CANCELLED": Action.RETRY,
        "INTERRUPTED": Action.RETRY,
        "INTERNAL": Action.RETRY,
        "STORAGE_ERROR": Action.RETRY,
        "RATE_LIMITED": Action.RETRY,
        "IMPORT_INTERRUPTED": Action.NONE,
        "SOMETHING_NEW": Action.RETRY,
    }
    for code, action in cases.items():
        advice = advise(_row("j", "failed", error_code=code, error_message="boom"), now)
        assert advice is not None and advice.action is action, code
        assert advice.text and advice.detail == "boom"
    missing = advise(
        _row("j", "failed", error_code="INVALID_REQUEST"), now, provider_available=False
    )
    assert (
        missing is not None
        and missing.action is Action.ADD_KEY
        and "no key for gemini" in missing.text
    )
    assert advise(_row("j", "succeeded"), now) is None
    assert advise(_row("j", "queued"), now) is None
    waiting = advise(_row("j", "queued", error_code="TRANSIENT", not_before=now + 5000), now)
    assert waiting is not None and waiting.text.startswith("Retrying — retries at")
    cancelled = advise(
        _row("j", "cancelled", error_code="CANCELLED", error_message="cancelled"), now
    )
    assert cancelled is not None and cancelled.detail == ""  # nothing the words don't say
    assert [duration(ms) for ms in (None, 7_000, 750_000, 3_723_000)] == [
        "",
        "0:07",
        "12:30",
        "1:02:03",
    ]


# --------------------------------------------------------------------------- a picture


def test_render_the_panel(
    panel: JobsPanel, space: Space, provider: ScriptedProvider, qtbot
) -> None:  # type: ignore[no-untyped-def]
    from studio.ui.theme import apply_theme

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    palette, sheet = app.palette(), app.styleSheet()
    apply_theme()
    try:
        fail_one(
            space,
            provider,
            ProviderError(ErrorKind.SAFETY_BLOCKED, "blocked: weapons"),
            "a knight with a sword",
        )
        fail_one(
            space,
            provider,
            ProviderError(ErrorKind.AUTH, "API key not valid"),
            "a misty mountain lake",
        )
        fail_one(
            space,
            provider,
            ProviderError(ErrorKind.RATE_LIMITED, "429 Too Many Requests", retry_after=40),
            "a treasure chest",
        )
        done = request(space, "a lighthouse at night")
        Scheduler(space, InlineExecutor()).pump()
        executor = HeldExecutor()
        running = request(space, "a dragon over the city")
        Scheduler(space, executor).pump()
        for prompt in ("a castle gate", "a village market, busy morning", "a tired wizard"):
            request(space, prompt)
        panel.refresh()
        space.publish_transient(
            Event(
                "job:progress",
                {"job_id": running, "variant_id": "", "progress": 0.62, "message": ""},
            )
        )
        assert cell(panel, done, Column.STATUS) == "Done"
        panel.resize(1400, 330)
        panel.show()
        qtbot.waitExposed(panel)
        SHOTS.mkdir(parents=True, exist_ok=True)
        image = panel.grab().toImage()
        assert image.save(str(SHOTS / "jobs_panel.png"))
        assert image.width() == 1400
        panel.select_job(running)
        qtbot.mouseClick(panel.pause_button, Qt.MouseButton.LeftButton)
        panel.refresh()
        panel.resize(820, 300)  # a narrow dock
        assert panel.grab().save(str(SHOTS / "jobs_panel-paused-narrow.png"))
    finally:
        app.setPalette(palette)
        app.setStyleSheet(sheet)
