"""Working together in the app, two real app instances in one process over TLS on
127.0.0.1 — a host window (Olive) shares its space, a peer window (Pia) joins it:

- presence: avatars on the cards the other person has selected and "X is looking at
  this" in the details, on both sides; one colour per person everywhere;
- someone else's rename or tag edit of the asset open in the details is said, the view
  follows it, and text being typed is kept (never lost silently);
- a peer's edits made offline mark their cards (a clock) and the banner counts them; on
  reconnect the refused ones are listed with the host's reason and their cards go back
  to where the host has them (a refused move does not stay where it was dropped)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QColor, QImage, QPainter
from PySide6.QtWidgets import QMessageBox, QStyleOptionGraphicsItem

from studio.core import commands as c
from studio.core.studio import Studio
from studio.sync.link import Refused, assets_of
from studio.ui.canvas.card import AssetCardItem
from studio.ui.canvas.presence_marks import PENDING_COLOUR, avatar_rects, clock_rect
from studio.ui.main_window import MainWindow
from studio.ui.sharing import faces
from studio.ui.sharing import window as sharing_window
from studio.ui.sharing.pending import describe
from tests.conftest import OWNER
from tests.ui.sharing_kit import close_window as _close
from tests.ui.sharing_kit import open_window as _window

WAIT_MS = 20_000


def _wait(qtbot, w: MainWindow, coro: Any) -> Any:  # type: ignore[no-untyped-def]
    """Run an engine coroutine of ``w`` and wait (the UI keeps turning) for its result."""
    got: list[Any] = []
    w.sharing.run(coro, got.append)
    qtbot.waitUntil(lambda: bool(got), timeout=WAIT_MS)
    return got[0]


@dataclass
class Pair:
    host: MainWindow
    peer: MainWindow
    space_id: str
    hero: str
    villain: str
    port: int


@pytest.fixture
def pair(tmp_path: Path, qtbot) -> Iterator[Pair]:  # type: ignore[no-untyped-def]
    home = tmp_path / "olive"
    with Studio(home) as s:
        entry = s.create_space("Team Board")
        with s.open_space(entry.slug) as space:
            image = c.MediaKindName.IMAGE
            space.apply(c.CreateAsset(name="Hero", media_kind=image, x=0, y=0), OWNER)
            space.apply(c.CreateAsset(name="Villain", media_kind=image, x=300, y=0), OWNER)
            space.apply(c.CreateAsset(name="Map", media_kind=image, x=600, y=0), OWNER)
            ids = {a.name: a.id for a in space.snapshot().assets}
    host = _window(home, qtbot)
    peer: MainWindow | None = None
    try:
        host.open_space(entry.id)
        qtbot.waitUntil(lambda: len(host.scene.cards()) == 3, timeout=WAIT_MS)
        host.sharing.share(entry.id)
        qtbot.waitUntil(lambda: entry.id in host.sharing.shared, timeout=WAIT_MS)
        invite = _wait(qtbot, host, host.sharing.engine.invite(entry.id, "editor", 3_600_000))
        peer = _window(tmp_path / "pia", qtbot)
        dialog = sharing_window.open_join(peer)
        dialog.link.setText(invite.link())
        dialog.name.setText("Pia")
        qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: peer.space is not None and peer.space.is_replica, timeout=WAIT_MS)
        qtbot.waitUntil(lambda: len(peer.scene.cards()) == 3, timeout=WAIT_MS)
        qtbot.waitUntil(
            lambda: "connected" in peer.sharing.describe(peer.space.slug), timeout=WAIT_MS
        )
        port = int(host.sharing.shared[entry.id].address.rpartition(":")[2])
        yield Pair(host, peer, entry.id, ids["Hero"], ids["Villain"], port)
    finally:
        if peer is not None:
            _close(peer)
        _close(host)


def _painted(card: AssetCardItem) -> QImage:
    """The card as it paints itself (1:1)."""
    image = QImage(int(card.rect().width()), int(card.rect().height()), QImage.Format.Format_ARGB32)
    image.fill(QColor("black"))
    p = QPainter(image)
    card.paint(p, QStyleOptionGraphicsItem(), None)
    p.end()
    return image


def _near(got: QColor, want: str, tolerance: int = 40) -> bool:
    w = QColor(want)
    return (
        max(abs(got.red() - w.red()), abs(got.green() - w.green()), abs(got.blue() - w.blue()))
        <= tolerance
    )


def _names(w: MainWindow, asset_id: str) -> list[str]:
    return [a.name for a in w.scene.ctx.presence.get(asset_id, ())]


def test_presence_shows_on_the_cards_and_in_the_details_on_both_sides(pair: Pair, qtbot) -> None:  # type: ignore[no-untyped-def]
    host, peer = pair.host, pair.peer
    hero_card_at_host = host.scene.card(pair.hero)
    assert hero_card_at_host is not None
    plain = _painted(hero_card_at_host)
    # Pia selects Hero: the host's card shows her avatar, its details say she looks at it
    peer.scene.select([pair.hero])
    qtbot.waitUntil(lambda: _names(host, pair.hero) == ["Pia"], timeout=WAIT_MS)
    assert _names(host, pair.villain) == []
    assert host.scene.card(pair.hero) is hero_card_at_host  # repainted, not rebuilt
    pia = host.scene.ctx.presence[pair.hero][0]
    device = next(p.device for p in host.sharing.people[pair.space_id] if p.online)
    assert (pia.initials, pia.colour) == ("P", faces.colour_for(device.id))
    # the card paints it: a circle of her colour above the footer, where nothing was
    r = avatar_rects(1, host.scene.ctx.scale)[0]
    spot = QPointF(r.left() + r.width() * 0.2, r.center().y()).toPoint()
    assert _near(_painted(hero_card_at_host).pixelColor(spot), pia.colour)
    assert not _near(plain.pixelColor(spot), pia.colour)
    host.show_asset(pair.villain)
    host.show_asset(pair.hero)
    line = host.inspector.presence
    qtbot.waitUntil(lambda: [a.name for a in line.viewers()] == ["Pia"], timeout=WAIT_MS)
    assert line.text.text() == "Pia is looking at this"
    assert line.isVisibleTo(host.inspector)
    # the People panel shows her with the same face (one source of colours)
    host.people.refresh()
    row = host.people.list.topLevelItem(0)
    assert row is not None and row.text(0) == "Pia"
    face = row.icon(0).pixmap(18, 18).toImage()
    assert _near(face.pixelColor(3, 9), pia.colour)
    # a presence update repaints the cards whose avatars change, and only those
    repainted: list[str] = []
    for card in peer.scene.cards():
        card.update = lambda *_a, aid=card.asset.id: repainted.append(aid)  # type: ignore[method-assign]
    # the host's own selection reaches the peer (not Pia's own: she knows what she selected)
    host.scene.select([pair.hero, pair.villain])
    qtbot.waitUntil(lambda: _names(peer, pair.villain) == ["Olive"], timeout=WAIT_MS)
    assert _names(peer, pair.hero) == ["Olive"]
    assert set(repainted) == {pair.hero, pair.villain}  # not Map
    for card in peer.scene.cards():
        del card.update  # type: ignore[method-assign]
    olive = peer.scene.ctx.presence[pair.villain][0]
    assert olive.colour == faces.colour_for(faces.HOST_KEY)
    peer.show_asset(pair.villain)
    qtbot.waitUntil(
        lambda: peer.inspector.presence.text.text() == "Olive is looking at this", timeout=WAIT_MS
    )
    # Pia moves on to Villain: her avatar leaves Hero on the host's canvas
    qtbot.waitUntil(lambda: _names(host, pair.villain) == ["Pia"], timeout=WAIT_MS)
    qtbot.waitUntil(lambda: _names(host, pair.hero) == [], timeout=WAIT_MS)
    assert _near(_painted(hero_card_at_host).pixelColor(spot), plain.pixelColor(spot).name(), 8)


def test_someone_elses_change_to_what_is_being_edited_is_said_and_typed_text_kept(
    pair: Pair, qtbot
) -> None:  # type: ignore[no-untyped-def]
    host, peer = pair.host, pair.peer
    peer.show_asset(pair.hero)
    form = peer.inspector.form
    peer.activateWindow()
    form.name.setFocus()
    qtbot.waitUntil(form.name.hasFocus, timeout=5000)
    form.name.selectAll()
    qtbot.keyClicks(form.name, "Pia's draft")
    notice = peer.inspector.presence.notice
    assert not notice.isVisible()
    # Olive renames it on the host while Pia types
    assert host.run([c.UpdateAsset(pair.hero, name="Olive's hero")], "Rename")
    qtbot.waitUntil(lambda: peer.inspector.title.text() == "Olive's hero", timeout=WAIT_MS)
    qtbot.waitUntil(notice.isVisible, timeout=WAIT_MS)
    assert notice.text().startswith("Olive renamed this to “Olive's hero”.")
    assert "What you typed in the name is kept" in notice.text()
    assert form.name.text() == "Pia's draft"  # kept, not lost
    assert peer.scene.card(pair.hero).asset.name == "Olive's hero"  # the canvas follows
    qtbot.keyClick(form.name, Qt.Key.Key_Escape)  # Esc: theirs
    assert form.name.text() == "Olive's hero"
    # a change with nothing typed: the view just follows, and says so
    assert host.run([c.UpdateAsset(pair.hero, tags=("knight",))], "Edit tags")
    qtbot.waitUntil(lambda: form.tags.text() == "knight", timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: notice.text() == "Olive changed its tags — your view is updated.", timeout=WAIT_MS
    )
    # the other way: Pia's rename is said on the host, whose own changes are not
    host.show_asset(pair.villain)
    assert host.run([c.UpdateAsset(pair.villain, tags=("bad",))], "Edit tags")
    qtbot.waitUntil(lambda: host.inspector.form.tags.text() == "bad", timeout=WAIT_MS)
    host_notice = host.inspector.presence.notice
    assert not host_notice.isVisibleTo(host.inspector)
    assert peer.run([c.UpdateAsset(pair.villain, name="Pia's villain")], "Rename")
    qtbot.waitUntil(lambda: host.inspector.title.text() == "Pia's villain", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: host_notice.isVisibleTo(host.inspector), timeout=WAIT_MS)
    assert host_notice.text() == "Pia renamed this to “Pia's villain” — your view is updated."
    # a card Pia is dragging that Olive moves: said; the card stays with the drag
    card = peer.scene.card(pair.hero)
    assert card is not None and (card.px, card.py) == (0.0, 0.0)
    card.dragging = True  # as a drag in progress marks it
    peer.view.drag.cards = [card]
    try:
        assert host.run([c.MoveAssets((c.Position(pair.hero, 500, 500),))], "Move")
        qtbot.waitUntil(lambda: "dragging" in peer.sharing.others.last, timeout=WAIT_MS)
        assert peer.sharing.others.last == (
            "Olive moved “Olive's hero” while you were dragging it — where you drop it wins."
        )
        assert (card.px, card.py) == (0.0, 0.0)
    finally:
        peer.view.drag.cancel()
    assert (card.px, card.py) == (500.0, 500.0)  # the drag given up: where the host has it


def test_the_full_view_says_who_changed_its_asset(pair: Pair, qtbot) -> None:  # type: ignore[no-untyped-def]
    host, peer = pair.host, pair.peer
    peer.show_asset(pair.hero)
    dialog = peer.inspector.open_full_view()
    assert dialog is not None
    notice = dialog.presence.notice
    assert not notice.isVisibleTo(dialog)
    assert host.run([c.UpdateAsset(pair.hero, name="Olive's hero")], "Rename")
    qtbot.waitUntil(lambda: notice.isVisibleTo(dialog), timeout=WAIT_MS)
    assert notice.text() == "Olive changed this — the view is updated."
    assert dialog.windowTitle().startswith("Olive's hero")
    # one's own change is not said
    dialog.presence.notice.hide()
    assert peer.run([c.UpdateAsset(pair.hero, name="Pia's hero")], "Rename")
    qtbot.waitUntil(lambda: dialog.windowTitle().startswith("Pia's hero"), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: host.scene.card(pair.hero).asset.name == "Pia's hero", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: peer.scene.asset_row(pair.hero).name == "Pia's hero", timeout=WAIT_MS)
    assert not notice.isVisibleTo(dialog)


def test_offline_edits_are_marked_and_refused_ones_listed_and_put_back(pair: Pair, qtbot) -> None:  # type: ignore[no-untyped-def]
    host, peer = pair.host, pair.peer
    hero, villain = pair.hero, pair.villain
    host.scene.select([villain])
    qtbot.waitUntil(lambda: _names(peer, villain) == ["Olive"], timeout=WAIT_MS)
    # the host goes away (its engine stops serving the space)
    _wait(qtbot, host, host.sharing.engine.stop_sharing(pair.space_id))
    qtbot.waitUntil(lambda: peer.sharing.banner.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(lambda: peer.scene.ctx.presence == {}, timeout=WAIT_MS)  # not known now
    # Pia drags both cards and renames Hero, offline: kept, marked, counted
    for aid, x in ((hero, 40.0), (villain, 600.0)):
        card = peer.scene.card(aid)
        assert card is not None
        card.move_to(x, 500.0)  # where the drag left them
    assert peer.view.canvas_actions.move({hero: (40.0, 500.0), villain: (600.0, 500.0)})
    assert peer.run([c.CreateFrame("Made offline", 0, 900, 40, 40)], "New frame")
    banner = peer.sharing.banner.label
    qtbot.waitUntil(lambda: "2 edits waiting to send" in banner.text(), timeout=WAIT_MS)
    assert peer.scene.ctx.pending == {hero, villain}
    hero_card = peer.scene.card(hero)
    assert hero_card is not None
    clock = clock_rect(peer.scene.ctx.scale)
    spot = QPointF(clock.left() + clock.width() * 0.2, clock.center().y()).toPoint()
    assert _near(_painted(hero_card).pixelColor(spot), PENDING_COLOUR)
    # meanwhile on the host Villain is deleted: Pia's move of both cannot be applied
    assert host.run([c.DeleteAsset(villain)], "Delete")
    boxes = len(peer.findChildren(QMessageBox, "errorMessage"))
    _wait(qtbot, host, host.sharing.engine.share(pair.space_id, pair.port))
    qtbot.waitUntil(lambda: not peer.sharing.banner.isVisible(), timeout=WAIT_MS)
    qtbot.waitUntil(
        lambda: len(peer.findChildren(QMessageBox, "errorMessage")) > boxes, timeout=WAIT_MS
    )
    box = peer.findChildren(QMessageBox, "errorMessage")[-1]
    assert box.text().startswith("The host refused 1 edit made while offline")
    assert (hero_card.px, hero_card.py) == (0.0, 0.0)  # put back as the refusal is said
    # what it was (Villain by name, or "a deleted asset" once the deletion is shown)
    # and the host's reason
    line = box.text().splitlines()[1]
    assert line.startswith("• Move “Hero” and “") and line.endswith(f"there is no asset {villain}")
    # the refused move is undone on the canvas: Hero is where the host has it
    qtbot.waitUntil(lambda: peer.scene.card(villain) is None, timeout=WAIT_MS)
    row = peer.scene.asset_row(hero)
    assert row is not None and (row.x, row.y) == (0.0, 0.0)
    assert (hero_card.px, hero_card.py) == (0.0, 0.0)
    # the accepted edit arrived (it touches no card: nothing else put Hero back)
    qtbot.waitUntil(
        lambda: any(f.row.title == "Made offline" for f in peer.scene.frame_items()),
        timeout=WAIT_MS,
    )
    assert peer.scene.ctx.pending == frozenset()
    assert not _near(_painted(hero_card).pixelColor(spot), PENDING_COLOUR)
    # refused while live too: the drop goes back at once
    hero_card.move_to(900.0, 900.0)
    assert peer.view.canvas_actions.move({hero: (900.0, 900.0), villain: (0.0, 0.0)})
    qtbot.waitUntil(lambda: (hero_card.px, hero_card.py) == (0.0, 0.0), timeout=WAIT_MS)


def test_a_step_in_words_and_the_assets_it_names() -> None:
    move = {"command": "asset:move", "positions": [{"asset_id": "a1", "x": 1, "y": 2}]}
    rename = {"command": "asset:update", "asset_id": "a2", "name": "Knight"}
    assert assets_of([move, rename]) == {"a1", "a2"}
    names = {"a1": "Hero", "a2": "Villain"}.__getitem__
    assert describe([move], names) == "Move “Hero”"
    assert describe([rename], names) == "Rename “Villain” to “Knight”"
    assert faces.initials("Mira Okafor") == "MO" and faces.initials("pia") == "P"
    assert faces.initials("  ") == "?"
    assert faces.colour_for("device-1") == faces.colour_for("device-1") in faces.PALETTE
    assert issubclass(Refused, object) and Refused("m", None, None, (move,)).commands == (move,)
