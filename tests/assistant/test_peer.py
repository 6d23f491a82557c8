"""A LAN peer (a real TLS websocket to a host on 127.0.0.1) can't run a proposal without
a recorded approval either; its approval, sent as its own step, does run it — and the
chat reaches the peer's replica."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from studio.core import chat_commands as cc
from studio.core import chat_reads
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import ErrorCode
from studio.core.studio import Studio
from studio.sync import peer
from studio.sync.host import HostLimits
from tests.sync.harness import HostThread
from tests.sync.test_host import ME, _invite, _join, _send, _sync


@pytest.fixture
def shared(tmp_path: Path) -> Iterator[tuple[HostThread, str]]:
    home = tmp_path / "host"
    with Studio(home) as s:
        entry = s.create_space("Shared Board")
        with s.open_space(entry.slug) as space:
            sid = space.apply(cc.CreateChatSession("Ideas"), ME).created["session_id"]
            frame = c.command_to_json(c.CreateFrame("Proposed", 0, 0, 10, 10))
            pid = space.apply(
                cc.CreateProposal(sid, "make_frame", (frame,), "a frame"), Actor.assistant(ME)
            ).created["proposal_id"]
    h = HostThread(home, ["shared-board"], limits=HostLimits(send_timeout=5))
    try:
        yield h, pid
    finally:
        h.stop()


def test_a_peer_cannot_run_a_proposal_unapproved_but_can_approve_it(
    shared: tuple[HostThread, str], tmp_path: Path
) -> None:
    host, pid = shared
    pia = tmp_path / "pia"
    slug = _join(pia, _invite(host).link())
    with pytest.raises(peer.HostError) as err:
        _send(pia, slug, cc.RunProposal(pid))
    assert err.value.code is ErrorCode.PERMISSION_DENIED
    assert "no recorded approval" in err.value.message
    with Studio(host.home) as s, s.open_space("shared-board") as space:
        assert space.snapshot().frames == []
        assert chat_reads.proposal(space, pid).state == "pending"
    _send(pia, slug, cc.ApproveProposal(pid), cc.RunProposal(pid))
    with Studio(host.home) as s, s.open_space("shared-board") as space:
        assert [f.title for f in space.snapshot().frames] == ["Proposed"]
        decided = chat_reads.proposal(space, pid).decided_by
        assert decided is not None and decided != ME.id  # the peer's own approval
    _sync(pia, slug)
    with Studio(pia) as s, s.open_space(slug) as replica:
        assert [x.title for x in chat_reads.sessions(replica)] == ["Ideas"]
        assert chat_reads.proposal(replica, pid).state == "applied"
