"""CLI commands for generation and the job queue: generate, jobs, retry, cancel, worker,
usage, settings."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable

from studio.cli.common import (
    EXIT_ERROR,
    EXIT_OK,
    UserError,
    number,
    print_json,
    studio_from,
    table,
    whole_number,
)

TYPE_CHECKING = False  # typing is not imported at run time: `studio` starts faster
if TYPE_CHECKING:
    from typing import Any


def add_parsers(sub: Any) -> None:
    x = sub.add_parser("generate", help="generate new media (prints the placeholder ids at once)")
    x.add_argument("space")
    x.add_argument("prompt")
    x.add_argument("--kind", choices=("image", "audio", "video"), default="image")
    x.add_argument("--type", default="", help="asset type; for audio: sfx, music, speech, dialogue")
    x.add_argument("--name", help="asset name (default: from the prompt)")
    x.add_argument("--provider", help="provider (default: the best available; offline: local)")
    x.add_argument("--model")
    x.add_argument("--aspect", metavar="W:H", help="aspect ratio, e.g. 16:9")
    x.add_argument("--size", help="size as the model names it, e.g. 1K or 720p")
    x.add_argument("--duration", type=number(0.0, 86_400.0), metavar="SECONDS")
    x.add_argument("--seed", type=whole_number(0, 2**63 - 1))
    x.add_argument(
        "--param",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a model parameter (JSON value), repeatable",
    )
    x.add_argument(
        "--ref",
        action="append",
        default=[],
        metavar="VARIANT_ID",
        help="a reference variant (derive; with --into: refine), repeatable",
    )
    x.add_argument("--into", metavar="ASSET_ID", help="refine this asset (a new variant)")
    x.add_argument("--count", type=whole_number(1, 1000), default=1)
    x.add_argument("--mode", choices=("explore", "set"), default="explore")
    style = x.add_mutually_exclusive_group()
    style.add_argument("--style", metavar="PRESET_ID", help="style preset to use")
    style.add_argument("--no-style", action="store_true", help="don't use the default style")
    x.add_argument("--wait", action="store_true", help="run the queue until these jobs end")
    x.add_argument(
        "--estimate", action="store_true", help="print the estimated cost and queue nothing"
    )
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("jobs", help="the job queue")
    x.add_argument("space")
    x.add_argument("--all", action="store_true", help="include finished jobs")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("retry", help="retry a failed variant with its stored recipe")
    x.add_argument("space")
    x.add_argument("variant_id")

    x = sub.add_parser("cancel", help="cancel a queued or running job")
    x.add_argument("space")
    x.add_argument("job_id")

    x = sub.add_parser("worker", help="run the job queue headless")
    x.add_argument("space")
    x.add_argument("--until-idle", action="store_true", help="stop when nothing is left to do")

    x = sub.add_parser("usage", help="what generation has used, per provider and model")
    x.add_argument("space", nargs="?")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("settings", help="show or change a setting (e.g. jobs.local.concurrency)")
    x.add_argument("key", nargs="?")
    x.add_argument("value", nargs="?")
    x.add_argument("--unset", action="store_true")


def _params(items: Iterable[str]) -> dict[str, Any]:
    """``KEY=VALUE`` pairs; a VALUE that is JSON is read as JSON (within the limits),
    any other VALUE is a string."""
    from studio.core.jsontext import JsonSyntaxError, parse_json
    from studio.core.limits import shown

    out: dict[str, Any] = {}
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not key:
            raise UserError(f"--param {shown(item)!r} must look like KEY=VALUE")
        try:
            out[key] = parse_json(raw, f"--param {shown(key)}")
        except JsonSyntaxError:
            out[key] = raw
    return out


def cmd_generate(args: argparse.Namespace) -> int:
    from studio.core import commands as c
    from studio.core.actor import Actor

    options = c.GenerationOptions(
        provider=args.provider,
        model=args.model,
        size=args.size,
        aspect_ratio=args.aspect,
        duration_s=args.duration,
        seed=args.seed,
        params=_params(args.param),
        style_id=args.style,
        no_style=args.no_style,
    )
    kind = c.MediaKindName(args.kind)
    refs = tuple(args.ref)
    cmd: c.Command
    if args.count > 1 or args.mode == "set":
        cmd = c.RequestBatch(
            args.prompt,
            kind,
            args.count,
            c.BatchMode(args.mode),
            type=args.type,
            name=args.name,
            asset_id=args.into,
            references=refs,
            options=options,
        )
    elif args.into:
        cmd = c.RequestRefine(args.into, args.prompt, references=refs, options=options)
    else:
        cmd = c.RequestGeneration(
            args.prompt, kind, type=args.type, name=args.name, references=refs, options=options
        )
    with studio_from(args) as studio:
        from studio.cli import share

        remote = None if args.estimate else share.joined(studio, args.space)
        if remote is not None:  # a joined space: its host queues and runs the jobs
            from studio.clock import TimeSortedIds

            parts = _parts(_NewIds(TimeSortedIds(studio.clock)), cmd)  # as on a local space
            return share.generate_remote(studio, remote, parts, wait=args.wait, as_json=args.json)
    with studio_from(args) as studio, studio.open_space(args.space) as space:
        if args.estimate:
            est = _estimate(space, cmd)
            if args.json:
                print_json({"usd": est.usd, "units": est.units, "unit": est.unit, "note": est.note})
            else:
                print(f"estimated cost: ${est.usd:.4f} ({est.units:g} {est.unit}, {est.note})")
            return EXIT_OK
        step = space.apply_step(_parts(space, cmd), Actor.local_owner())
        asset_ids, variants, jobs = _created(step.applied)
        out: dict[str, Any] = {"asset_ids": asset_ids, "variant_ids": variants, "job_ids": jobs}
        if not args.json:
            for vid, jid in zip(variants, jobs, strict=True):
                print(f"variant {vid} job {jid} queued")
            sys.stdout.flush()
        failed = 0
        if args.wait:
            from studio.cli.waiting import run_queue

            failed = run_queue(studio, space, set(jobs))
            rows = [space.variant_detail(v).row for v in variants]
            out["variants"] = [
                {"id": v.id, "status": v.status, "error": v.error_message} for v in rows
            ]
        if args.json:
            print_json(out)
        elif args.wait:
            for v in out["variants"]:
                extra = f": {v['error']}" if v["error"] else ""
                print(f"variant {v['id']} {v['status']}{extra}")
    return EXIT_ERROR if failed else EXIT_OK


def _estimate(space: Any, cmd: Any) -> Any:
    """What ``cmd`` would cost; a batch sent in parts costs its parts' sum (the same per
    result: one part's estimate, scaled)."""
    import dataclasses

    from studio.core import commands as c
    from studio.core.handlers.generate import MAX_BATCH

    if not isinstance(cmd, c.RequestBatch) or cmd.count <= MAX_BATCH:
        return space.estimate(cmd)
    est = space.estimate(dataclasses.replace(cmd, count=MAX_BATCH))
    scale = cmd.count / MAX_BATCH
    return dataclasses.replace(est, usd=est.usd * scale, units=est.units * scale)


def _parts(space: Any, cmd: Any) -> list[Any]:
    """``cmd`` as one step's commands: a batch over one request's limit becomes parts of
    at most that many results (an explore batch's asset made first, its parts adding to
    it), so ``--count 40`` is one batch, undone at once, in three requests."""
    import dataclasses

    from studio.core import commands as c
    from studio.core.handlers.generate import MAX_BATCH, default_asset_name

    if not isinstance(cmd, c.RequestBatch) or cmd.count <= MAX_BATCH:
        return [cmd]
    head: list[Any] = []
    base = dataclasses.replace(cmd, total=cmd.count)
    if cmd.mode is c.BatchMode.EXPLORE and cmd.asset_id is None:
        aid = space.new_id()
        name = cmd.name or default_asset_name(cmd.prompt)
        head.append(c.CreateAsset(name[:200], cmd.media_kind, type=cmd.type, asset_id=aid))
        base = dataclasses.replace(base, asset_id=aid, continues=True)
    return head + [
        dataclasses.replace(base, first=first, count=min(MAX_BATCH, cmd.count - first))
        for first in range(0, cmd.count, MAX_BATCH)
    ]


class _NewIds:
    """What :func:`_parts` needs of a space (new ids) where no space is open here."""

    def __init__(self, ids: Any) -> None:
        self.new_id = ids


def _created(applied: Any) -> tuple[list[str], list[str], list[str]]:
    """The assets, variants and jobs a generation step made, in order."""
    out: tuple[list[str], list[str], list[str]] = ([], [], [])
    for a in applied:
        for keys, into in zip(
            (("asset_ids", "asset_id"), ("variant_ids", "variant_id"), ("job_ids", "job_id")),
            out,
            strict=True,
        ):
            value = a.created.get(keys[0]) or a.created.get(keys[1]) or ""
            into.extend(v for v in value.split(",") if v and v not in into)
    return out


def cmd_jobs(args: argparse.Namespace) -> int:
    from studio.store.records import row_json

    with studio_from(args) as studio, studio.open_space(args.space) as space:
        jobs = space.jobs(active_only=not args.all)
        position = space.read.queue_positions()
        paused = space.read.queue_paused()
    if args.json:
        print_json(
            {
                "paused": paused,
                "jobs": [dict(row_json(j), position=position.get(j.id)) for j in jobs],
            }
        )
        return EXIT_OK
    if paused:
        print('the queue is paused (studio apply SPACE \'{"command": "queue:resume"}\')')
    table(
        [
            [
                str(position.get(j.id, "-")),
                j.id,
                j.status,
                j.provider,
                j.variant_id,
                f"{j.attempts}/{j.max_attempts}",
                f"{int((j.progress or 0) * 100)}%",
                f"{j.error_code}: {j.error_message}" if j.error_code else "",
            ]
            for j in jobs
        ],
        ["POS", "JOB", "STATUS", "PROVIDER", "VARIANT", "TRIES", "PROGRESS", "LAST ERROR"],
    )
    return EXIT_OK


def cmd_retry(args: argparse.Namespace) -> int:
    from studio.core import commands as c
    from studio.core.actor import Actor

    with studio_from(args) as studio, studio.open_space(args.space) as space:
        applied = space.apply(c.RetryVariant(args.variant_id), Actor.local_owner())
    print(f"variant {args.variant_id} queued again as job {applied.created['job_id']}")
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    from studio.core import commands as c
    from studio.core.actor import Actor

    with studio_from(args) as studio, studio.open_space(args.space) as space:
        space.apply(c.CancelJob(args.job_id), Actor.local_owner())
    print(f"job {args.job_id} cancelled")
    return EXIT_OK


def cmd_worker(args: argparse.Namespace) -> int:
    from studio.cli.waiting import run_queue

    with studio_from(args) as studio, studio.open_space(args.space) as space:
        if args.until_idle:
            failed = run_queue(studio, space, None)
            return EXIT_ERROR if failed else EXIT_OK
        print("running the queue; Ctrl-C stops", file=sys.stderr)
        run_queue(studio, space, None, forever=True)
        return EXIT_OK


def cmd_usage(args: argparse.Namespace) -> int:
    with studio_from(args) as studio:
        space_id = studio.resolve(args.space).id if args.space else None
        totals = studio.library.usage_totals(space_id)
    if args.json:
        print_json([t._asdict() for t in totals])
        return EXIT_OK
    table(
        [
            [
                t.provider,
                t.model,
                str(t.jobs),
                f"{t.units:g} {t.unit}".strip(),
                f"${t.cost_usd:.4f}",
            ]
            for t in totals
        ],
        ["PROVIDER", "MODEL", "JOBS", "UNITS", "EST. COST"],
    )
    print(f"total estimated cost: ${sum(t.cost_usd for t in totals):.4f}")
    return EXIT_OK


def cmd_settings(args: argparse.Namespace) -> int:
    """List, read, change (checked) or unset a setting; bad stored values are shown as
    such (the studio uses the default in their place)."""
    from studio.core import settings

    with studio_from(args) as studio:
        lib = studio.library
        if args.key is None:
            for key, value in lib.settings():
                why = settings.problem(key, value)
                note = f"  (ignored: it {why})" if why else ""
                print(f"{key} = {value}{note}")
        elif args.unset:
            if args.value is not None:
                raise UserError("--unset takes no value")
            if lib.setting(args.key) is None:
                settings.spec_for(args.key)
            lib.delete_setting(args.key)
        elif args.value is None:
            value = lib.setting(args.key)
            if value is None:
                settings.spec_for(args.key)
                raise UserError(f"{args.key} is not set")
            why = settings.problem(args.key, value)
            if why:
                print(
                    f"studio: warning: {args.key} is ignored: it {why}; the default is used",
                    file=sys.stderr,
                )
            print(value)
        else:
            settings.put(lib, args.key, args.value)
    return EXIT_OK


COMMANDS = {
    "generate": cmd_generate,
    "jobs": cmd_jobs,
    "retry": cmd_retry,
    "cancel": cmd_cancel,
    "worker": cmd_worker,
    "usage": cmd_usage,
    "settings": cmd_settings,
}
