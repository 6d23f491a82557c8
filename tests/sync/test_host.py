"""A host and peers over real TLS websockets on 127.0.0.1 (host in a thread of this
process; the peers' side runs here). Separate processes: test_processes.py."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.commands import command_to_json
from studio.core.errors import ErrorCode, PermissionDeniedError, StorageError, ValidationError
from studio.core.studio import Studio
from studio.sync import admin, peer, wire
from studio.sync.home import open_sharing
from studio.sync.host import HostLimits
from studio.sync.tls import pinned_context
from tests.sql import query
from tests.sync.compare import differences
from tests.sync.harness import HostThread

ME = Actor("local:host", "Hana", Role.OWNER)


@pytest.fixture
def host_home(tmp_path: Path) -> Path:
    home = tmp_path / "host"
    with Studio(home) as s:
        entry = s.create_space("Shared Board")
        with s.open_space(entry.slug) as space:
            space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), ME)
            space.apply(c.CreateFrame("Act 1", 0, 0, 100, 100), ME)
    return home


@pytest.fixture
def host(host_home: Path) -> Iterator[HostThread]:
    h = HostThread(host_home, ["shared-board"], limits=HostLimits(send_timeout=5))
    try:
        yield h
    finally:
        h.stop()


def _invite(host: HostThread, role: str = "editor", expires_ms: int = 3_600_000) -> wire.Invite:
    with Studio(host.home) as s:
        return admin.make_invite(s, "shared-board", role, expires_ms)


def _join(home: Path, link: str, name: str = "Pia") -> str:
    with Studio(home) as s:
        return asyncio.run(peer.join(s, link, name, timeout=20)).slug


def _host_path(host: HostThread) -> Path:
    return host.home / "spaces" / "shared-board.db"


def _replica(home: Path, slug: str) -> Path:
    with Studio(home) as s:
        return s.paths.home / s.resolve(slug).file


def _host_apply(host: HostThread, *cmds: c.Command) -> None:
    """Like another process on the host machine (the CLI): its own studio and space."""
    with Studio(host.home) as s, s.open_space("shared-board") as space:
        for cmd in cmds:
            space.apply(cmd, ME)


def _sync(home: Path, slug: str) -> int:
    with Studio(home) as s:
        return asyncio.run(peer.sync(s, slug, timeout=20))


def _send(home: Path, slug: str, *cmds: c.Command) -> dict[str, Any]:
    with Studio(home) as s:
        return asyncio.run(peer.send(s, slug, [command_to_json(x) for x in cmds], timeout=20))


def _status(port: int, headers: dict[str, str], path: str = "") -> int:
    """The HTTP status a raw upgrade request gets (TLS, certificate not checked)."""
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    lines = [
        f"GET /{path} HTTP/1.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
    ]
    lines += [f"{k}: {v}" for k, v in headers.items()]
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw) as tls,
    ):
        tls.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
        return int(tls.recv(4096).split(b" ", 2)[1])


def _invite_used(host: HostThread) -> list[Any]:
    with Studio(host.home) as s:
        store = open_sharing(s)
        try:
            return [r[0] for r in store._db.conn.execute("SELECT used_at FROM invites")]
        finally:
            store.close()


def test_edits_on_each_side_reach_the_other_and_every_table_converges(
    host: HostThread, tmp_path: Path
) -> None:
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    assert differences(_host_path(host), _replica(pia, slug)) == []
    made = _send(pia, slug, c.CreateAsset(name="From Pia", media_kind=c.MediaKindName.AUDIO))
    assert made["created"]["asset_id"]
    with Studio(host.home) as s, s.open_space("shared-board") as space:
        assert space.asset(made["created"]["asset_id"]).name == "From Pia"
        changes = list(space.changes())
        assert changes[-1].actor_name == "Pia" and changes[-1].actor_role == "editor"
    # the write returned once the replica had it
    with Studio(pia) as s, s.open_space(slug) as replica:
        assert replica.asset(made["created"]["asset_id"]).name == "From Pia"
    _host_apply(host, c.CreateFrame("From the host", 5, 5, 10, 10))
    _sync(pia, slug)
    assert differences(_host_path(host), _replica(pia, slug)) == []


def test_a_peer_that_missed_steps_gets_exactly_those_steps(
    host: HostThread, tmp_path: Path
) -> None:
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    path = _replica(pia, slug)
    inode = os.stat(path).st_ino
    with Studio(pia) as s:
        before = s.open_space(slug)
        start = before.last_seq()
        before.close()
    _host_apply(host, *[c.CreateFrame(f"F{i}", i, 0, 10, 10) for i in range(12)])

    async def catch_up(s: Studio) -> tuple[bool, int]:
        store = open_sharing(s)
        try:
            async with peer.session_for(s, slug, store) as session:
                await session.wait_live(20)
                return bool(session.welcome["snapshot"]), session.seq
        finally:
            store.close()

    with Studio(pia) as s:
        snapshot, seq = asyncio.run(catch_up(s))
    assert not snapshot and seq == start + 12
    assert os.stat(path).st_ino == inode  # the same file, stepped forward
    assert differences(_host_path(host), path) == []


def test_a_peer_the_log_no_longer_covers_gets_a_snapshot(host: HostThread, tmp_path: Path) -> None:
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    path = _replica(pia, slug)
    inode = os.stat(path).st_ino
    _host_apply(host, *[c.CreateFrame(f"F{i}", i, 0, 10, 10) for i in range(5)])
    # the host's filing of touched rows now starts after the peer's seq (as in a file
    # upgraded to schema 7 after the peer last synced)
    import sqlite3

    with sqlite3.connect(_host_path(host)) as raw:
        raw.execute("UPDATE sync_state SET value = (SELECT MAX(seq) - 2 FROM changes)")
    _sync(pia, slug)
    assert os.stat(path).st_ino != inode  # replaced by a snapshot
    assert differences(_host_path(host), path) == []
    _host_apply(host, c.CreateFrame("after", 0, 0, 1, 1))
    _sync(pia, slug)
    assert differences(_host_path(host), path) == []


def test_a_command_resent_after_a_cut_is_applied_once(host_home: Path, tmp_path: Path) -> None:
    host = HostThread(host_home, ["shared-board"])
    pia = tmp_path / "pia"
    try:
        slug = _join(pia, _invite(host).link())
        cmd = [command_to_json(c.CreateFrame("Once", 0, 0, 10, 10))]

        async def send_and_cut(s: Studio) -> None:
            store = open_sharing(s)
            try:
                async with peer.session_for(s, slug, store) as session:
                    await session.wait_live(20)
                    await session.ws.send(wire.encode("command", mid="m-cut-1", commands=cmd))
                    session.ws.transport.abort()  # cut before the answer
            finally:
                store.close()

        with Studio(pia) as s:
            asyncio.run(send_and_cut(s))
        time.sleep(0.3)
    finally:
        host.stop()
    host = HostThread(host_home, ["shared-board"])  # the host restarted meanwhile
    try:
        with Studio(pia) as s:
            store2 = open_sharing(s)  # the restarted host listens on a new port
            try:
                store2._db.conn.execute("UPDATE remotes SET port = ?", (host.port,))
            finally:
                store2.close()

            async def resend(s: Studio) -> dict[str, Any]:
                store = open_sharing(s)
                try:
                    async with peer.session_for(s, slug, store) as session:
                        await session.wait_live(20)
                        return await session.command(cmd, "m-cut-1", 20)
                finally:
                    store.close()

            first = asyncio.run(resend(s))
            again = asyncio.run(resend(s))
        assert first["seqs"] == again["seqs"]
        with Studio(host.home) as s, s.open_space("shared-board") as space:
            assert query(space, "SELECT COUNT(*) FROM frames WHERE title = 'Once'") == [(1,)]
        assert differences(_host_path(host), _replica(pia, slug)) == []
    finally:
        host.stop()


def test_a_viewer_can_read_but_every_command_is_refused(host: HostThread, tmp_path: Path) -> None:
    vera = tmp_path / "vera"
    slug = _join(vera, _invite(host, "viewer").link(), "Vera")
    before = _host_path(host).stat().st_size, differences(_host_path(host), _replica(vera, slug))
    with pytest.raises(peer.HostError) as err:
        _send(vera, slug, c.CreateFrame("Nope", 0, 0, 1, 1))
    assert err.value.code is ErrorCode.PERMISSION_DENIED and "can only view" in err.value.message
    with Studio(host.home) as s, s.open_space("shared-board") as space:
        assert query(space, "SELECT COUNT(*) FROM frames WHERE title = 'Nope'") == [(0,)]
    assert before[1] == []


def test_a_wrong_fingerprint_fails_before_the_token_is_sent(
    host: HostThread, tmp_path: Path
) -> None:
    good = _invite(host)
    bad = wire.Invite(good.host, good.port, good.space_id, good.token, "0" * 64)
    with pytest.raises(PermissionDeniedError, match="does not match the invite"):
        _join(tmp_path / "pia", bad.link())
    assert _invite_used(host) == [None]  # the token never reached the host
    assert _join(tmp_path / "pia", good.link())  # still good for the right host


def test_a_pinned_connection_refuses_another_certificate(host: HostThread, tmp_path: Path) -> None:
    from studio.sync.tls import host_certificate

    other = host_certificate(tmp_path / "other")

    async def attempt() -> None:
        async with connect(
            f"wss://127.0.0.1:{host.port}/x",
            ssl=pinned_context(other.der),
            proxy=None,
            additional_headers={"Authorization": "Bearer secret"},
        ):
            pass

    with pytest.raises(ssl.SSLCertVerificationError):
        asyncio.run(attempt())


def test_bad_expired_and_reused_tokens_are_refused(host: HostThread, tmp_path: Path) -> None:
    good = _invite(host)
    space = good.space_id
    ok_host = {"Host": f"127.0.0.1:{host.port}"}
    assert _status(host.port, {**ok_host, wire.INVITE_HEADER: "nope"}, space) == 401
    assert _status(host.port, {**ok_host, "Authorization": "Bearer nope"}, space) == 401
    assert _status(host.port, ok_host, space) == 401
    expiring = _invite(host, expires_ms=1)
    time.sleep(0.01)
    with pytest.raises(PermissionDeniedError, match="refused this device"):
        _join(tmp_path / "a", expiring.link())
    _join(tmp_path / "b", good.link())
    with pytest.raises(PermissionDeniedError, match="refused this device"):
        _join(tmp_path / "c", good.link())  # used once already


def test_a_foreign_origin_or_host_is_refused_before_any_state(host: HostThread) -> None:
    inv = _invite(host)
    base = {wire.INVITE_HEADER: inv.token}
    assert (
        _status(
            host.port,
            {**base, "Host": f"127.0.0.1:{host.port}", "Origin": "http://evil.example"},
            inv.space_id,
        )
        == 403
    )
    assert _status(host.port, {**base, "Host": f"evil.example:{host.port}"}, inv.space_id) == 403
    assert _status(host.port, {**base, "Host": f"127.0.0.1:{host.port + 1}"}, inv.space_id) == 403
    assert _status(host.port, {**base, "Host": f"127.0.0.1:{host.port}"}, "unknown-space") == 404
    assert _invite_used(host) == [None]  # none of them consumed the token


def test_a_revoked_device_is_closed_at_once_and_refused_after(
    host: HostThread, tmp_path: Path
) -> None:
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())

    async def watch(s: Studio) -> StorageError | PermissionDeniedError | None:
        store = open_sharing(s)
        try:
            async with peer.session_for(s, slug, store) as session:
                await session.wait_live(20)
                with Studio(host.home) as hs:
                    admin.revoke(hs, "shared-board", "Pia")
                await asyncio.wait_for(session._task, 5)  # type: ignore[arg-type]
                return session.failure  # type: ignore[return-value]
        finally:
            store.close()

    with Studio(pia) as s:
        failure = asyncio.run(watch(s))
    assert isinstance(failure, PermissionDeniedError) and "revoked" in failure.message
    with pytest.raises(PermissionDeniedError, match="refused this device"):
        _sync(pia, slug)


async def _two_sessions(s1: Studio, slug1: str, s2: Studio, slug2: str, body: Any) -> Any:
    st1, st2 = open_sharing(s1), open_sharing(s2)
    try:
        async with peer.session_for(s1, slug1, st1) as a, peer.session_for(s2, slug2, st2) as b:
            await a.wait_live(20)
            await b.wait_live(20)
            return await body(a, b)
    finally:
        st1.close()
        st2.close()


@pytest.mark.parametrize(
    "frame", ["x" * (wire.HOST_MAX_FRAME + 10), "not json", b"\x00binary", '{"type": "nope"}']
)
def test_an_oversized_or_malformed_frame_closes_only_that_connection(
    host: HostThread, tmp_path: Path, frame: str | bytes
) -> None:
    a_home, b_home = tmp_path / "a", tmp_path / "b"
    a_slug = _join(a_home, _invite(host).link(), "A")
    b_slug = _join(b_home, _invite(host).link(), "B")

    async def body(a: peer.Session, b: peer.Session) -> tuple[int | None, dict[str, Any]]:
        await a.ws.send(frame)
        with pytest.raises(ConnectionClosed):
            for _ in range(50):
                await a.ws.send(wire.encode("command", mid="after", commands=[]))
                await asyncio.sleep(0.05)
        code = a.ws.close_code
        ok = await b.command([command_to_json(c.CreateFrame("still", 0, 0, 1, 1))], "b1", 20)
        return code, ok

    with Studio(a_home) as s1, Studio(b_home) as s2:
        code, ok = asyncio.run(_two_sessions(s1, a_slug, s2, b_slug, body))
    if isinstance(frame, str) and len(frame) > wire.HOST_MAX_FRAME:
        # 1009 "too big"; the host stops reading mid-frame, so the peer's TCP may see a
        # reset first (1006): either way that connection, and only it, is gone
        assert code in (1006, 1009)
    else:
        assert code == 1008
    assert ok["seqs"]


def test_a_flood_is_rate_limited_while_others_keep_working(
    host: HostThread, tmp_path: Path
) -> None:
    a_home, b_home = tmp_path / "a", tmp_path / "b"
    a_slug = _join(a_home, _invite(host).link(), "A")
    b_slug = _join(b_home, _invite(host).link(), "B")
    cmd = [command_to_json(c.CreateFrame("flood", 0, 0, 1, 1))]

    async def body(a: peer.Session, b: peer.Session) -> tuple[int, int, float]:
        futs = []
        for i in range(120):
            fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
            a.results[f"f{i}"] = fut
            futs.append(fut)
            await a.ws.send(wire.encode("command", mid=f"f{i}", commands=cmd))
        t0 = time.monotonic()
        await b.command([command_to_json(c.CreateFrame("calm", 0, 0, 1, 1))], "b1", 20)
        took = time.monotonic() - t0
        answers = await asyncio.wait_for(asyncio.gather(*futs), 30)
        limited = sum(1 for m in answers if m.get("error", {}).get("code") == "RATE_LIMITED")
        return limited, len(answers) - limited, took

    with Studio(a_home) as s1, Studio(b_home) as s2:
        limited, applied, took = asyncio.run(_two_sessions(s1, a_slug, s2, b_slug, body))
    assert limited >= 50 and applied >= 40  # the burst passes, the rest is refused
    assert took < 5
    with Studio(host.home) as s, s.open_space("shared-board") as space:
        assert query(space, "SELECT COUNT(*) FROM frames WHERE title = 'flood'") == [(applied,)]


def test_a_replica_cannot_be_served_or_invited_to(host: HostThread, tmp_path: Path) -> None:
    from studio.core.errors import ValidationError
    from studio.sync.host import Host

    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    with Studio(pia) as s:
        with pytest.raises(ValidationError, match="only its host can share it"):
            asyncio.run(Host(s, [slug]).start())
        with pytest.raises(ValidationError, match="only its host can invite"):
            admin.make_invite(s, slug, "editor", 60_000, "127.0.0.1:1")


def test_peers_shows_who_is_connected_now(host: HostThread, tmp_path: Path) -> None:
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())

    def states() -> list[tuple[str, bool]]:
        with Studio(host.home) as s:
            return [(d.name, d.online(s.clock())) for d in admin.devices(s, "shared-board")]

    async def connected(s: Studio) -> list[tuple[str, bool]]:
        store = open_sharing(s)
        try:
            async with peer.session_for(s, slug, store) as session:
                await session.wait_live(10)
                return await asyncio.to_thread(states)
        finally:
            store.close()

    with Studio(pia) as s:
        during = asyncio.run(connected(s))
    assert during == [("Pia", True)]
    for _ in range(50):  # the host notes the close as it handles it (bounded wait)
        if states() == [("Pia", False)]:
            break
        time.sleep(0.05)
    assert states() == [("Pia", False)]


def test_a_replica_of_another_incarnation_of_the_log_gets_a_snapshot(
    host: HostThread, tmp_path: Path
) -> None:
    """Same seq, other content (a host restored from a backup reuses seqs): the mark of
    the replica's last change differs, so steps would not fit — a snapshot comes."""
    import sqlite3

    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    path = _replica(pia, slug)
    with sqlite3.connect(path) as raw:  # this replica's newest change is not the host's
        raw.execute(
            "UPDATE changes SET step_id = 'elsewhere' WHERE seq = (SELECT MAX(seq) FROM changes)"
        )
    inode = os.stat(path).st_ino
    _host_apply(host, c.CreateFrame("after", 0, 0, 1, 1))
    _sync(pia, slug)
    assert os.stat(path).st_ino != inode
    assert differences(_host_path(host), path) == []


def test_a_large_snapshot_holds_up_no_other_peer(
    host: HostThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A snapshot being written (a big space, a slow disk) runs on its own connection
    and thread: the reads that feed every other peer go on meanwhile."""
    from studio.core.replica_host import StepSource

    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    release, started = threading.Event(), threading.Event()
    real = StepSource.snapshot

    def slow_snapshot(self: StepSource, dest: Path) -> int:
        started.set()
        release.wait(20)
        return real(self, dest)

    monkeypatch.setattr(StepSource, "snapshot", slow_snapshot)
    joined: list[str] = []
    late = threading.Thread(
        target=lambda: joined.append(_join(tmp_path / "ola", _invite(host).link(), "Ola"))
    )
    late.start()
    try:
        assert started.wait(20)
        _host_apply(host, c.CreateFrame("While Ola joins", 1, 1, 5, 5))
        t0 = time.monotonic()
        seq = _sync(pia, slug)  # Pia catches up while Ola's snapshot is still held
        assert time.monotonic() - t0 < 5
        with Studio(pia) as s, s.open_space(slug) as replica:
            assert replica.last_seq() == seq
            assert "While Ola joins" in {f.title for f in replica.snapshot().frames}
    finally:
        release.set()
        late.join(30)
    assert joined and not late.is_alive()


def test_a_replica_keeps_no_rolling_backups(host: HostThread, tmp_path: Path) -> None:
    """The host's file is the one to back up; a replica is rebuilt from it (a restored
    replica would only be older than its host, and costs a copy of the space)."""
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    for i in range(3):
        _host_apply(host, c.CreateFrame(f"F{i}", i, 0, 1, 1))
        _sync(pia, slug)
        with Studio(pia) as s, s.open_space(slug) as replica:
            assert replica.is_replica
    with Studio(pia) as s:
        assert s.backups(slug) == []
        assert not s.paths.space_backups(slug).exists()
    with Studio(host.home) as s:  # the host's own space still has them
        assert s.backups("shared-board")


def test_a_copy_made_by_an_older_version_is_replaced_by_a_snapshot(
    host: HostThread, tmp_path: Path
) -> None:
    """A peer upgraded to a version with a new space migration still syncs its joined
    space: the older copy is caught up by a fresh snapshot (it was refused as 'not a
    space file of this version' and the space never synced again)."""
    import sqlite3

    from studio.store.schema import SPACE_MIGRATIONS

    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    replica = _replica(pia, slug)
    older = SPACE_MIGRATIONS[-1].version - 1
    conn = sqlite3.connect(replica)
    conn.execute(f"PRAGMA user_version = {older}")
    conn.commit()
    conn.close()
    _host_apply(host, c.CreateAsset(name="After the upgrade", media_kind=c.MediaKindName.IMAGE))
    _sync(pia, slug)
    assert differences(_host_path(host), replica) == []
    conn = sqlite3.connect(replica)
    try:
        names = {r[0] for r in conn.execute("SELECT name FROM assets")}
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    assert "After the upgrade" in names and version == older + 1


def test_a_step_of_more_commands_than_a_message_holds_is_answered_not_cut(
    host: HostThread, tmp_path: Path
) -> None:
    """A well-formed command message that holds too many commands (a bulk action on
    thousands of cards) gets a typed refusal and the connection stays: it used to be
    treated as malformed and closed, and a peer that resent it reconnected forever."""
    a_home, b_home = tmp_path / "a", tmp_path / "b"
    a_slug = _join(a_home, _invite(host).link(), "A")
    b_slug = _join(b_home, _invite(host).link(), "B")
    many = [{"command": "asset:delete", "asset_id": "x"}] * (wire.MAX_PEER_COMMANDS + 1)

    async def body(a: peer.Session, b: peer.Session) -> tuple[dict[str, Any], dict[str, Any]]:
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        a.results["big"] = fut
        await a.ws.send(wire.encode("command", mid="big", commands=many))
        answer = await asyncio.wait_for(fut, 20)
        after = await a.command([command_to_json(c.CreateFrame("after", 0, 0, 1, 1))], "a1", 20)
        return answer, after

    with Studio(a_home) as s1, Studio(b_home) as s2:
        answer, after = asyncio.run(_two_sessions(s1, a_slug, s2, b_slug, body))
    assert answer["error"]["code"] == ErrorCode.VALIDATION_ERROR.value
    assert f"{wire.MAX_PEER_COMMANDS:,}" in answer["error"]["message"]
    assert after["seqs"]  # the same connection goes on


def test_a_step_too_big_for_one_message_is_refused_before_it_is_queued(
    host: HostThread, tmp_path: Path
) -> None:
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    many = [command_to_json(c.DeleteAsset("x"))] * (wire.MAX_PEER_COMMANDS + 1)
    huge = [command_to_json(c.CreateFrame("t" * 60_000, 0, 0, 1, 1))] * 20  # ~1.2 MB
    for commands, said in ((many, "at most 10,000 commands"), (huge, "MiB")):
        with Studio(pia) as s, pytest.raises(ValidationError, match=said):
            asyncio.run(peer.send(s, slug, commands, timeout=20))
    with Studio(pia) as s:
        store = open_sharing(s)
        try:
            assert store.outbox(slug) == []  # nothing kept to be refused again later
        finally:
            store.close()
    wire.check_step([command_to_json(c.CreateFrame("fine", 0, 0, 1, 1))])


def test_a_read_bigger_than_a_peer_takes_reaches_it_as_a_snapshot(
    host: HostThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A step whose frame would be over the peer's limit (a delete of 40,000 cards on a
    real space; here the limit is lowered) goes as a snapshot: sent as steps, the
    peer's websocket closed on it (1009) and it reconnected to the same frame forever."""
    monkeypatch.setattr(wire, "PEER_MAX_FRAME", 64 << 10)  # host and peer: this process
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    path = _replica(pia, slug)

    async def follow(s: Studio) -> tuple[int, str | None]:
        store = open_sharing(s)
        try:
            async with peer.session_for(s, slug, store) as session:
                await session.wait_live(20)
                # one step of 300 frames: ~200 KB as steps
                await asyncio.to_thread(
                    _host_apply_step,
                    host,
                    [c.CreateFrame(f"F{i:03d}" + "-" * 150, i, 0, 10, 10) for i in range(300)],
                )
                with Studio(host.home) as h, h.open_space("shared-board") as space:
                    target = space.last_seq()
                with contextlib.suppress(StorageError):
                    await session.wait_seq(target, 20)
                failure = session.failure
                return session.seq, None if failure is None else failure.message
        finally:
            store.close()

    with Studio(pia) as s:
        seq, failure = asyncio.run(follow(s))
    assert failure is None
    with Studio(host.home) as h, h.open_space("shared-board") as space:
        assert seq == space.last_seq()
    assert differences(_host_path(host), path) == []


def _host_apply_step(host: HostThread, cmds: list[c.Command]) -> None:
    with Studio(host.home) as s, s.open_space("shared-board") as space:
        space.apply_step(cmds, ME)
