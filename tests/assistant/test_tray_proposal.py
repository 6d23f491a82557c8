"""``add_to_tray``: the assistant proposes what to put in the forge tray. The tray is the
app's window, not the space, so the proposal holds one ``assistant:fill-tray`` that the
door checks and records (approval and all) but never applies to the space; the app
fills its tray once the person approved it there, and the CLI says so."""

from __future__ import annotations

import json

import pytest

from studio.assistant.chat import NeedsTheAppError, approve
from studio.assistant.tools import ACTION_NAMES, APP_TOOLS, SAFE_TOOLS
from studio.core import chat_commands as cc
from studio.core import chat_reads
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.errors import NotFoundError, PermissionDeniedError, ValidationError
from studio.core.replica_host import apply_once
from studio.core.space import Space
from studio.ui.tray.state import MODES
from tests.assistant.test_chat import Cli, _asset, _keyed, cli, fake  # noqa: F401 (fixtures)
from tests.conftest import EDITOR, OWNER, add_variant
from tests.core.tables import differences, tables
from tests.fakes.anthropic import AnthropicFake, turn

CLAUDE = Actor.assistant(OWNER)


def _session(space: Space) -> str:
    return space.apply(cc.CreateChatSession("Tray"), OWNER).created["session_id"]


def _propose(space: Space, sid: str, tool: str, *cmds: c.Command) -> str:
    raw = tuple(c.command_to_json(x) for x in cmds)
    made = space.apply(cc.CreateProposal(sid, tool, raw, "tray"), CLAUDE)
    return made.created["proposal_id"]


def test_the_core_knows_the_trays_modes_and_the_tool_is_never_auto_approved() -> None:
    assert cc.TRAY_MODES == MODES
    assert cc.TRAY_TOOL in ACTION_NAMES and cc.TRAY_TOOL in APP_TOOLS
    assert cc.TRAY_TOOL not in SAFE_TOOLS  # --approve-all-safe leaves it to the app


def test_a_tray_proposal_needs_an_approval_and_changes_nothing_in_the_space(
    space: Space,
) -> None:
    made = add_variant(space, name="Hero")
    sid = _session(space)
    fill = cc.FillTray("a red kite", "image", (made.variant_id,))
    pid = _propose(space, sid, cc.TRAY_TOOL, fill)
    before = tables(space)
    # never applied on its own, by anyone
    for actor in (OWNER, CLAUDE):
        with pytest.raises(PermissionDeniedError):
            space.apply(fill, actor)
    # the approval rule holds on every path, as for any mutating tool
    with pytest.raises(PermissionDeniedError, match="can only propose"):
        space.apply(cc.RunProposal(pid), CLAUDE)
    with pytest.raises(PermissionDeniedError, match="no recorded approval"):
        space.apply(cc.RunProposal(pid), OWNER)
    with pytest.raises(PermissionDeniedError, match="no recorded approval"):
        apply_once(space, [cc.RunProposal(pid)], EDITOR, client_id="peer", mutation_id="m1")
    # headless (the CLI): refused in one sentence, nothing changes, it stays pending
    with pytest.raises(NeedsTheAppError, match="only the app has"):
        approve(space, OWNER, pid)
    assert differences(before, tables(space)) == []
    assert chat_reads.proposal(space, pid).state == "pending"
    # the app's path: the approval is recorded; the space itself is as it was
    step = space.apply_step([cc.ApproveProposal(pid), cc.RunProposal(pid)], OWNER)
    assert step.inverse == ()  # nothing to undo in the space
    assert {d.split(" ")[0] for d in differences(before, tables(space))} == {"proposals"}
    p = chat_reads.proposal(space, pid)
    assert p.state == "applied" and p.decided_by == OWNER.id
    assert p.commands == (c.command_to_json(fill),) and p.cost_usd is None


def test_a_tray_fill_is_checked_when_proposed_and_when_edited(space: Space) -> None:
    made = add_variant(space, name="Hero")
    sid = _session(space)
    good = cc.FillTray("a kite", "image")
    rename = c.UpdateAsset(made.asset_id, name="X")
    cases: list[tuple[str, tuple[c.Command, ...], str]] = [
        (cc.TRAY_TOOL, (good, rename), "holds nothing else"),
        ("rename_asset", (good,), "exactly when"),
        (cc.TRAY_TOOL, (rename,), "exactly when"),
        (cc.TRAY_TOOL, (cc.FillTray("x", "painting"),), "the tray's mode is one of"),
        (cc.TRAY_TOOL, (cc.FillTray(),), "needs a prompt"),
        (cc.TRAY_TOOL, (cc.FillTray("x", references=("nope",)),), "no variant nope"),
        (cc.TRAY_TOOL, (cc.FillTray("x", destination_asset_id="nope"),), "no asset nope"),
    ]
    for tool, cmds, words in cases:
        with pytest.raises((ValidationError, PermissionDeniedError, NotFoundError), match=words):
            _propose(space, sid, tool, *cmds)
    pid = _propose(space, sid, cc.TRAY_TOOL, good)
    with pytest.raises(ValidationError, match="keeps the kind"):  # no rename in disguise
        space.apply(cc.ApproveProposal(pid, (c.command_to_json(rename),)), OWNER)
    other = _propose(space, sid, "rename_asset", rename)
    with pytest.raises(ValidationError, match="keeps the kind"):
        space.apply(cc.ApproveProposal(other, (c.command_to_json(good),)), OWNER)
    assert chat_reads.proposal(space, pid).state == "pending"
    assert space.asset(made.asset_id).name == "Hero"


def test_the_cli_says_a_tray_proposal_is_for_the_app(
    cli: Cli,  # noqa: F811
    fake: AnthropicFake,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _keyed(cli, monkeypatch)
    hero = _asset(cli)
    fake.script(
        "messages",
        turn("", (cc.TRAY_TOOL, {"prompt": "a red kite", "mode": "image"})),
        turn("It is in your tray."),
        turn("", (cc.TRAY_TOOL, {"prompt": "a kite", "destination_asset_id": hero})),
        turn("Again."),
    )
    code, out, err = cli("chat", "kites", "set up a kite", "--actor")
    assert code == 0, err
    line = next(x for x in out.splitlines() if x.startswith("proposal "))
    assert "[pending] add_to_tray" in line and "'a red kite'" in line
    assert line.endswith("open Forge Studio to use it (approve it in the Assistant dock)")
    pid = line.split()[1]
    sid = out.strip().splitlines()[-1].removeprefix("session: ")
    answer = fake.messages()[1]["messages"][-1]["content"][0]["content"]
    assert "waits for the person's approval in the app" in answer
    code, out, err = cli("approve", "kites", pid)
    assert code == 1 and out == "" and err.count("\n") == 1
    assert "fills the forge tray, which only the app has: open Forge Studio" in err
    assert [p["state"] for p in cli.json("chats", "kites", sid)["proposals"]] == ["pending"]
    # --approve-all-safe never takes it either
    reply = cli.json("chat", "kites", "again", "--actor", "--approve-all-safe")
    (prop,) = reply["proposals"]
    assert prop["state"] == "pending" and "refining 'Hero'" in prop["summary"]
    assert json.loads(json.dumps(prop["commands"]))[0]["command"] == "assistant:fill-tray"
