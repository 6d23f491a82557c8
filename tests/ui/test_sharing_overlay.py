"""A peer sees its own edits at once (issue 13's optimistic overlay), with a real app
window over TLS on 127.0.0.1 and a headless host (``studio serve``'s engine in a thread):

- offline, a move, a rename with tags, a star and a rating show on the card and in the
  details at once, marked as waiting — also after the app restarts while still offline
  (the outbox is on disk) — while the replica itself stays the host's;
- on reconnect the host's rows replace them; a refused step disappears (the replica's
  row shows again) and is listed;
- a live edit shows before the host answers; a refused one goes back when it does;
- while offline the details say the original loads when the host is back, and it does."""

from __future__ import annotations

import asyncio
import io
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from PySide6.QtWidgets import QMessageBox

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.studio import Studio
from studio.sync import admin
from studio.ui.canvas.model import STAR_ACTIVE, STAR_NONE
from studio.ui.details import remote_media
from studio.ui.main_window import MainWindow
from studio.ui.sharing.optimistic import FOLLOW_MS
from tests.conftest import add_variant
from tests.sync.harness import HostThread
from tests.ui.sharing_kit import close_window as _close
from tests.ui.sharing_kit import join_in as _join_in
from tests.ui.sharing_kit import open_window as _window

ME = Actor("local:host", "Hana", Role.OWNER)
WAIT_MS = 20_000


def _host_home(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A host with Hero (a picture, made here) and Villain; their ids and Hero's variant."""
    home = tmp_path / "hana"
    png = io.BytesIO()
    Image.new("RGB", (48, 32), "teal").save(png, format="PNG")
    with Studio(home) as s:
        entry = s.create_space("Team Board")
        with s.open_space(entry.slug) as space:
            made = add_variant(space, name="Hero", payload=png.getvalue())
            villain = c.CreateAsset(name="Villain", media_kind=c.MediaKindName.IMAGE, x=300, y=0)
            space.apply(villain, ME)
            ids = {a.name: a.id for a in space.snapshot().assets}
    return home, {"hero": made.asset_id, "variant": made.variant_id, "villain": ids["Villain"]}


def _host_asset(home: Path, asset_id: str) -> tuple[str, float, float]:
    with Studio(home) as s, s.open_space("team-board") as space:
        row = space.asset(asset_id)
        return row.name, row.x, row.y


def test_offline_edits_show_at_once_also_after_a_restart_and_give_way_to_the_hosts_rows(
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
) -> None:
    home, ids = _host_home(tmp_path)
    hero, vid, villain = ids["hero"], ids["variant"], ids["villain"]
    host: HostThread | None = HostThread(home, ["team-board"])
    assert host is not None
    port = host.port
    with Studio(home) as s:
        link = admin.make_invite(s, "team-board", "editor", 3_600_000).link()
    w: MainWindow | None = None
    try:
        w = _window(tmp_path / "pia", qtbot)
        _join_in(w, link, qtbot)
        space = w.space
        assert space is not None
        space_id = space.id
        qtbot.waitUntil(lambda: len(w.scene.cards()) == 2, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: "connected" in w.sharing.describe(space.slug), timeout=WAIT_MS)
        # the host goes away
        host.stop()
        host = None
        qtbot.waitUntil(lambda: w.sharing.banner.isVisible(), timeout=WAIT_MS)
        # the details of a picture whose original is on the host: said to wait for it
        w.show_asset(hero)
        preview = w.inspector.core.preview
        assert preview.kind == "placeholder"
        assert preview._status_label.text() == remote_media.OFFLINE
        # offline edits: a step the host will refuse first (Hero's variant is not starred)
        assert w.run([c.UpdateAsset(villain, name="Boss"), c.StarVariant(vid, False)], "Odd")
        card = w.scene.card(hero)
        assert card is not None
        card.move_to(500.0, 400.0)  # where a drag let it go
        assert w.view.canvas_actions.move({hero: (500.0, 400.0)})
        assert w.run([c.UpdateAsset(hero, name="Knight", tags=("red", "blue"))], "Rename")
        assert w.run([c.StarVariant(vid)], "Star")
        assert w.run([c.RateVariant(vid, c.Rating.APPROVED)], "Rate")
        qtbot.waitUntil(
            lambda: "5 edits waiting to send" in w.sharing.banner.label.text(), timeout=WAIT_MS
        )

        def shown_offline(w: MainWindow) -> None:
            card = w.scene.card(hero)
            boss = w.scene.card(villain)
            assert card is not None and boss is not None
            assert (card.px, card.py) == (500.0, 400.0)
            assert card.asset.name == "Knight" and card.asset.tags == ("red", "blue")
            assert card.facts.star == STAR_ACTIVE
            assert boss.asset.name == "Boss"
            assert w.scene.ctx.pending == {hero, villain}  # the clock on both
            # the details show them too, marked as waiting
            w.show_asset(hero)
            assert w.inspector.form.name.text() == "Knight"
            assert w.inspector.form.tags.text() == "red, blue"
            assert "waiting to send" in w.inspector.kind_label.text()
            shown = w.inspector.core.rows
            assert [(r.starred, r.rating) for r in shown] == [(1, "approved")]
            full = w.inspector.open_full_view()  # the full view too
            assert full is not None and full.windowTitle().startswith("Knight")
            assert full.title.text().endswith("waiting to send")
            full.close()
            # never written: the replica is still the host's
            replica = w.scene.asset_row(hero)
            assert replica is not None and (replica.name, replica.x) == ("Hero", 0.0)
            assert w.space is not None and w.space.asset(hero).name == "Hero"
            # the canvas's own rename starts from the name shown (nothing new to send)
            assert not w.view.canvas_actions.rename(hero, "Knight")

        shown_offline(w)
        # the app restarts while the host is still away: the same view
        _close(w)
        w = _window(tmp_path / "pia", qtbot)
        w.open_space(space_id)
        qtbot.waitUntil(lambda: len(w.scene.cards()) == 2, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: bool(w.scene.overlay), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: w.sharing.banner.isVisible(), timeout=WAIT_MS)
        shown_offline(w)
        preview = w.inspector.core.preview
        qtbot.waitUntil(
            lambda: preview._status_label.text() == remote_media.OFFLINE, timeout=WAIT_MS
        )
        # the host is back: the accepted steps' rows replace the overlay, the refused
        # one is gone (Villain again) and listed; the original is fetched
        boxes = len(w.findChildren(QMessageBox, "errorMessage"))
        host = HostThread(home, ["team-board"], port=port)
        qtbot.waitUntil(lambda: not w.sharing.banner.isVisible(), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not w.scene.overlay, timeout=WAIT_MS)
        assert _host_asset(home, hero) == ("Knight", 500.0, 400.0)
        assert _host_asset(home, villain)[0] == "Villain"
        row = w.scene.asset_row(hero)
        assert row is not None and (row.name, row.x, row.y) == ("Knight", 500.0, 400.0)
        card, boss = w.scene.card(hero), w.scene.card(villain)
        assert card is not None and boss is not None
        assert (card.px, card.py, card.asset.name) == (500.0, 400.0, "Knight")
        assert boss.asset.name == "Villain"
        assert w.scene.ctx.pending == frozenset()
        qtbot.waitUntil(
            lambda: len(w.findChildren(QMessageBox, "errorMessage")) > boxes, timeout=WAIT_MS
        )
        box = w.findChildren(QMessageBox, "errorMessage")[-1]
        assert "already unstarred" in box.text()
        qtbot.waitUntil(lambda: preview.kind == "image", timeout=WAIT_MS)
        assert "waiting to send" not in w.inspector.kind_label.text()
    finally:
        if w is not None:
            _close(w)
        if host is not None:
            host.stop()


def test_a_live_edit_shows_before_the_host_answers_and_a_refused_one_goes_back(
    tmp_path: Path,
    qtbot,  # type: ignore[no-untyped-def]
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    home, ids = _host_home(tmp_path)
    hero, vid, villain = ids["hero"], ids["variant"], ids["villain"]
    host = HostThread(home, ["team-board"])
    with Studio(home) as s:
        link = admin.make_invite(s, "team-board", "editor", 3_600_000).link()
    w: MainWindow | None = None
    try:
        w = _window(tmp_path / "pia", qtbot)
        _join_in(w, link, qtbot)
        space = w.space
        assert space is not None
        qtbot.waitUntil(lambda: len(w.scene.cards()) == 2, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: "connected" in w.sharing.describe(space.slug), timeout=WAIT_MS)
        # each step waits a little before it is sent (a slow network): the host cannot
        # answer before the assertions right after a step
        engine = w.sharing.engine
        send, delay = engine.send, [0.3]

        async def slow_send(slug: str, commands: list[dict[str, Any]]) -> Any:
            await asyncio.sleep(delay[0])
            return await send(slug, commands)

        monkeypatch.setattr(engine, "send", slow_send)
        w.show_asset(hero)
        card, boss = w.scene.card(hero), w.scene.card(villain)
        assert card is not None and boss is not None
        assert w.run([c.UpdateAsset(hero, name="Knight")], "Rename")
        assert card.asset.name == "Knight"
        assert w.inspector.form.name.text() == "Knight"
        assert w.scene.ctx.pending == frozenset()  # no clock flashing on a quick answer
        qtbot.waitUntil(lambda: not w.scene.overlay, timeout=WAIT_MS)
        row = w.scene.asset_row(hero)
        assert row is not None and row.name == "Knight" and card.asset.name == "Knight"
        # a star shows at once too; an answer that is slow to come brings the clock
        delay[0] = 1.5
        assert w.run([c.StarVariant(vid)], "Star")
        assert card.facts.star == STAR_ACTIVE
        qtbot.waitUntil(lambda: w.scene.ctx.pending == {hero}, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: not w.scene.overlay, timeout=WAIT_MS)
        assert w.scene.ctx.pending == frozenset()
        delay[0] = 0.3
        assert card.facts.star == STAR_ACTIVE
        # refused (the variant is starred already): shown, then put back
        boxes = len(w.findChildren(QMessageBox, "errorMessage"))
        assert w.run([c.UpdateAsset(villain, name="Boss"), c.StarVariant(vid)], "Odd")
        assert w.run([c.StarVariant(vid, False)], "Unstar")  # this one is fine
        assert boss.asset.name == "Boss" and card.facts.star == STAR_NONE
        qtbot.waitUntil(lambda: not w.scene.overlay, timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: len(w.findChildren(QMessageBox, "errorMessage")) > boxes, timeout=WAIT_MS
        )
        assert "already starred" in w.findChildren(QMessageBox, "errorMessage")[-1].text()
        assert boss.asset.name == "Villain"
        assert _host_asset(home, villain)[0] == "Villain"
        qtbot.waitUntil(lambda: card.facts.star == STAR_NONE, timeout=WAIT_MS)
        # the views lag behind the replica (a busy feed hands changes out over several
        # turns): an answered step stays shown until they have its rows — never a moment
        # of the old name in between
        session = w.session
        assert session is not None
        follower = session.follower
        poll = follower.poll
        follower._timer.stop()
        monkeypatch.setattr(follower, "poll", lambda: None)
        assert w.run([c.UpdateAsset(hero, name="Paladin")], "Rename")
        optimistic = w.sharing.optimistic
        qtbot.waitUntil(lambda: not optimistic._live, timeout=WAIT_MS)  # answered
        qtbot.wait(3 * FOLLOW_MS)
        lagging = w.scene.asset_row(hero)
        assert lagging is not None and lagging.name == "Knight"  # the views lag behind
        assert card.asset.name == "Paladin" and bool(w.scene.overlay)
        monkeypatch.setattr(follower, "poll", poll)
        follower._timer.start()
        qtbot.waitUntil(lambda: not w.scene.overlay, timeout=WAIT_MS)
        row = w.scene.asset_row(hero)
        assert row is not None and row.name == "Paladin" and card.asset.name == "Paladin"
    finally:
        if w is not None:
            _close(w)
        host.stop()
