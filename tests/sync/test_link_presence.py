"""What a peer's lasting link tells the app about its waiting and refused steps, and its
presence surviving a reconnect (a real host thread on 127.0.0.1)."""

from __future__ import annotations

from pathlib import Path

from studio.core import commands as c
from studio.core.commands import command_to_json
from studio.core.studio import Studio
from studio.sync.link import Refused
from tests.sync.harness import HostThread
from tests.sync.test_link import LinkThread, _joined, host_home  # noqa: F401 (fixture)


def _hero(home: Path, slug: str) -> tuple[str, str]:
    with Studio(home) as s, s.open_space(slug) as space:
        return space.id, next(a.id for a in space.snapshot().assets if a.name == "Hero")


def test_waiting_steps_name_their_assets_refusals_carry_their_commands_presence_is_told_again(
    host_home: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    host: HostThread | None = HostThread(host_home, ["live-board"])
    assert host is not None
    port = host.port
    slug = _joined(host, tmp_path / "pia")
    space_id, hero = _hero(host_home, "live-board")
    link = LinkThread(tmp_path / "pia", slug)
    try:
        link.wait_for(lambda: link.link.state.state == "live")
        link.run(link.link.set_presence(hero, [hero]))
        link.wait_for(
            lambda: [m.presence.viewing for m in host.host.members(space_id)] == [hero]  # type: ignore[union-attr]
        )
        host.stop()
        host = None
        link.wait_for(lambda: link.link.state.state == "offline")
        move = command_to_json(c.MoveAssets((c.Position(hero, 40, 50), c.Position("gone", 0, 0))))
        assert link.run(link.link.send([move])).queued
        assert link.link.state.pending_assets == {hero, "gone"}
        rename = command_to_json(c.UpdateAsset(hero, name="Knight"))
        assert link.run(link.link.send([rename])).queued
        # the waiting steps themselves, oldest first (the app shows their effect)
        assert link.link.state.pending_steps == ((move,), (rename,))
        host = HostThread(host_home, ["live-board"], port=port)
        link.wait_for(lambda: link.link.state.state == "live" and link.link.state.pending == 0)
        assert link.link.state.pending_assets == frozenset()
        assert link.link.state.pending_steps == ()
        (refused,) = link.refused
        assert isinstance(refused, Refused) and refused.commands == (move,)
        assert refused.error is not None and "gone" in str(refused.error)
        # what Pia looks at is told again on the new connection (the host forgot it)
        again = host
        link.wait_for(lambda: [m.presence.viewing for m in again.host.members(space_id)] == [hero])
    finally:
        link.stop()
        if host is not None:
            host.stop()


def test_steps_left_waiting_are_told_before_the_first_connection_attempt_ends(
    host_home: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    """An app that restarts while its host is away shows its waiting steps at once."""
    host = HostThread(host_home, ["live-board"])
    slug = _joined(host, tmp_path / "pia")
    _space_id, hero = _hero(host_home, "live-board")
    host.stop()
    first = LinkThread(tmp_path / "pia", slug)
    rename = command_to_json(c.UpdateAsset(hero, name="Knight"))
    try:
        first.wait_for(lambda: first.link.state.state == "offline")
        assert first.run(first.link.send([rename])).queued
    finally:
        first.stop()
    again = LinkThread(tmp_path / "pia", slug)
    try:
        again.wait_for(lambda: bool(again.states))
        told = again.states[0]
        assert (told.state, told.pending, told.pending_steps) == ("connecting", 1, ((rename,),))
        again.wait_for(lambda: again.link.state.state == "offline")
        assert again.link.state.pending_steps == ((rename,),)
    finally:
        again.stop()
