"""Jobs asked for by peers show who asked in the host's jobs panel: the read that names
a variant's requester, and a host window with a real peer (TLS on 127.0.0.1) that
generates."""

from __future__ import annotations

import asyncio
from pathlib import Path

from PySide6.QtCore import Qt

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.commands import command_to_json
from studio.core.space import Space
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.sync import peer
from studio.ui.jobs.model import Column
from studio.ui.main_window import MainWindow
from tests.conftest import OWNER

WAIT_MS = 30_000
PLAIN = c.GenerationOptions(no_style=True)


def _ask(space: Space, actor: Actor, prompt: str) -> str:
    cmd = c.RequestGeneration(prompt, c.MediaKindName.IMAGE, name="Fox", options=PLAIN)
    return str(space.apply(cmd, actor).created["variant_id"])


def test_requesters_name_who_asked_for_each_variant(space: Space) -> None:
    pia = Actor("peer:d0123456789", "Pia", Role.EDITOR)
    mine = _ask(space, OWNER, "a fox")
    hers = _ask(space, pia, "a wolf")
    got = space.read.requesters([mine, hers, "nope"])
    assert set(got) == {mine, hers}
    assert (got[hers].actor_id, got[hers].name) == ("peer:d0123456789", "Pia")
    assert (got[mine].actor_id, got[mine].name) == (OWNER.id, OWNER.name)


def _cell(w: MainWindow, job_id: str, col: Column) -> str:
    model = w.jobs_panel.model
    row = model.row_of(job_id)
    return "" if row is None else str(model.data(model.index(row, col)) or "")


def test_a_peers_generation_shows_who_asked_in_the_hosts_jobs_panel(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "hana"
    with Studio(home) as s:
        entry = s.create_space("Team Board")
    studio = Studio(home, providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.resize(1200, 800)
    w.show()
    try:
        w.open_space(entry.id)
        qtbot.waitUntil(lambda: w.space is not None, timeout=WAIT_MS)
        assert w.space is not None
        own = w.space.apply(
            c.RequestGeneration("my own fox", c.MediaKindName.IMAGE, name="Mine", options=PLAIN),
            OWNER,
        ).created["job_id"]
        qtbot.waitUntil(lambda: w.jobs_panel.model.row_of(str(own)) is not None, timeout=WAIT_MS)
        view = w.jobs_panel.view
        assert view.isColumnHidden(Column.ASKED_BY)  # nobody else asked: no column
        assert _cell(w, str(own), Column.ASKED_BY) == ""

        w.sharing.share(entry.id)
        qtbot.waitUntil(lambda: entry.id in w.sharing.shared, timeout=WAIT_MS)
        engine = w.sharing.engine
        link = engine.call(engine.invite(entry.id, "editor", 600_000)).result(30).link()
        pia = tmp_path / "pia"

        async def generate() -> None:
            with Studio(pia) as s:
                joined = await peer.join(s, link, "Pia's laptop", timeout=20)
                from studio.sync.home import open_sharing

                store = open_sharing(s)
                try:
                    async with peer.session_for(s, joined.slug, store) as session:
                        await session.wait_live(20)
                        cmd = c.RequestGeneration(
                            "a fox on a hill", c.MediaKindName.IMAGE, name="Fox", options=PLAIN
                        )
                        await session.command([command_to_json(cmd)], "mid0001", 20)
                finally:
                    store.close()

        asyncio.run(generate())
        space = w.space
        job_id = next(j.id for j in space.jobs() if j.id != own)
        qtbot.waitUntil(
            lambda: _cell(w, job_id, Column.ASKED_BY) == "Pia's laptop", timeout=WAIT_MS
        )
        assert not view.isColumnHidden(Column.ASKED_BY)
        assert _cell(w, str(own), Column.ASKED_BY) == ""  # the host's own job: no one else
        model = w.jobs_panel.model
        tip = model.data(
            model.index(model.row_of(job_id), Column.ASKED_BY), Qt.ItemDataRole.ToolTipRole
        )
        assert "Pia's laptop" in str(tip)
    finally:
        w.sharing.close()
        w.close()
        studio.close()
