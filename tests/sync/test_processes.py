"""The main scenario with every party in its own process: `studio serve` on 127.0.0.1,
two peers joining with `studio join`, writes from each side, a follower kept live by
`studio sync --follow`, a viewer refused, SIGTERM ending the host cleanly.

The peers' joins, writes and syncs are real `studio` processes; the owner's bookkeeping
(creating the space, invites, the peer list) and plain reads run the same CLI code in
the test's own process (itself another process than the host's), which spares an
interpreter start each."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sync.compare import differences

ROOT = Path(__file__).resolve().parents[2]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.pop("STUDIO_HOME", None)
    return env


def studio(home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        capture_output=True,
        text=True,
        timeout=60,
        env=_env(),
        check=False,
    )
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def here(home: Path, *args: str, ok: bool = True) -> subprocess.CompletedProcess[str]:
    """The CLI's `main` in this process, its output captured like a subprocess's."""
    import contextlib
    import io

    from studio.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--home", str(home), *args])
    done = subprocess.CompletedProcess(args, code, out.getvalue(), err.getvalue())
    if ok:
        assert done.returncode == 0, done.stderr
    return done


def _spawn(home: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "studio", "--home", str(home), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=_env(),
    )


def _stop(proc: subprocess.Popen[str]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(15)
    finally:
        if proc.poll() is None:  # pragma: no cover - a hung process: do not leak it
            proc.kill()
            proc.wait(5)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[Path, dict[str, object], subprocess.Popen[str]]]:
    home = tmp_path / "host"
    here(home, "space", "create", "Team Board")
    here(
        home,
        "apply",
        "team-board",
        '{"command": "frame:create", "title": "Act 1", "x": 0, "y": 0, "width": 50, "height": 50}',
    )
    proc = _spawn(home, "serve", "team-board", "--json")
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()  # one JSON line once it listens
        assert line, proc.stderr.read() if proc.stderr else ""
        yield home, json.loads(line), proc
    finally:
        _stop(proc)


def _frame(title: str) -> str:
    return json.dumps(
        {"command": "frame:create", "title": title, "x": 1, "y": 2, "width": 3, "height": 4}
    )


def _replica(home: Path, slug: str) -> Path:
    rows = json.loads(here(home, "space", "list", "--json").stdout)
    return home / next(r["file"] for r in rows if r["slug"] == slug)


def _titles(path: Path) -> set[str]:
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
        return {r[0] for r in conn.execute("SELECT title FROM frames")}


def test_peers_in_separate_processes_converge_with_the_host(
    served: tuple[Path, dict[str, object], subprocess.Popen[str]], tmp_path: Path
) -> None:
    home, info, proc = served
    assert info["spaces"] == ["team-board"] and len(str(info["fingerprint"])) == 64
    link = json.loads(here(home, "invite", "team-board", "--role", "editor", "--json").stdout)[
        "link"
    ]
    link2 = here(home, "invite", "team-board", "--role", "editor").stdout.strip()
    p1, p2 = tmp_path / "p1", tmp_path / "p2"
    s1 = json.loads(studio(p1, "join", link, "--name", "Pia", "--json").stdout)["slug"]
    s2 = json.loads(studio(p2, "join", link2, "--name", "Quinn", "--json").stdout)["slug"]
    assert s1 == s2 == "team-board"
    # reads on a replica work like on any space
    assert json.loads(here(p1, "assets", s1, "--json").stdout) == []
    r1, r2 = _replica(p1, s1), _replica(p2, s2)
    follower = _spawn(p2, "sync", s2, "--follow")
    try:
        # a write on a peer returns once the host applied it and the replica has it
        out = json.loads(studio(p1, "apply", s1, _frame("from Pia"), "--json").stdout)
        assert out["seq"] >= 2 and out["events"][0]["type"] == "frame:created"
        assert "from Pia" in _titles(r1)
        studio(home, "apply", "team-board", _frame("from the host CLI"))  # another process
        studio(p1, "sync", s1)
        # the follower got both live (bounded wait)
        for _ in range(100):
            if {"from Pia", "from the host CLI"} <= _titles(r2):
                break
            time.sleep(0.1)
        assert {"from Pia", "from the host CLI"} <= _titles(r2)
        # the host runs the generation a peer asked for; the placeholder fills in on
        # the peer, and the follower fetches its thumbnail by itself
        gen = {"command": "generate:request", "prompt": "a red fox", "media_kind": "image"}
        gen["options"] = {"provider": "local"}
        made = json.loads(studio(p1, "apply", s1, json.dumps(gen), "--json").stdout)["created"]
        _wait_completed(p1, s1, made["variant_id"])
        thumb = _thumb(p2, s2, r2, made["variant_id"])
        assert thumb is not None and thumb.stat().st_size > 0
        assert _stop(follower) == 0  # SIGTERM: a clean stop
    finally:
        _stop(follower)
    # `studio log` on the replica is the host's log: same seqs, same actors
    log = [json.loads(x) for x in here(p2, "log", s2, "--json").stdout.splitlines()]
    host_file = home / "spaces" / "team-board.db"
    import sqlite3

    with sqlite3.connect(f"file:{host_file}?mode=ro", uri=True) as conn:
        host_log = conn.execute("SELECT seq, actor_name FROM changes ORDER BY seq").fetchall()
    assert [(x["seq"], x["actor"]) for x in log] == host_log
    assert {"Pia", "Forge Studio"} <= {actor for _seq, actor in host_log}
    assert differences(host_file, r1) == []
    assert differences(host_file, r2) == []
    # the owner sees both devices; a viewer's write is refused in one line
    peers = json.loads(here(home, "peers", "team-board", "--json").stdout)
    assert sorted(p["name"] for p in peers) == ["Pia", "Quinn"]
    view = here(home, "invite", "team-board", "--role", "viewer").stdout.strip()
    v = tmp_path / "v"
    sv = studio(v, "join", view, "--name", "Vera").stdout.strip()
    refused = studio(v, "apply", sv, _frame("nope"), ok=False)
    assert refused.returncode == 1 and "can only view" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    # revoking from another process closes the door
    studio(home, "revoke", "team-board", "Quinn")
    gone = studio(p2, "sync", s2, ok=False)
    assert gone.returncode == 1 and "refused this device" in gone.stderr
    # SIGTERM: a clean stop
    assert _stop(proc) == 0


def _thumb(home: Path, slug: str, replica: Path, variant_id: str) -> Path | None:
    """The variant's thumbnail in the peer's media folder, once there (bounded wait)."""
    import sqlite3

    for _ in range(100):
        with sqlite3.connect(f"file:{replica}?mode=ro", uri=True) as conn:
            row = conn.execute("SELECT thumb_path FROM variants WHERE id = ?", (variant_id,))
            rel = (row.fetchone() or [None])[0]
        path = home / "media" / slug / rel if rel else None
        if path is not None and path.exists():
            return path
        time.sleep(0.1)
    return None


def _wait_completed(home: Path, slug: str, variant_id: str) -> None:
    """Sync until the replica shows the variant completed, then fetch its original."""
    import asyncio

    from studio.core.studio import Studio
    from studio.sync import peer

    with Studio(home) as s:
        for _ in range(100):
            asyncio.run(peer.sync(s, slug))
            with s.open_space(slug) as replica:
                status = replica.variant_detail(variant_id).row.status
            if status in ("completed", "failed"):
                break
            time.sleep(0.1)
        assert status == "completed"
        (got,) = asyncio.run(peer.fetch_media(s, slug, [variant_id]))
        assert got.dest.stat().st_size > 0


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(home: Path, port: int) -> subprocess.Popen[str]:
    proc = _spawn(home, "serve", "team-board", "--port", str(port), "--json")
    assert proc.stdout is not None
    assert proc.stdout.readline(), proc.stderr.read() if proc.stderr else ""
    return proc


def test_sigkill_of_the_host_mid_stream_loses_nothing_acknowledged(tmp_path: Path) -> None:
    import asyncio

    from studio.core.studio import Studio
    from studio.sync import peer, wire
    from studio.sync.home import open_sharing

    home = tmp_path / "host"
    here(home, "space", "create", "Team Board")
    port = _free_port()
    proc = _serve(home, port)
    follower: subprocess.Popen[str] | None = None
    try:
        p1, p2 = tmp_path / "p1", tmp_path / "p2"
        links = [
            here(home, "invite", "team-board", "--role", "editor").stdout.strip() for _ in range(2)
        ]
        s1 = studio(p1, "join", links[0], "--name", "Pia").stdout.strip()
        s2 = studio(p2, "join", links[1], "--name", "Quinn").stdout.strip()
        follower = _spawn(p2, "sync", s2, "--follow")

        def cmd(i: int) -> list[dict[str, object]]:
            return [json.loads(_frame(f"T{i}"))]

        async def send_some(s: Studio, numbers: range, *, cut_after: int | None) -> list[int]:
            store = open_sharing(s)
            acked = []
            try:
                async with peer.session_for(s, s1, store) as session:
                    await session.wait_live(20)
                    for i in numbers:
                        if i == cut_after:  # sent, then the host dies before answering
                            await session.ws.send(
                                wire.encode("command", mid=f"k{i}", commands=cmd(i))
                            )
                            proc.kill()
                            proc.wait(10)
                            return acked
                        await session.command(cmd(i), f"k{i}", 20)
                        acked.append(i)
            finally:
                store.close()
            return acked

        with Studio(p1) as s:
            acked = asyncio.run(send_some(s, range(10), cut_after=6))
        assert acked == list(range(6))
        proc = _serve(home, port)  # restarted on the same port: same certificate, devices
        with Studio(p1) as s:  # re-send the unanswered one (same mid), then go on
            acked += asyncio.run(send_some(s, range(6, 10), cut_after=None))
        import sqlite3

        host_file = home / "spaces" / "team-board.db"
        with sqlite3.connect(host_file) as conn:
            titles = [r[0] for r in conn.execute("SELECT title FROM frames ORDER BY title")]
        assert titles == sorted(f"T{i}" for i in range(10))  # each once, none lost
        r1, r2 = _replica(p1, s1), _replica(p2, s2)
        for _ in range(150):  # the follower reconnects by itself (jittered backoff)
            if _titles(r2) == set(titles):
                break
            time.sleep(0.1)
        assert differences(host_file, r1) == []
        assert differences(host_file, r2) == []
        assert _stop(follower) == 0  # SIGTERM: a clean stop
    finally:
        if follower is not None:
            _stop(follower)
        _stop(proc)
