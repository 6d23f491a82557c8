"""LAN discovery: ``studio serve`` announces ``_forgestudio._tcp`` over mDNS with only
public TXT fields, ``studio discover`` lists it, ``--no-announce`` keeps it quiet.

Real multicast on the loopback interface only (zeroconf bound to 127.0.0.1): the host and
the browser are separate zeroconf instances (separate processes in the CLI test), so the
packets really cross the network stack of this machine. Not exercised: other interfaces,
other machines, VLANs.
"""

from __future__ import annotations

import asyncio
import json
import socket
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core.studio import Studio
from studio.sync import admin, discovery
from studio.sync.discovery import (
    Announcement,
    Announcer,
    Browse,
    discover,
    host_announcement,
)
from studio.sync.wire import SYNC_PROTOCOL
from tests.sync.harness import HostThread
from tests.sync.test_processes import _spawn, _stop, here

LOOPBACK = ["127.0.0.1"]


def test_the_txt_record_holds_public_fields_only_and_reads_back() -> None:
    fp = "ab" * 32
    a = host_announcement("h0123abcd", "studio-box", 4567, 3, fp, ["127.0.0.1"])
    txt = a.txt()
    assert set(txt) == set(discovery.TXT_KEYS)
    assert txt == {
        "id": "h0123abcd",
        "name": "studio-box",
        "proto": str(SYNC_PROTOCOL),
        "spaces": "3",
        "fp": fp[: discovery.SHORT_FINGERPRINT],
    }
    raw = {k.encode(): v.encode() for k, v in txt.items()}
    back = Announcement.from_record(raw, 4567, ["127.0.0.1"])
    assert back == a
    assert back is not None and back.address() == "127.0.0.1:4567"
    # another service's record, or a forged one, is not listed
    assert Announcement.from_record({b"id": b"h1"}, 4567, []) is None
    assert Announcement.from_record({**raw, b"id": b"../x"}, 4567, []) is None
    assert Announcement.from_record(raw, 0, []) is None
    odd = Announcement.from_record({**raw, b"fp": b"<script>"}, 4567, [])
    assert odd is not None and odd.fingerprint == ""


def test_an_announced_host_is_discovered_with_its_port_and_goes_away_on_close(
    tmp_path: Path,
) -> None:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
        s.create_space("Props")
    host = HostThread(home, ["board", "props"])
    try:
        with Studio(home) as s:
            invite = admin.make_invite(s, "board", "editor", 60_000)
        assert host.host.cert is not None
        announcer = Announcer(
            host_announcement(
                host.host.host_id, "test-box", host.port, 2, host.host.cert.fingerprint, LOOPBACK
            ),
            LOOPBACK,
        )
        assert host.run(announcer.start())
        try:
            found = asyncio.run(discover(1.5, LOOPBACK))
            mine = [h for h in found if h.host_id == host.host.host_id]
            assert len(mine) == 1
            h = mine[0]
            assert (h.port, h.spaces, h.protocol, h.name) == (
                host.port,
                2,
                SYNC_PROTOCOL,
                "test-box",
            )
            assert h.address() == f"127.0.0.1:{host.port}"
            assert invite.fingerprint.startswith(h.fingerprint) and len(h.fingerprint) == 16
            assert invite.token not in json.dumps(h.to_json())
        finally:
            host.run(announcer.close())
        again = asyncio.run(discover(1.0, LOOPBACK))
        assert host.host.host_id not in {h.host_id for h in again}
    finally:
        host.stop()


def test_studio_serve_announces_and_discover_lists_it_unless_no_announce(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "host"
    here(home, "space", "create", "Team Board")  # setup in this process
    quiet_home = tmp_path / "quiet"
    here(quiet_home, "space", "create", "Hidden")
    loud = _spawn(home, "serve", "team-board", "--json")
    quiet = _spawn(quiet_home, "serve", "hidden", "--json", "--no-announce")
    try:
        assert loud.stdout is not None and quiet.stdout is not None
        info = json.loads(loud.stdout.readline())
        quiet_info = json.loads(quiet.stdout.readline())
        assert info["announce"] is True and quiet_info["announce"] is False
        peer = tmp_path / "peer"
        capsys.readouterr()
        seen: dict[str, dict[str, object]] = {}
        for _ in range(3):  # bounded: the announcement goes out once the probes are done
            assert main(["--home", str(peer), "discover", "--json", "--wait", "1.5",
                         "--interface", "127.0.0.1"]) == 0  # fmt: skip
            seen = {h["host_id"]: h for h in json.loads(capsys.readouterr().out)}
            if info["host_id"] in seen:
                break
        assert info["host_id"] in seen
        assert seen[info["host_id"]]["port"] == info["port"]
        assert seen[info["host_id"]]["spaces"] == 1
        assert quiet_info["host_id"] not in seen
        assert (
            main(["--home", str(peer), "discover", "--wait", "1", "--interface", "127.0.0.1"]) == 0
        )
        text = capsys.readouterr().out
        assert f"127.0.0.1:{info['port']}" in text and "HOST ID" in text
    finally:
        assert _stop(loud) == 0
        assert _stop(quiet) == 0
    capsys.readouterr()
    assert main(["--home", str(peer), "discover", "--json", "--wait", "1",
                 "--interface", "127.0.0.1"]) == 0  # fmt: skip
    assert info["host_id"] not in {h["host_id"] for h in json.loads(capsys.readouterr().out)}


def test_discover_refuses_an_interface_that_is_not_an_address(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--home", str(tmp_path), "discover", "--interface", "eth0; rm"])
    assert exit_.value.code != 0
    assert "is not an IPv4 address" in capsys.readouterr().err


def test_discover_on_an_interface_this_machine_lacks_fails_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 192.0.2.1 is TEST-NET-1: no interface here has it
    code = main(["--home", str(tmp_path), "discover", "--interface", "192.0.2.1", "--wait", "0.2"])
    assert code != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("studio: could not listen for hosts on the LAN: ")


def test_an_announcement_the_network_refuses_is_a_warning_not_a_crash(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # an address that is no address (nor a name that resolves), then an interface this
    # machine lacks: start() says False and leaves nothing open
    for addresses, interfaces in ((["no-such-host.invalid"], LOOPBACK), (LOOPBACK, ["192.0.2.1"])):
        a = host_announcement("h0123abcd", "box", 4567, 1, "ab" * 32, addresses)
        announcer = Announcer(a, interfaces)
        assert asyncio.run(announcer.start()) is False
        assert announcer._zc is None
    assert sum("could not announce this host" in r.message for r in caplog.records) == 2


def test_a_host_killed_without_a_goodbye_leaves_a_live_browse_and_comes_back_when_it_answers(
    tmp_path: Path,
) -> None:
    """A host that dies (SIGKILL: no goodbye packet, as after a crash or a pulled cable)
    must not stay listed for the hour its records live in the cache: the browse asks
    the hosts it has not heard from and drops the silent ones. Served again on the same
    port, the host answers and is listed again."""
    home = tmp_path / "host"
    here(home, "space", "create", "Team Board")
    with socket.socket() as s:  # a free port, for the restart on the same one
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    shown: list[list[str]] = [[]]

    def changed(hosts: list[Announcement]) -> None:
        shown.append([h.host_id for h in hosts])

    async def until(ok: Callable[[], bool], seconds: float) -> float:
        start = time.monotonic()
        while not ok():
            assert time.monotonic() - start < seconds, shown[-1]
            await asyncio.sleep(0.05)
        return time.monotonic() - start

    def serve() -> tuple[subprocess.Popen[str], str]:
        proc = _spawn(home, "serve", "team-board", "--json", "--port", str(port))
        assert proc.stdout is not None
        return proc, json.loads(proc.stdout.readline())["host_id"]

    async def scenario() -> float:
        browse = Browse(changed, LOOPBACK, max_s=120, verify_s=0.5)
        task = asyncio.get_running_loop().create_task(browse.run())
        proc, host_id = serve()
        try:
            await until(lambda: host_id in shown[-1], 20)
            proc.kill()  # no goodbye
            proc.wait(10)
            gone_after = await until(lambda: host_id not in shown[-1], 15)
            proc, again = serve()
            assert again == host_id
            await until(lambda: host_id in shown[-1], 20)
        finally:
            _stop(proc)
            browse.stop()
            await asyncio.wait_for(task, 10)
        return gone_after

    gone_after = asyncio.run(scenario())
    # two quiet rounds and a resolve's wait, plus the network's and this machine's slack
    assert gone_after < 2 * 0.5 + discovery.RESOLVE_TIMEOUT_MS / 1000 + 5
