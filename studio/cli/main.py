"""``studio``: the command line. No arguments opens the desktop app.

Exit codes: 0 success, 1 a user error (one line on stderr), 2 a usage error.

Start-up stays close to a bare interpreter's: this module and the parsers import only
the standard library's light parts; a command imports what it uses when it runs (the
core, media, providers' SDKs, asyncio, the keyring…), and ``space list`` reads the
library without loading the core at all (guarded by ``tests/cli/test_cli_startup.py``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from studio.cli import archive, chat, providers, queue, share
from studio.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    Parser,
    UserError,
    check_text_args,
    library_from,
    print_json,
    read_stdin,
    safe_streams,
    studio_from,
    table,
    when,
    whole_number,
)

TYPE_CHECKING = False  # typing is not imported at run time: `studio` starts faster
if TYPE_CHECKING:
    from typing import Any, NoReturn


def _parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command tree; given ``argv``, only the parsers of the sub-commands it
    names are built (the others are listed by name and help), which is most of the
    cost of starting."""
    p = Parser(
        prog="studio",
        description="Forge Studio: a local AI asset studio. Run with no arguments to open the app.",
    )
    if argv is not None:
        p.wanted = frozenset(a for a in argv if not a.startswith("-"))
    p.add_argument(
        "--home", metavar="HOME", help="data folder (default: $STUDIO_HOME or the user data dir)"
    )
    p.add_argument("--version", action=_Version, help="print the version and exit")
    sub = p.add_subparsers(dest="cmd", metavar="COMMAND")
    x = sub.add_parser(
        "open", help="open the app, importing a .forgespace file or joining an invite"
    )
    x.add_argument("target", nargs="?", help="a .forgespace file, or a forge+wss: invite link")

    space = sub.add_parser("space", help="create, list, rename and delete spaces")
    ss = space.add_subparsers(dest="space_cmd", metavar="ACTION", required=True)
    x = ss.add_parser("create", help="create a space and print its slug")
    x.add_argument("name")
    x.add_argument("--json", action="store_true")
    x = ss.add_parser("list", help="list spaces")
    x.add_argument("--json", action="store_true")
    x = ss.add_parser("rename", help="rename a space (its slug stays)")
    x.add_argument("space")
    x.add_argument("name")
    x = ss.add_parser("delete", help="move a space to the trash folder")
    x.add_argument("space")
    x.add_argument("--yes", action="store_true", help="confirm")
    x = ss.add_parser("restore", help="list a space's automatic backups, or bring one back")
    x.add_argument("space")
    x.add_argument("--list", action="store_true", help="list the backups, newest first")
    x.add_argument("--from", dest="from_name", metavar="NAME", help="the backup (default: newest)")
    x.add_argument("--json", action="store_true")
    archive.add_space_parsers(ss)

    x = sub.add_parser("import", help="import image, audio and video files")
    x.add_argument("space")
    x.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    x.add_argument("--type", default="", help="asset type for new assets (character, sfx…)")
    x.add_argument("--into", metavar="ASSET_ID", help="add the files as variants of this asset")
    x.add_argument("--max-size", metavar="SIZE", help="largest file accepted, e.g. 500M, 2G")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("assets", help="list a space's assets")
    x.add_argument("space")
    x.add_argument(
        "--find", metavar="TEXT", help="only assets whose name, a tag or a prompt contains TEXT"
    )
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("show", help="show an asset with its variants, or one variant")
    x.add_argument("space")
    x.add_argument("id")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser(
        "apply",
        help="apply a command given as JSON, or a JSON array of commands as one step "
        "('-' reads stdin)",
    )
    x.add_argument("space")
    x.add_argument("command_json", metavar="COMMAND_JSON")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("undo", help="undo your last step in a space")
    x.add_argument("space")
    x.add_argument("--json", action="store_true")
    x = sub.add_parser("redo", help="redo your last undone step in a space")
    x.add_argument("space")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("log", help="the change log")
    x.add_argument("space")
    x.add_argument("--since", type=whole_number(0, 2**63 - 1), default=0, metavar="SEQ")
    x.add_argument("--follow", action="store_true", help="keep printing new changes")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("check", help="verify the database and every media file")
    x.add_argument("space")
    x.add_argument(
        "--repair",
        action="store_true",
        help="make missing or damaged thumbnails and posters again from whole originals",
    )
    x.add_argument("--json", action="store_true")
    queue.add_parsers(sub)
    providers.add_parsers(sub)
    archive.add_parsers(sub)
    share.add_parsers(sub)
    chat.add_parsers(sub)
    return p


class _Version(argparse.Action):
    """``--version``: the versions are read only when asked for (Qt's is not cheap)."""

    def __init__(self, option_strings: Sequence[str], dest: str, **kw: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, **kw)

    def __call__(self, parser: argparse.ArgumentParser, *_: Any) -> NoReturn:
        from studio.appinfo import version_text
        from studio.ui.qt_loaded import load_qt

        load_qt()  # for Qt's own version
        print(version_text())
        parser.exit()


def main(argv: Sequence[str] | None = None) -> int:
    safe_streams()
    if argv is None:
        argv = sys.argv[1:]
    args = _parser(argv).parse_args(argv)
    from studio.core.errors import StudioError
    from studio.paths import home_path

    try:
        args.home = home_path(args.home)
    except StudioError as exc:
        print(f"studio: {exc}", file=sys.stderr)
        return EXIT_ERROR
    if args.cmd in (None, "open"):
        return _launch_app(args)
    if args.cmd == "space" and args.space_cmd == "list":
        listed = _quick_space_list(args)
        if listed is not None:
            return listed
    _log_warnings()
    from studio.core.limits import shown
    from studio.store.db import DAMAGE
    from workers.redaction import install, redact

    install(excepthook=True)  # no key in any log line, warning or traceback

    try:
        check_text_args(args)
        return _COMMANDS[args.cmd](args)
    except (StudioError, UserError) as exc:
        print(f"studio: {shown(redact(str(exc)), 2000)}", file=sys.stderr)  # one line
        return EXIT_ERROR
    except DAMAGE as exc:
        # a space or library damaged outside Forge Studio, found while reading it
        reason = str(exc).splitlines()[0][:160] if str(exc) else type(exc).__name__
        print(
            f"studio: a data file could not be read, it may be damaged ({reason}); "
            "see `studio check SPACE` and `studio space restore SPACE`",
            file=sys.stderr,
        )
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return EXIT_OK
    except Exception as exc:
        if not _is_media_error(exc):  # a bug: a crash report in <data>/logs/, one line here
            from studio.crash import report_cli

            return report_cli(args.home, exc, args.cmd)
        print(f"studio: {shown(redact(str(exc)), 2000)}", file=sys.stderr)  # one line
        return EXIT_ERROR


def _quick_space_list(args: argparse.Namespace) -> int | None:
    """``space list`` straight from the index, with none of the set-up other commands
    need (no key, provider or space is touched); None when the index can't simply be
    read (no library yet, another version…): the full path then opens it."""
    from studio.core.errors import StudioError
    from studio.paths import StudioPaths, default_home
    from studio.store.index import SPACE_FIELDS, read_spaces

    try:
        home = args.home if args.home is not None else default_home()
        rows = read_spaces(StudioPaths(home).library_db)
    except StudioError:
        return None
    if rows is None:
        return None
    try:
        _print_spaces([dict(zip(SPACE_FIELDS, row, strict=True)) for row in rows], args.json)
    except BrokenPipeError:
        pass
    return EXIT_OK


def _print_spaces(entries: list[dict[str, Any]], as_json: bool) -> None:
    if as_json:
        print_json(entries)
    elif entries:
        table(
            [
                [e["slug"], e["name"], e["id"], when(e["created_at"]), when(e["last_opened_at"])]
                for e in entries
            ],
            ["SLUG", "NAME", "ID", "CREATED", "LAST OPENED"],
        )
    else:  # a new user's first command: say what to do, where scripts do not read
        print('No spaces yet. Make one with: studio space create "My space"', file=sys.stderr)


def _is_media_error(exc: Exception) -> bool:
    """A file refused by ``studio.media`` (only possible once that package is loaded:
    commands that never touch media never import it)."""
    kinds = sys.modules.get("studio.media.kinds")
    return kinds is not None and isinstance(exc, kinds.MediaError)


def _log_warnings() -> None:
    """Warnings (a bad stored setting…) as one ``studio: …`` line each on stderr."""
    import logging

    from studio.core.limits import shown

    class StderrLines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            print(f"studio: {shown(record.getMessage(), 2000)}", file=sys.stderr)

    root = logging.getLogger()
    if not any(type(h).__name__ == "StderrLines" for h in root.handlers):
        root.addHandler(StderrLines(logging.WARNING))


def _launch_app(args: argparse.Namespace) -> int:
    from studio.ui.display_check import problem

    # before Qt: without a display, or without a library its X11 plugin needs, Qt aborts
    # with a message that names the wrong package
    why = problem()
    if why is not None:
        print(f"studio: {why}", file=sys.stderr)
        return EXIT_ERROR
    try:
        from studio.ui.app import run
    except ImportError as exc:
        print(f"studio: the desktop app is not available here ({exc})", file=sys.stderr)
        return EXIT_ERROR
    try:
        return run(home=args.home, target=getattr(args, "target", None))
    except Exception as exc:  # a bug before the app's own crash reports were set up
        from studio.crash import report_cli

        return report_cli(args.home, exc, args.cmd or "(the app)")


# ---------------------------------------------------------------------------- helpers


def _parse_size(text: str) -> int:
    import math

    from studio.core.limits import shown

    units = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3, "T": 1024**4}
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    unit = t[-1] if t and t[-1] in units else ""
    number = t[:-1] if unit else t
    try:
        value = float(number) if len(number) <= 40 else math.nan
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise UserError(f"{shown(text, 24)!r} is not a size like 500M or 2G")
    if value <= 0:
        raise UserError("the size limit must be more than 0")
    size = value * units[unit]
    if size >= 2**63:
        raise UserError(f"{shown(text, 24)!r} is larger than any file can be")
    return max(1, int(size))


# ---------------------------------------------------------------------------- spaces


def _cmd_space(args: argparse.Namespace) -> int:
    if args.space_cmd == "list":  # the index only: no core, no space opened
        with library_from(args) as library:
            _print_spaces([e._asdict() for e in library.spaces()], args.json)
        return EXIT_OK
    with studio_from(args) as studio:
        if args.space_cmd == "create":
            entry = studio.create_space(args.name)
            if args.json:
                print_json(entry._asdict())
            else:
                print(entry.slug)
        elif args.space_cmd == "rename":
            entry = studio.rename_space(args.space, args.name)
            print(f"renamed {entry.slug} to {entry.name!r}")
        elif args.space_cmd == "delete":
            if not args.yes:
                raise UserError("deleting a space needs --yes")
            trash = studio.delete_space(args.space)
            print(f"moved to {trash}")
        elif args.space_cmd == "restore":
            _space_restore(studio, args)
        else:
            return archive.SPACE_ACTIONS[args.space_cmd](studio, args)
    return EXIT_OK


def _space_restore(studio: Any, args: argparse.Namespace) -> None:
    if args.list:
        if args.from_name:
            raise UserError("--list and --from do not go together")
        backups = studio.backups(args.space)
        if args.json:
            print_json(
                [
                    {"name": b.name, "at": b.at_ms, "seq": b.seq, "size_bytes": b.size_bytes}
                    for b in backups
                ]
            )
        elif backups:
            table(
                [[b.name, when(b.at_ms), str(b.seq), str(b.size_bytes)] for b in backups],
                ["NAME", "TAKEN", "CHANGES", "BYTES"],
            )
        else:
            print(f"no backups of {args.space} yet")
        return
    used, aside = studio.restore_space(args.space, args.from_name)
    if args.json:
        print_json(
            {
                "restored": used.name,
                "seq": used.seq,
                "previous_file": str(aside) if aside is not None else None,
            }
        )
    else:
        print(f"restored {args.space} from {used.name} (change {used.seq})")
        if aside is not None:
            print(f"the previous file is kept at {aside}")


# ---------------------------------------------------------------------------- import


def _cmd_import(args: argparse.Namespace) -> int:
    from studio.media.pool import start_early

    # Before the door's modules: the fork server's imports (~0.2 s) run beside this
    # process's (~0.15 s) and the space's opening; the workers start once it is up.
    start_early(args.paths)
    from studio.core.actor import Actor
    from studio.core.imports import import_files, recover_interrupted
    from studio.core.studio import Studio
    from studio.media import MediaLimits

    limits = MediaLimits(max_bytes=_parse_size(args.max_size)) if args.max_size else MediaLimits()
    # No provider catalog: an import runs no generation, and building one loads the
    # keyring and reads the keys (~0.2 s of this process, beside the busy workers).
    with Studio(args.home) as studio, studio.open_space(args.space) as space:
        recover_interrupted(space)
        report = import_files(
            space,
            args.paths,
            Actor.local_owner(),
            into=args.into,
            type_=args.type,
            limits=limits,
            progress=_import_bar() if sys.stderr.isatty() else None,
        )
    for refused in report.refused:
        print(f"studio: {refused.line()}", file=sys.stderr)
    if args.json:
        print_json(
            {
                "imported": [
                    {"path": i.display_path, "asset_id": i.asset_id, "variant_id": i.variant_id}
                    for i in report.imported
                ],
                "refused": [{"path": r.display_path, "reason": r.reason} for r in report.refused],
            }
        )
    else:
        for i in report.imported:
            print(f"{i.display_path}: asset {i.asset_id} variant {i.variant_id}")
    return EXIT_ERROR if report.refused else EXIT_OK


def _import_bar() -> Callable[[int, int, Path], None]:
    """A one-line progress bar on stderr (a terminal only), one step per file."""

    def show(done: int, total: int, _path: Path) -> None:
        width = 30
        filled = width * done // max(total, 1)
        end = "\n" if done >= total else ""
        bar = "#" * filled + "-" * (width - filled)
        print(f"\rimporting [{bar}] {done}/{total}", end=end, file=sys.stderr, flush=True)

    return show


# ---------------------------------------------------------------------------- reading


def _cmd_assets(args: argparse.Namespace) -> int:
    from studio.store.records import row_json

    with studio_from(args) as studio:
        share.refresh(studio, args.space)  # a joined space: catch up first
        with studio.open_space(args.space) as space:
            listed = space.read.asset_summaries()  # one row per asset, no variant rows
            if args.find is not None:
                found = {a.id for a in space.read.search(args.find, limit=len(listed) + 1)}
                listed = [s for s in listed if s.asset.id in found]
    if args.json:
        print_json([dict(row_json(s.asset), variant_count=s.variant_count) for s in listed])
        return EXIT_OK
    table(
        [
            [
                a.id,
                a.name,
                a.media_kind,
                a.type or "-",
                str(count),
                status or "-",
                ",".join(a.tags) or "-",
            ]
            for a, count, status in listed
        ],
        ["ID", "NAME", "KIND", "TYPE", "VARIANTS", "ACTIVE", "TAGS"],
    )
    return EXIT_OK


def _cmd_show(args: argparse.Namespace) -> int:
    from studio.core.errors import NotFoundError
    from studio.store.records import row_json

    with studio_from(args) as studio:
        share.refresh(studio, args.space)  # a joined space: catch up first
    with studio_from(args) as studio, studio.open_space(args.space) as space:
        try:
            asset = space.asset(args.id)
        except NotFoundError:
            asset = None
        if asset is not None:
            out: dict[str, Any] = row_json(asset)
            out["variants"] = [row_json(v) for v in space.variants_of(asset.id)]
        else:
            detail = space.variant_detail(args.id)
            out = row_json(detail.row)
            out.update(
                size_bytes=detail.size_bytes,
                sha256=detail.sha256,
                original_name=detail.original_name,
                recipe=detail.recipe,
                generation_provenance=detail.generation_provenance,
                provider_metadata=detail.provider_metadata,
                created_by=detail.created_by,
                deleted=detail.deleted_at is not None,
                lineage=[row_json(link) for link in space.lineage_of(args.id)],
                media_file=str(space.media_dir / detail.row.media_path)
                if detail.row.media_path
                else None,
            )
    if args.json:
        print_json(out)
    else:
        for key, value in out.items():
            if key == "variants":
                print("variants:")
                for v in value:
                    print(
                        f"  {v['id']}  {v['status']:<10} {v['mime'] or ''}  "
                        f"{'*' if v['starred'] else ' '} {v['rating'] or ''}"
                    )
            elif isinstance(value, dict | list):
                print(f"{key}: {json.dumps(value, ensure_ascii=False)}")
            else:
                print(f"{key}: {value}")
    return EXIT_OK


def _cmd_apply(args: argparse.Namespace) -> int:
    from studio.core.actor import Actor
    from studio.core.commands import command_from_json
    from studio.core.errors import ValidationError
    from studio.core.jsontext import parse_json
    from studio.core.limits import MAX_JSON_BYTES

    data = read_stdin(MAX_JSON_BYTES) if args.command_json == "-" else args.command_json
    parsed = parse_json(data, "COMMAND_JSON")
    if isinstance(parsed, list):
        if not parsed:
            raise ValidationError("COMMAND_JSON is an empty array: give at least one command")
        cmds = [command_from_json(item) for item in parsed]
    else:
        cmds = [command_from_json(parsed)]
    with studio_from(args) as studio:
        remote = share.joined(studio, args.space)
        if remote is not None:  # a joined space: the host applies it
            return _applied_remotely(args, share.apply_remote(studio, remote, cmds), parsed)
        with studio.open_space(args.space) as space:
            step = space.apply_step(cmds, Actor.local_owner())
    if args.json:
        out = _step_json(step)
        if not isinstance(parsed, list):  # one command: its seq, as before
            out["seq"] = step.applied[0].seq
        print_json(out)
    else:
        for applied in step.applied:
            print(f"applied {applied.command.kind} as change {applied.seq}")
        for key, value in step.created.items():
            print(f"{key}: {value}")
    return EXIT_OK


def _applied_remotely(args: argparse.Namespace, out: dict[str, Any], parsed: Any) -> int:
    if out.get("queued"):  # the host is out of reach: kept in the outbox
        if args.json:
            print_json(out)
        else:
            print(f"queued: {out['reason']}; `studio sync {args.space}` sends it")
        return EXIT_OK
    if args.json:
        if not isinstance(parsed, list) and out["seqs"]:
            out["seq"] = out["seqs"][0]
        print_json(out)
    else:
        for seq, kind in zip(
            out["seqs"], [c.get("command") for c in _as_list(parsed)], strict=False
        ):
            print(f"applied {kind} as change {seq} (by the host)")
        for key, value in out["created"].items():
            print(f"{key}: {value}")
    return EXIT_OK


def _as_list(parsed: Any) -> list[Any]:
    return parsed if isinstance(parsed, list) else [parsed]


def _step_json(step: Any) -> dict[str, Any]:
    from studio.core.commands import command_to_json

    return {
        "step": step.step_id,
        "seqs": list(step.seqs),
        "created": dict(step.created),
        "events": [e.to_json() for e in step.events],
        "inverse": [command_to_json(c) for c in step.inverse],
    }


def _cmd_undo(args: argparse.Namespace) -> int:
    return _travel(args, undo=True)


def _cmd_redo(args: argparse.Namespace) -> int:
    return _travel(args, undo=False)


def _travel(args: argparse.Namespace, *, undo: bool) -> int:
    from studio.core.actor import Actor

    me = Actor.local_owner()
    with studio_from(args) as studio:
        remote = share.joined(studio, args.space)
        if remote is not None:  # a joined space: its host keeps this device's history
            return share.travel_remote(studio, remote, undo=undo, as_json=args.json)
    with studio_from(args) as studio, studio.open_space(args.space) as space:
        step = space.undo(me) if undo else space.redo(me)
    word = "undid" if undo else "redid"
    if args.json:
        print_json(dict(_step_json(step), action="undo" if undo else "redo"))
    else:
        kinds = ", ".join(dict.fromkeys(a.command.kind for a in step.applied))
        first, last = step.seqs[0], step.seqs[-1]
        where = f"change {first}" if first == last else f"changes {first}–{last}"
        print(f"{word} your last step: {kinds} as {where}")
    return EXIT_OK


def _cmd_log(args: argparse.Namespace) -> int:
    import time

    with studio_from(args) as studio:
        share.refresh(studio, args.space)  # a joined space: catch up first
    with (
        studio_from(args) as studio,
        studio.open_space(args.space) as space,
        space.feed(since=args.since) as feed,
    ):
        step: str | None = None
        while True:
            for ch in feed.poll():  # the one change feed every follower reads
                # the 2nd, 3rd… command of one step: marked "+", under the first
                more = ch.step_id is not None and ch.step_id == step
                step = ch.step_id
                if args.json:
                    print(
                        json.dumps(
                            {
                                "seq": ch.seq,
                                "step": ch.step_id,
                                "at": ch.at,
                                "actor": ch.actor_name,
                                "role": ch.actor_role,
                                "command": ch.payload,
                                "events": ch.events,
                            },
                            ensure_ascii=False,
                        )
                    )
                else:
                    kinds = ", ".join(sorted({e["type"] for e in ch.events}))
                    print(
                        f"{ch.seq:>6}  {when(ch.at)}  {ch.actor_name:<12} "
                        f"{('+ ' if more else '') + ch.command:<22} {kinds}"
                    )
            sys.stdout.flush()
            if feed.behind:
                continue
            if not args.follow:
                return EXIT_OK
            time.sleep(0.2)


def _cmd_check(args: argparse.Namespace) -> int:
    from studio.core.check import check_space

    repaired: list[str] = []
    with studio_from(args) as studio, studio.open_space(args.space) as space:
        report = check_space(space)
        if args.repair and report.broken_previews:
            from studio.core.repair import repair_previews

            repaired = [r.line() for r in repair_previews(space, report.broken_previews)]
            report = check_space(space)  # the verdict is the space as it is now
        report.warnings += [f"{path} belongs to no listed space" for path in studio.unlisted()]
    if args.json:
        print_json(
            {
                "ok": report.ok,
                "problems": report.problems,
                "warnings": report.warnings,
                "files_checked": report.files_checked,
                "variants_checked": report.variants_checked,
                "repaired": repaired,
            }
        )
    else:
        for line in repaired:
            print(f"repaired: {line}")
        for line in report.problems:
            print(f"problem: {line}")
        for line in report.warnings:
            print(f"warning: {line}")
        verdict = "ok" if report.ok else f"{len(report.problems)} problem(s)"
        print(
            f"{verdict}: {report.variants_checked} variants, {report.files_checked} files checked"
        )
        if report.broken_previews and not args.repair:
            n = len(report.broken_previews)
            print(
                f"{n} variant(s) can have their previews made again from their originals: "
                f"studio check {args.space} --repair"
            )
    return EXIT_OK if report.ok else EXIT_ERROR


_COMMANDS: dict[str, Callable[[argparse.Namespace], int]] = {
    "space": _cmd_space,
    "import": _cmd_import,
    "assets": _cmd_assets,
    "show": _cmd_show,
    "apply": _cmd_apply,
    "undo": _cmd_undo,
    "redo": _cmd_redo,
    "log": _cmd_log,
    "check": _cmd_check,
    **queue.COMMANDS,
    **providers.COMMANDS,
    **archive.COMMANDS,
    **share.COMMANDS,
    **chat.COMMANDS,
}


def run() -> NoReturn:  # pragma: no cover - console entry for `python -m studio`
    sys.exit(main())
