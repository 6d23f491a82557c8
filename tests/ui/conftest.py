"""Shared set-up of the UI tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.ui.main_window import MainWindow
from studio.ui.sharing import window as sharing_window
from tests.conftest import OWNER


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_main_thread() -> Iterator[None]:
    """Collect each test's cyclic garbage here, on the main thread.

    A widget left in a reference cycle is otherwise freed by whichever thread next
    triggers the cyclic collector — in a later test that may be a job thread or a
    thread-pool worker — and a Qt object destroyed off its thread can crash the
    process (seen once: a segfault while a worker thread imported google-genai).

    What outlives the test (modules, the QApplication, wider fixtures) is then frozen
    out of the collector's sight (``gc.freeze``): the next test's collection walks only
    what was made since — the same frees on the main thread, without re-walking the
    whole session's heap each time (~0.1-0.5 s per test with every module imported).
    Only session- and module-wide objects are frozen (each test's own fixtures are torn
    down before this runs). A canvas that loaded cards froze the whole heap then, the
    test's windows and fixtures with it (the app keeps its cards frozen): after such a
    test everything is unfrozen first, and this collection walks the whole heap again.
    """
    yield
    if gc.get_freeze_count() > _frozen_here[0]:
        gc.unfreeze()
    gc.collect()
    gc.freeze()
    _frozen_here[0] = gc.get_freeze_count()


_frozen_here = [0]
"""How many objects the fixture above froze (more now: someone else froze since)."""


@pytest.fixture(autouse=True)
def _share_on_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """A window that shares a space listens on 127.0.0.1 only (never the LAN)."""
    monkeypatch.setenv(sharing_window.BIND_ENV, "127.0.0.1")


@pytest.fixture
def window(tmp_path: Path, qtbot) -> Iterator[MainWindow]:  # type: ignore[no-untyped-def]
    """A shown main window on a fresh home with the provider registry (a test module
    may define its own ``window``: that one wins)."""
    studio = Studio(tmp_path / "home", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    yield w
    w.close()
    studio.close()
