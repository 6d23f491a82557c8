"""Stopping links promptly: a joined space's link caught connecting to a host that
never answers (or closing a connection) ends within a second or so of its stop, and
closing the engine leaves no task pending on its loop (one left pending was destroyed
after the loop closed: "Event loop is closed" from a websocket's recv, seen in CI)."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core.studio import Studio
from studio.store.sharing import Remote
from studio.sync.home import open_sharing
from studio.sync.tls import host_certificate
from studio.ui.sharing.engine import LINK_GRACE_S, SharingEngine


@pytest.fixture
def silent_host() -> Iterator[int]:
    """A TCP port on 127.0.0.1 that accepts and then says nothing (no TLS, no hello)."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    held: list[socket.socket] = []
    done = threading.Event()

    def accept() -> None:
        while not done.is_set():
            try:
                conn, _addr = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            held.append(conn)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1]
    finally:
        done.set()
        thread.join(5)
        server.close()
        for conn in held:
            conn.close()


def _joined(home: Path, port: int) -> str:
    der = host_certificate(home.parent / "far-host").der  # a real pin: TLS waits, no error
    with Studio(home) as studio:
        store = open_sharing(studio)
        try:
            store.add_remote(
                Remote("far-board", "s" * 26, "h" * 16, "127.0.0.1", port, der, "d1",
                       "secret", "editor", 0)
            )  # fmt: skip
        finally:
            store.close()
    return "far-board"


def _open(engine: SharingEngine, slug: str, states: list[str]) -> None:
    engine.call(
        engine.open_link(
            slug,
            lambda st: states.append(st.state),
            lambda _d: None,
            lambda _r: None,
            lambda _m: None,
        )
    ).result(10)


def _connecting(states: list[str]) -> None:
    end = time.monotonic() + 10
    while not states and time.monotonic() < end:
        time.sleep(0.02)
    time.sleep(0.2)  # into its TLS handshake, which the host never answers


def _pending(engine: SharingEngine) -> list[asyncio.Task[object]]:
    return [t for t in asyncio.all_tasks(engine.loop) if not t.done()]


def test_a_link_caught_connecting_ends_soon_after_it_is_closed(
    tmp_path: Path, silent_host: int
) -> None:
    slug = _joined(tmp_path / "pia", silent_host)
    engine = SharingEngine(tmp_path / "pia", bind="127.0.0.1", announce=False)
    try:
        states: list[str] = []
        _open(engine, slug, states)
        _connecting(states)  # the host accepted and says nothing
        (_link, task) = engine.links[slug]
        assert states == ["connecting"] and not task.done()
        t0 = time.monotonic()
        engine.call(engine.close_link(slug)).result(30)
        took = time.monotonic() - t0
        assert task.done()
        assert took < 3 * LINK_GRACE_S + 0.5  # not the 5 s connect timeout
    finally:
        engine.close()
    assert _pending(engine) == []


def test_closing_the_engine_leaves_no_task_pending(tmp_path: Path, silent_host: int) -> None:
    slug = _joined(tmp_path / "pia", silent_host)
    engine = SharingEngine(tmp_path / "pia", bind="127.0.0.1", announce=False)
    states: list[str] = []
    _open(engine, slug, states)
    _connecting(states)
    engine.call(engine.close_link(slug))  # the app closes while the link still ends
    t0 = time.monotonic()
    engine.close()
    assert time.monotonic() - t0 < 10
    assert engine.loop.is_closed()
    assert _pending(engine) == []
