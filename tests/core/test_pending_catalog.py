"""A provider catalog built later (the app's first frame does not wait for the keyring):
asked early it waits, or builds on the asking thread; its callbacks run once it is there."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from studio.core import providers
from studio.core.providers import (
    BrokenCatalog,
    NoProviders,
    PendingCatalog,
    ProviderCatalog,
    ProviderError,
)
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.store.library import Library


def test_asked_before_anyone_started_it_builds_on_the_asking_thread() -> None:
    built_on: list[str] = []

    def build() -> ProviderCatalog:
        built_on.append(threading.current_thread().name)
        return NoProviders()

    pending = PendingCatalog(build)
    assert not pending.ready()
    assert pending.names() == []
    assert pending.ready() and built_on == [threading.current_thread().name]
    pending.start()  # nothing left to build
    assert built_on == [threading.current_thread().name]


def test_started_it_builds_on_its_thread_and_tells_each_callback_once() -> None:
    gate, building = threading.Event(), threading.Event()
    catalog = NoProviders()

    def build() -> ProviderCatalog:
        building.set()
        assert gate.wait(30)
        return catalog

    pending = PendingCatalog(build)
    told: list[tuple[ProviderCatalog, str]] = []
    pending.when_ready(lambda cat: told.append((cat, threading.current_thread().name)))
    pending.start()
    pending.start()  # once
    assert building.wait(30)
    assert not pending.ready() and told == []
    gate.set()
    assert pending.result() is catalog  # waits for the thread
    assert pending._thread is not None
    pending._thread.join(30)  # (its callbacks run after the catalog is out)
    assert told == [(catalog, "providers")]
    pending.when_ready(lambda cat: told.append((cat, threading.current_thread().name)))
    assert told[1] == (catalog, threading.current_thread().name)  # at once, here
    assert len(told) == 2


def test_a_failed_build_is_tried_again_by_the_next_ask() -> None:
    attempts: list[int] = []

    def build() -> ProviderCatalog:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("keyring unreachable")
        return NoProviders()

    pending = PendingCatalog(build)
    with pytest.raises(OSError):
        pending.names()
    assert not pending.ready()
    assert pending.names() == [] and len(attempts) == 2


def _built_on_its_thread(pending: PendingCatalog) -> list[ProviderCatalog]:
    """Start ``pending``'s thread and wait for it to end; what its callback was told."""
    told: list[ProviderCatalog] = []
    pending.when_ready(told.append)
    pending.start()
    assert pending._thread is not None
    pending._thread.join(30)
    return told


def test_its_thread_tries_again_after_a_failure(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(providers, "BUILD_RETRIES_S", (0.01, 0.01))
    attempts: list[int] = []
    catalog = NoProviders()

    def build() -> ProviderCatalog:
        attempts.append(1)
        if len(attempts) == 1:
            raise OSError("keyring unreachable")
        return catalog

    pending = PendingCatalog(build)
    told = _built_on_its_thread(pending)
    assert pending.ready() and told == [catalog] and len(attempts) == 2


def test_a_build_that_keeps_failing_settles_on_a_catalog_that_says_why(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nobody may ever ask the catalog itself (the session's scheduler and the window's
    deferred panels wait on its callbacks): they must still run, and a request must
    say why nothing can be made. Before, they never ran and jobs waited for ever."""
    monkeypatch.setattr(providers, "BUILD_RETRIES_S", (0.01, 0.01))
    attempts: list[int] = []

    def build() -> ProviderCatalog:
        attempts.append(1)
        raise OSError("keyring unreachable")

    pending = PendingCatalog(build)
    told = _built_on_its_thread(pending)
    assert len(attempts) == 3 and pending.ready()
    [settled] = told
    assert isinstance(settled, BrokenCatalog) and pending.names() == []
    with pytest.raises(ProviderError, match="keyring unreachable"):
        pending.default_for("image")
    later: list[ProviderCatalog] = []
    pending.when_ready(later.append)  # a session opened afterwards is told at once
    assert later == [settled]


def test_a_studio_with_its_catalog_later(tmp_path: Path) -> None:
    calls: list[Library] = []

    def factory(library: Library) -> ProviderCatalog:
        calls.append(library)
        return build_providers(library)

    with Studio(tmp_path / "home", providers=factory, catalog_later=True) as studio:
        pending = studio.providers
        assert isinstance(pending, PendingCatalog) and calls == []
        assert studio.start_catalog() is pending
        assert "local" in pending.names() and calls == [studio.library]
        space = studio.open_space(studio.create_space("Later").id)
        try:
            assert space.providers is pending  # the session swaps in the registry itself
        finally:
            space.close()
        studio.reload_providers()  # after Preferences: built when asked, not pending
        assert not isinstance(studio.providers, PendingCatalog) and len(calls) == 2
    with Studio(tmp_path / "home", providers=factory) as studio:
        assert studio.start_catalog() is None  # built at once when asked
