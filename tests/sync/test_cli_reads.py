"""Reads on a joined space catch up first when the host answers within about a second;
otherwise they print from the replica and say, on stderr, that it is offline as of its
last change."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.studio import Studio
from studio.sync import admin, peer
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
