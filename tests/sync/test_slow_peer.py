"""A peer that stops reading is dropped while live frames are written at once (frames
that fit the write buffer go out without ``await ws.send``, so without its timeout):
the others keep receiving every step, and the slow one resyncs when it reads again."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.commands import command_to_json
from studio.core.errors import StudioError
from studio.core.studio import Studio
from studio.sync import peer, wire
from studio.sync.home import open_sharing
from studio.sync.host import HostLimits
from tests.sync.compare import differences
from tests.sync.harness import HostThread, join_peer, space_with_a_frame

ME = Actor("local:host", "Hana", Role.OWNER)
SEND_TIMEOUT = 1.0
MAX_STEPS = 1000
"""Bound on the steps sent (about 12 KiB each, one every ``PACE`` seconds) before the
stuck peer must have been dropped: its buffers fill after a few, and it is dropped
``SEND_TIMEOUT`` after that."""
PACE = 0.02


@pytest.fixture
def host(tmp_path: Path) -> Iterator[HostThread]:
    home = tmp_path / "host"
    slug = space_with_a_frame(home, "Slow Peer", ME)
    limits = HostLimits(send_timeout=SEND_TIMEOUT, commands_per_second=1000, command_burst=1000)
    h = HostThread(home, [slug], limits=limits)
    try:
        yield h
    finally:
        h.stop()


def _join(host: HostThread, home: Path, name: str) -> str:
    return join_peer(host, "slow-peer", home, name)


def _small_buffers(transport: Any, option: int) -> None:
    sock = transport.get_extra_info("socket")
    sock.setsockopt(socket.SOL_SOCKET, option, 4096)


async def _shrink_host_side(host: HostThread, name: str) -> None:
    for served in host.host._served.values():
        for p in served.peers:
            if p.device.name == name:
                _small_buffers(p.ws.transport, socket.SO_SNDBUF)


def _big_step(i: int) -> list[dict[str, Any]]:
    """Ten frames with long titles: a step of about 12 KiB on the wire."""
    return [command_to_json(c.CreateFrame(f"{i}-{k}-" + "t" * 190, i, k, 1, 1)) for k in range(10)]


def test_a_peer_that_stops_reading_is_dropped_and_the_others_keep_receiving(
    host: HostThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    joined = [(tmp_path / n, _join(host, tmp_path / n, n)) for n in ("writer", "reader", "stuck")]
    sizes: list[int] = []
    written_now = 0
    real_write_now = wire.write_now

    def counted(ws: Any, frame: str) -> bool:
        nonlocal written_now
        ok = real_write_now(ws, frame)
        if frame.startswith('{"type":"steps"'):
            sizes.append(len(frame.encode()))
            written_now += ok
        return ok

    monkeypatch.setattr(wire, "write_now", counted)
    space_id = host.studio.resolve("slow-peer").id

    async def run() -> tuple[int, int, float]:
        studios = [Studio(home) for home, _slug in joined]
        stores = [open_sharing(s) for s in studios]
        cms = [
            peer.session_for(s, slug, st)
            for s, (_h, slug), st in zip(studios, joined, stores, strict=True)
        ]
        sessions = [await cm.__aenter__() for cm in cms]
        try:
            for s in sessions:
                await s.wait_live(20)
            writer, reader, stuck = sessions
            # small kernel buffers on both ends of the stuck peer's connection (the
            # kernel's autotuning would otherwise hold megabytes before the host's
            # own buffer fills), then its process stops reading
            _small_buffers(stuck.ws.transport, socket.SO_RCVBUF)
            host.run(_shrink_host_side(host, "stuck"))
            stuck.ws.transport.pause_reading()
            start = time.monotonic()
            sent = last = 0
            dropped_at = 0.0
            while sent < MAX_STEPS and time.monotonic() - start < 30:
                result = await writer.command(_big_step(sent), secrets.token_hex(8), 20)
                last = max(result["seqs"])
                await reader.wait_seq(last, 20)  # the reader keeps up all along
                sent += 1
                await asyncio.sleep(PACE)
                if len(host.host.peers(space_id)) == 2:
                    dropped_at = time.monotonic()
                    break
            assert dropped_at, f"the stuck peer was still connected after {sent} steps"
            for _ in range(3):  # the others go on after the drop
                result = await writer.command(_big_step(sent), secrets.token_hex(8), 20)
                last = max(result["seqs"])
                sent += 1
            await asyncio.gather(writer.wait_seq(last, 20), reader.wait_seq(last, 20))
            stuck.ws.transport.resume_reading()  # it finds its connection closed
            with pytest.raises(StudioError):
                await stuck.wait_seq(last, 20)
            assert stuck.failure is not None
            return sent, last, dropped_at - start
        finally:
            for cm in cms:
                await cm.__aexit__(None, None, None)
            for st in stores:
                st.close()
            for s in studios:
                s.close()

    sent, _last, took = asyncio.run(run())
    sizes = list(sizes)  # the live frames (the resync below sends bigger catch-ups)
    # the steps fitted the immediate-write path, and the live peers got each of them
    # that way (the stuck one too, until its buffer was full)
    assert sizes and min(sizes) <= wire.WRITE_NOW_BYTES
    assert written_now >= 2 * sent
    assert sent < MAX_STEPS
    assert SEND_TIMEOUT <= took < 30
    for home, slug in joined[:2]:
        with Studio(home) as s:
            path = s.paths.home / s.resolve(slug).file
        assert differences(host.home / "spaces" / "slow-peer.db", path) == []
    # the dropped peer resyncs when it comes back and converges too
    stuck_home, stuck_slug = joined[2]
    with Studio(stuck_home) as s:
        asyncio.run(peer.sync(s, stuck_slug, timeout=20))
        path = s.paths.home / s.resolve(stuck_slug).file
    assert differences(host.home / "spaces" / "slow-peer.db", path) == []
