"""The door enforces the assistant's approval: a proposal's commands reach the space only
through ``proposal:run`` after a person's recorded approval — from any path."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from studio.assistant.chat import approve, reject
from studio.core import chat_commands as cc
from studio.core import chat_reads
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import ConflictError, InvalidStateError, PermissionDeniedError
from studio.core.replica_host import apply_once
from studio.core.space import Space
from tests.assistant.scenario import exercise
from tests.conftest import EDITOR, OWNER, VIEWER, add_variant
from tests.core.tables import differences, tables

CLAUDE = Actor.assistant(OWNER)
NO_STYLE = {"no_style": True}


def _session(space: Space) -> str:
    return space.apply(cc.CreateChatSession("Test"), OWNER).created["session_id"]


def _propose(space: Space, sid: str, tool: str, *cmds: c.Command) -> str:
    made = space.apply(
        cc.CreateProposal(sid, tool, tuple(c.command_to_json(x) for x in cmds), "do it"), CLAUDE
    )
    return made.created["proposal_id"]


MUTATIONS = {
    "rename_asset": lambda a, v: c.UpdateAsset(a, name="Renamed"),
    "tag_asset": lambda a, v: c.UpdateAsset(a, tags=("x", "y")),
    "star_variant": lambda a, v: c.StarVariant(v),
    "rate_variant": lambda a, v: c.RateVariant(v, c.Rating.APPROVED),
    "create_collection": lambda a, v: c.CreateCollection("New"),
    "move_into_frame": lambda a, v: c.MoveAssets((c.Position(a, 5, 5),)),
    "make_style_preset": lambda a, v: c.CreateStylePreset("Ink", prompt="ink"),
    "generate": lambda a, v: c.RequestGeneration(
        "a kite", c.MediaKindName.IMAGE, options=c.GenerationOptions(no_style=True)
    ),
    "refine": lambda a, v: c.RequestRefine(a, "bluer"),
}


@pytest.mark.parametrize("tool", sorted(MUTATIONS))
def test_every_mutating_tool_needs_an_approval_on_every_path(space: Space, tool: str) -> None:
    made = add_variant(space, name="Hero")
    sid = _session(space)
    cmd = MUTATIONS[tool](made.asset_id, made.variant_id)
    pid = _propose(space, sid, tool, cmd)
    before = tables(space)
    # 1. the assistant's own actor applying the command, or running its proposal
    with pytest.raises(PermissionDeniedError, match="can only propose"):
        space.apply(cmd, CLAUDE)
    with pytest.raises(PermissionDeniedError, match="can only propose"):
        space.apply(cc.RunProposal(pid), CLAUDE)
    with pytest.raises(PermissionDeniedError, match="can only propose"):
        space.apply(cc.ApproveProposal(pid), CLAUDE)
    # 2. the door, for a person, without an approval recorded
    with pytest.raises(PermissionDeniedError, match="no recorded approval"):
        space.apply(cc.RunProposal(pid), OWNER)
    # 3. a LAN peer's mutation, applied by the host
    with pytest.raises(PermissionDeniedError, match="no recorded approval"):
        apply_once(space, [cc.RunProposal(pid)], EDITOR, client_id="peer", mutation_id="m1")
    # a standing approval needs the space's rule
    with pytest.raises(PermissionDeniedError, match="does not always allow"):
        space.apply_step([cc.ApproveProposal(pid, standing=True), cc.RunProposal(pid)], OWNER)
    assert differences(before, tables(space)) == []
    assert chat_reads.proposal(space, pid).state == "pending"

    step = approve(space, OWNER, pid)  # the person's own step, undoable
    assert chat_reads.proposal(space, pid).state == "applied"
    assert chat_reads.proposal(space, pid).decided_by == OWNER.id
    assert space.undo_history(OWNER)[-1].label.startswith("via assistant")
    assert step.inverse
    with pytest.raises(ConflictError, match="applied already"):
        space.apply(cc.RunProposal(pid), OWNER)
    space.undo(OWNER)


def test_a_rejected_proposal_leaves_the_space_unchanged(space: Space) -> None:
    made = add_variant(space, name="Hero")
    sid = _session(space)
    pid = _propose(space, sid, "rename_asset", c.UpdateAsset(made.asset_id, name="Villain"))
    before = tables(space)
    reject(space, OWNER, pid, "no")
    after = tables(space)
    changed = {d.split(" ")[0] for d in differences(before, after)}
    assert changed == {"proposals"}, changed
    assert space.asset(made.asset_id).name == "Hero"
    for attempt in (cc.RunProposal(pid), cc.ApproveProposal(pid)):
        with pytest.raises((PermissionDeniedError, InvalidStateError)):
            space.apply(attempt, OWNER)
    assert space.asset(made.asset_id).name == "Hero"


def test_the_cli_apply_path_is_refused_for_every_tool(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from studio.cli.main import main
    from studio.core.studio import Studio
    from studio.providers_setup import build_providers

    home = tmp_path / "home"
    assert main(["--home", str(home), "space", "create", "Door"]) == 0
    with Studio(home, providers=build_providers) as studio, studio.open_space("door") as space:
        made = space.apply(c.CreateAsset("Hero", c.MediaKindName.IMAGE), OWNER)
        asset = made.created["asset_id"]
        variant = add_variant(space, asset, name="Hero").variant_id
        sid = _session(space)
        pids = [_propose(space, sid, t, MUTATIONS[t](asset, variant)) for t in sorted(MUTATIONS)]
        before = tables(space)
    capsys.readouterr()
    for pid in pids:
        run = json.dumps({"command": "proposal:run", "proposal_id": pid})
        assert main(["--home", str(home), "apply", "door", run]) == 1
        err = capsys.readouterr().err
        assert "no recorded approval" in err and err.count("\n") == 1
    with Studio(home, providers=build_providers) as studio, studio.open_space("door") as space:
        assert differences(before, tables(space)) == []


def test_viewers_cannot_approve_and_proposals_hold_only_user_commands(space: Space) -> None:
    made = add_variant(space, name="Hero")
    sid = _session(space)
    pid = _propose(space, sid, "rename_asset", c.UpdateAsset(made.asset_id, name="X"))
    with pytest.raises(PermissionDeniedError):
        approve(space, VIEWER, pid)
    for bad in (
        c.DeleteAsset(made.asset_id),  # not an action the assistant has
        c.FailVariant(made.variant_id, "X", "y"),  # internal
        cc.RunProposal(pid),  # no nesting
    ):
        with pytest.raises(PermissionDeniedError, match="can't propose"):
            _propose(space, sid, "rename_asset", bad)


def test_always_allow_and_the_spending_cap(space: Space) -> None:
    made = add_variant(space, name="Hero")
    sid = _session(space)
    for rule in (cc.AllowAssistantTool("star_variant"), cc.SetAssistantCap(100.0)):
        with pytest.raises(PermissionDeniedError, match="only the space's owner"):
            space.apply(rule, EDITOR)
    space.apply(cc.AllowAssistantTool("star_variant"), OWNER)
    pid = _propose(space, sid, "star_variant", c.StarVariant(made.variant_id))
    space.apply_step([cc.ApproveProposal(pid, standing=True), cc.RunProposal(pid)], OWNER)
    assert chat_reads.proposal(space, pid).standing
    gen = c.RequestGeneration(
        "a kite", c.MediaKindName.IMAGE, options=c.GenerationOptions(no_style=True)
    )
    cost = space.estimate(gen).usd
    assert cost > 0
    space.apply(cc.SetAssistantCap(cost * 1.5), OWNER)
    first = _propose(space, sid, "generate", gen)
    assert chat_reads.proposal(space, first).cost_usd == pytest.approx(cost)
    approve(space, OWNER, first)
    with pytest.raises(PermissionDeniedError, match="over its cap"):
        _propose(space, sid, "generate", gen)
    space.apply(cc.SetAssistantCap(None), OWNER)
    assert chat_reads.proposal(space, _propose(space, sid, "generate", gen)).state == "pending"


def test_sessions_rename_delete_restore_and_undo(space: Space) -> None:
    sid = _session(space)
    space.apply(cc.RenameChatSession(sid, "Kites"), OWNER)
    assert chat_reads.session(space, sid).title == "Kites"
    space.undo(OWNER)
    assert chat_reads.session(space, sid).title == "Test"
    space.apply(cc.DeleteChatSession(sid), OWNER)
    assert [s.id for s in chat_reads.sessions(space)] == []
    space.undo(OWNER)
    assert [s.id for s in chat_reads.sessions(space)] == [sid]


def test_every_assistant_command_runs_and_its_events_decode(space: Space) -> None:
    from studio.core import protocol as p

    seen: list[object] = []
    space.subscribe(seen.append)
    exercise(space)
    kinds = {p.decode_event(ev).kind for ev in seen}  # type: ignore[arg-type]
    assert {k for k in p.EVENTS if k.split(":")[0] in ("chat", "proposal", "assistant")} <= kinds
