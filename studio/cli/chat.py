"""CLI commands for the assistant: chat, chats, approve, reject."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from studio.cli import share
from studio.cli.common import EXIT_OK, print_json, studio_from


def add_parsers(sub: Any) -> None:
    x = sub.add_parser("chat", help="ask the assistant (Claude) about a space")
    x.add_argument("space")
    x.add_argument("message")
    x.add_argument("--session", metavar="ID", help="continue this chat (default: a new one)")
    x.add_argument(
        "--actor", action="store_true", help="let it propose actions (they wait for approval)"
    )
    x.add_argument(
        "--approve-all-safe",
        action="store_true",
        help="with --actor: apply proposals that cost nothing at once (never generation)",
    )
    x.add_argument(
        "--look", action="append", default=[], metavar="VARIANT_ID", help="show it a variant"
    )
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("chats", help="a space's chats, or one chat's messages")
    x.add_argument("space")
    x.add_argument("session", nargs="?", help="show this chat's messages and proposals")
    x.add_argument("--rename", metavar="TITLE", help="rename the chat")
    x.add_argument("--delete", action="store_true", help="delete the chat (undoable)")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("approve", help="approve an assistant's proposal and apply it")
    x.add_argument("space")
    x.add_argument("proposal_id")
    x.add_argument(
        "--always", action="store_true", help="and always allow this kind of action here"
    )
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("reject", help="reject an assistant's proposal (nothing changes)")
    x.add_argument("space")
    x.add_argument("proposal_id")
    x.add_argument("--reason", default="")


def _proposal_json(p: Any) -> dict[str, Any]:
    return {
        "id": p.id,
        "tool": p.tool,
        "summary": p.summary,
        "commands": list(p.commands),
        "cost_usd": p.cost_usd,
        "state": p.state,
    }


def _proposal_line(space: str, p: Any) -> str:
    cost = "" if p.cost_usd is None else f" (estimated ${p.cost_usd:.2f})"
    tail = f": `studio approve {space} {p.id}`" if p.state == "pending" else ""
    if p.state == "pending" and p.tool == "add_to_tray":  # the tray is the app's window
        tail = ": open Forge Studio to use it (approve it in the Assistant dock)"
    return f"proposal {p.id} [{p.state}] {p.tool}: {p.summary}{cost}{tail}"


def _cmd_chat(args: argparse.Namespace) -> int:
    from studio.assistant.chat import Chat, refuse_on_replica
    from studio.assistant.setup import client_for
    from studio.core.actor import Actor
    from studio.core.errors import ValidationError

    if args.approve_all_safe and not args.actor:
        raise ValidationError("--approve-all-safe goes with --actor")
    with studio_from(args) as studio:
        with studio.open_space(args.space) as space:
            refuse_on_replica(space)  # a joined space: its host chats (said before any key)
        client = client_for(studio.library)
        try:
            with studio.open_space(args.space) as space:
                entry = studio.library.find(args.space)
                chat = Chat(
                    space,
                    Actor.local_owner(),
                    client,
                    space_name=entry.name if entry is not None else args.space,
                    actor_mode=args.actor,
                    approve_safe=args.approve_all_safe,
                )

                def shown(text: str) -> None:
                    sys.stdout.write(text)
                    sys.stdout.flush()

                reply = chat.send(
                    args.message,
                    session_id=args.session,
                    attach=args.look,
                    on_text=None if args.json else shown,
                )
        finally:
            client.close()
    if args.json:
        print_json(
            {
                "session": reply.session_id,
                "reply": reply.text,
                "rounds": reply.rounds,
                "stopped": reply.stopped,
                "proposals": [_proposal_json(p) for p in reply.proposals],
            }
        )
        return EXIT_OK
    if reply.text and not reply.text.endswith("\n"):
        print()
    for p in reply.proposals:
        print(_proposal_line(args.space, p))
    print(f"session: {reply.session_id}")
    return EXIT_OK


def _cmd_chats(args: argparse.Namespace) -> int:
    from studio.core import chat_commands as cc
    from studio.core import chat_reads
    from studio.core.actor import Actor

    with studio_from(args) as studio, studio.open_space(args.space) as space:
        if args.session is None:
            sessions = chat_reads.sessions(space)
            if args.json:
                print_json(
                    [{"id": s.id, "title": s.title, "messages": s.messages} for s in sessions]
                )
            for s in [] if args.json else sessions:
                print(f"{s.id}  {s.title}  ({s.messages} messages)")
            return EXIT_OK
        chat_reads.session(space, args.session)
        if args.rename is not None:
            space.apply(cc.RenameChatSession(args.session, args.rename), Actor.local_owner())
        if args.delete:
            space.apply(cc.DeleteChatSession(args.session), Actor.local_owner())
            return EXIT_OK
        messages = chat_reads.messages(space, args.session)
        proposals = chat_reads.proposals(space, session_id=args.session)
    if args.json:
        print_json(
            {
                "messages": [{"role": m.role, "blocks": list(m.blocks)} for m in messages],
                "proposals": [_proposal_json(p) for p in proposals],
            }
        )
        return EXIT_OK
    for m in messages:
        for b in m.blocks:
            if b.get("type") == "text":
                print(f"{m.role}: {b['text']}")
            elif b.get("type") == "tool_use":
                print(f"{m.role}: [calls {b.get('name')}]")
    for p in proposals:
        print(_proposal_line(args.space, p))
    return EXIT_OK


def _cmd_approve(args: argparse.Namespace) -> int:
    from studio.assistant.chat import always_allow, approve
    from studio.core import chat_reads
    from studio.core.actor import Actor

    person = Actor.local_owner()
    with studio_from(args) as studio:
        remote = share.joined(studio, args.space)
        if remote is not None:  # a joined space: the host applies the approval
            return _decided_remotely(args, studio, remote, approving=True)
    with studio_from(args) as studio, studio.open_space(args.space) as space:
        step = approve(space, person, args.proposal_id)
        if args.always:
            always_allow(space, person, chat_reads.proposal(space, args.proposal_id).tool)
    if args.json:
        print_json({"step": step.step_id, "seqs": list(step.seqs), "created": step.created})
    else:
        print(f"applied proposal {args.proposal_id} (undo with `studio undo {args.space}`)")
        for key, value in step.created.items():
            print(f"{key}: {value}")
    return EXIT_OK


def _cmd_reject(args: argparse.Namespace) -> int:
    from studio.assistant.chat import reject
    from studio.core.actor import Actor

    with studio_from(args) as studio:
        remote = share.joined(studio, args.space)
        if remote is not None:
            return _decided_remotely(args, studio, remote, approving=False)
    with studio_from(args) as studio, studio.open_space(args.space) as space:
        reject(space, Actor.local_owner(), args.proposal_id, args.reason)
    print(f"rejected proposal {args.proposal_id}; nothing changed")
    return EXIT_OK


def _decided_remotely(args: argparse.Namespace, studio: Any, slug: str, *, approving: bool) -> int:
    """``approve`` / ``reject`` on a joined space: sent to its host as one step (the
    host's door checks it, as for any peer), or queued while the host is away."""
    from studio.assistant.chat import NeedsTheAppError
    from studio.assistant.tools import APP_TOOLS
    from studio.core import chat_commands as cc
    from studio.core import chat_reads
    from studio.core.commands import Command

    pid = args.proposal_id
    with studio.open_space(slug) as space:
        p = chat_reads.proposal(space, pid)  # NotFoundError: one line
    cmds: list[Command]
    if not approving:
        cmds = [cc.RejectProposal(pid, args.reason)]
    elif p.tool in APP_TOOLS:
        raise NeedsTheAppError(
            f"proposal {pid} fills the forge tray, which only the app has: open "
            "Forge Studio and approve it on its card in the Assistant dock"
        )
    else:
        always = [cc.AllowAssistantTool(p.tool)] if args.always else []
        cmds = [*always, cc.ApproveProposal(pid, None, bool(always)), cc.RunProposal(pid)]
    out = share.apply_remote(studio, slug, cmds)
    if getattr(args, "json", False):
        print_json(out)
    elif out.get("queued"):
        print(f"queued: {out['reason']}; `studio sync {args.space}` sends it")
    else:
        done = "applied" if approving else "rejected"
        print(f"{done} proposal {pid} (by the host)")
    return EXIT_OK


COMMANDS = {
    "chat": _cmd_chat,
    "chats": _cmd_chats,
    "approve": _cmd_approve,
    "reject": _cmd_reject,
}
