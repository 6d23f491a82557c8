"""Reads on a joined space catch up first when the host answers within about a second;
otherwise they print from the replica and say, on stderr, that it is offline as of its
last change."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest

from studio.cli.main import main
from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.studio import Studio
from studio.sync import admin, peer
from tests.sql import query
from tests.sync.harness import HostThread

ME = Actor("local:host", "Hana", Role.OWNER)


def test_reads_catch_up_online_and_say_offline_otherwise(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"])
    try:
        with Studio(home) as s:
            link = admin.make_invite(s, "board", "editor", 60_000).link()
        pia = tmp_path / "pia"
        with Studio(pia) as s:
            slug = asyncio.run(peer.join(s, link, "Pia")).slug
        with Studio(home) as s, s.open_space("board") as space:
            made = space.apply(c.CreateAsset(name="Fresh", media_kind=c.MediaKindName.IMAGE), ME)
        capsys.readouterr()
        assert main(["--home", str(pia), "assets", slug, "--json"]) == 0
        out = capsys.readouterr()
        assert [a["name"] for a in json.loads(out.out)] == ["Fresh"]  # no explicit sync
        assert out.err == ""
        assert main(["--home", str(pia), "show", slug, made.created["asset_id"], "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["name"] == "Fresh"
    finally:
        host.stop()
    assert main(["--home", str(pia), "assets", slug, "--json"]) == 0
    out = capsys.readouterr()
    assert [a["name"] for a in json.loads(out.out)] == ["Fresh"]  # from the replica
    assert out.err.startswith(f"studio: {slug} is offline as of change 1 (")
    assert len(out.err.strip().splitlines()) == 1


def test_writes_while_the_host_is_away_wait_in_the_outbox_and_go_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.sync.home import open_sharing

    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"])
    try:
        with Studio(home) as s:
            link = admin.make_invite(s, "board", "editor", 60_000).link()
        pia = tmp_path / "pia"
        with Studio(pia) as s:
            slug = asyncio.run(peer.join(s, link, "Pia")).slug
    finally:
        host.stop()
    frame = (
        '{"command": "frame:create", "title": "queued", "x": 0, "y": 0, "width": 1, "height": 1}'
    )
    bad = '{"command": "asset:update", "asset_id": "nope", "name": "x"}'
    capsys.readouterr()
    assert main(["--home", str(pia), "apply", slug, frame]) == 0
    assert capsys.readouterr().out.startswith("queued: could not reach the host")
    assert main(["--home", str(pia), "apply", slug, bad, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["queued"] is True
    host = HostThread(home, ["board"])  # back, on another port
    try:
        with Studio(pia) as s:
            store = open_sharing(s)
            try:
                store._db.conn.execute("UPDATE remotes SET port = ?", (host.port,))
            finally:
                store.close()
        assert main(["--home", str(pia), "sync", slug]) == 0
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and "was refused by the host: there is no asset nope" in err[0]
        assert main(["--home", str(pia), "sync", slug]) == 0
        assert capsys.readouterr().err == ""  # the outbox is empty: nothing sent twice
        with Studio(home) as s, s.open_space("board") as space:
            assert query(space, "SELECT COUNT(*) FROM frames WHERE title = 'queued'") == [(1,)]
        with Studio(pia) as s, s.open_space(slug) as replica:
            assert query(replica, "SELECT COUNT(*) FROM frames WHERE title = 'queued'") == [(1,)]
    finally:
        host.stop()


def test_undo_on_a_joined_space_is_done_by_the_host_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.sync import wire
    from studio.sync.home import open_sharing

    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
    host = HostThread(home, ["board"])
    try:
        with Studio(home) as s:
            link = admin.make_invite(s, "board", "editor", 60_000).link()
        pia = tmp_path / "pia"
        with Studio(pia) as s:
            slug = asyncio.run(peer.join(s, link, "Pia")).slug
        for title in ("one", "two"):
            frame = json.dumps(
                {"command": "frame:create", "title": title, "x": 0, "y": 0, "width": 1, "height": 1}
            )
            assert main(["--home", str(pia), "apply", slug, frame]) == 0

        # an undo sent, cut before its answer, and sent again: one step undone, not two
        async def undo_twice(s: Studio) -> tuple[dict[str, Any], dict[str, Any]]:
            store = open_sharing(s)
            try:
                async with peer.session_for(s, slug, store) as session:
                    await session.wait_live(10)
                    await session.ws.send(wire.encode("travel", mid="u-1", action="undo"))
                    session.ws.transport.abort()
                async with peer.session_for(s, slug, store) as session:
                    await session.wait_live(10)
                    first = await session.travel("undo", "u-1", 10)
                    again = await session.travel("undo", "u-1", 10)
                    return first, again
            finally:
                store.close()

        with Studio(pia) as s:
            first, again = asyncio.run(undo_twice(s))
        assert first == again
        live = "SELECT title FROM frames WHERE deleted_at IS NULL ORDER BY title"
        with Studio(home) as s, s.open_space("board") as space:
            assert query(space, live) == [("one",)]
        capsys.readouterr()
        assert main(["--home", str(pia), "undo", slug, "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        assert out["action"] == "undo" and out["events"][0]["type"] == "frame:deleted"
        with Studio(pia) as s, s.open_space(slug) as replica:
            assert query(replica, live) == []  # the replica holds it when undo returns
        assert main(["--home", str(pia), "redo", slug]) == 0
        assert "redid your last step as change" in capsys.readouterr().out
        with Studio(home) as s, s.open_space("board") as space:
            assert query(space, live) == [("one",)]
    finally:
        host.stop()
