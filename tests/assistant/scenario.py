"""Every assistant command once, for the catalogue tests (each event kind reached)."""

from __future__ import annotations

from studio.core import chat_commands as cc
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.space import Space
from tests.conftest import OWNER


def exercise(space: Space) -> None:
    claude = Actor.assistant(OWNER)
    sid = space.apply(cc.CreateChatSession("Scenario"), OWNER).created["session_id"]
    space.apply(cc.AddChatMessage(sid, "user", ({"type": "text", "text": "hi"},)), OWNER)
    space.apply(cc.AddChatMessage(sid, "assistant", ({"type": "text", "text": "yo"},)), claude)
    frame = c.CreateFrame("Proposed", 0, 0, 10, 10)
    pids = [
        space.apply(
            cc.CreateProposal(sid, "make_frame", (c.command_to_json(frame),), "a frame"), claude
        ).created["proposal_id"]
        for _ in range(2)
    ]
    space.apply_step([cc.ApproveProposal(pids[0]), cc.RunProposal(pids[0])], OWNER)
    space.apply(cc.RejectProposal(pids[1]), OWNER)
    space.apply(cc.AllowAssistantTool("make_frame"), OWNER)
    space.apply(cc.SetAssistantCap(5.0), OWNER)
    space.apply(cc.RenameChatSession(sid, "Renamed"), OWNER)
    space.apply(cc.DeleteChatSession(sid), OWNER)
    space.apply(cc.RestoreChatSession(sid), OWNER)
