"""The app opens its space before the provider catalog is built (after the first frame,
on a thread): the session starts its job scheduler when the catalog arrives, and a job
queued before that runs then."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.providers import PendingCatalog, ProviderCatalog
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.store.library import Library
from studio.ui import window_later
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER


@pytest.fixture
def gate() -> Iterator[threading.Event]:
    opened = threading.Event()
    yield opened
    opened.set()  # never leave a catalog thread waiting


def test_jobs_start_when_the_catalog_arrives(tmp_path: Path, qtbot, gate: threading.Event) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "home"

    def slow_catalog(library: Library) -> ProviderCatalog:
        assert gate.wait(60)
        return build_providers(library)

    studio = Studio(home, providers=slow_catalog, catalog_later=True)
    entry = studio.create_space("Later")
    window = MainWindow(studio, OWNER, defer=True)
    qtbot.addWidget(window)
    window_later.after_first_frame(window, lambda: None)  # as the app does
    window.open_space(entry.id)
    session = window.session
    assert session is not None and not session.jobs_running()
    pending = session.space.providers
    assert isinstance(pending, PendingCatalog) and not pending.started()
    # a job queued meanwhile (here by another studio on the same files, as the CLI does)
    with Studio(home, providers=build_providers) as other:
        space = other.open_space(entry.id)
        try:
            request = c.RequestGeneration(
                "a kite", c.MediaKindName.IMAGE, options=c.GenerationOptions(size="512")
            )
            space.apply(request, OWNER)
        finally:
            space.close()
    qtbot.waitUntil(lambda: len(window.scene.cards()) == 1, timeout=20_000)
    card = window.scene.cards()[0]
    qtbot.wait(300)  # nothing runs it yet
    assert card.facts.active is not None and card.facts.active.status == "pending"
    assert not session.jobs_running()

    assert not window_later.built(window)  # nor the parts after the first frame
    with qtbot.waitSignal(session.jobs_started, timeout=30_000):
        window.show()  # its first frame with the card: the catalog starts building
        qtbot.waitUntil(lambda: pending.started(), timeout=10_000)
        gate.set()
    assert not isinstance(session.space.providers, PendingCatalog)  # the registry itself
    qtbot.waitUntil(
        lambda: card.facts.active is not None and card.facts.active.status == "completed",
        timeout=30_000,
    )
    qtbot.waitUntil(lambda: window_later.ready(window), timeout=10_000)  # built after it
    assert window.provider_label.text().startswith("Providers: local")
    window.close()


def test_a_session_closed_before_its_catalog_never_starts_jobs(  # type: ignore[no-untyped-def]
    tmp_path: Path, qtbot, gate: threading.Event
) -> None:
    def slow_catalog(library: Library) -> ProviderCatalog:
        assert gate.wait(60)
        return build_providers(library)

    studio = Studio(tmp_path / "home", providers=slow_catalog, catalog_later=True)
    first, second = studio.create_space("One"), studio.create_space("Two")
    window = MainWindow(studio, OWNER, defer=True)
    qtbot.addWidget(window)
    window.open_space(first.id)
    session = window.session
    assert session is not None
    window.open_space(second.id)  # the first one closes before its catalog arrives
    pending = studio.start_catalog()
    assert pending is not None
    gate.set()
    assert window.session is not None
    with qtbot.waitSignal(window.session.jobs_started, timeout=30_000):
        pass
    assert not session.jobs_running()
    window.close()
