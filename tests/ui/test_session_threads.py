"""The app runs job bodies as ``studio worker`` does: twice the provider slots in
threads (a run storing its result has given its slot to the next call but still holds
its thread; with one thread per slot the pool, not the provider limit, capped the calls)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.studio import Studio
from studio.jobs.config import scheduler_config
from studio.jobs.executor import body_threads
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    yield w
    w.close()
    studio.close()


def test_the_apps_job_pool_has_twice_the_provider_slots(window: MainWindow) -> None:
    window.studio.library.set_setting("jobs.local.concurrency", "6")
    entry = window.studio.create_space("Threads")
    window.open_space(entry.id)
    session = window.session
    assert session is not None
    names = session.space.providers.names() if session.space.providers else []
    slots = sum(
        lim.concurrency for lim in scheduler_config(window.studio.library, names).limits.values()
    )
    assert slots >= 6
    assert session.executor is not None
    assert session.executor.pool.maxThreadCount() == body_threads(slots) == 2 * slots
