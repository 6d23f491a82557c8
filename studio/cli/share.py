"""``studio serve / invite / join / sync / peers / revoke``: live sharing from the command
line (see docs/sharing.md), and ``studio apply`` on a joined space (sent to its host)."""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
from pathlib import Path

from studio.cli.common import EXIT_OK, number, print_json, studio_from, table, when

TYPE_CHECKING = False  # typing is not imported at run time: `studio` starts faster
if TYPE_CHECKING:  # asyncio is imported where used: most commands never need it
    import asyncio
    from typing import Any

STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def add_parsers(sub: Any) -> None:
    x = sub.add_parser("serve", help="share spaces with invited devices until stopped")
    x.add_argument("spaces", nargs="+", metavar="SPACE")
    x.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all)")
    x.add_argument("--port", type=int, default=0, help="port (default: any free one)")
    x.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a Host name peers may use (besides this machine's names), repeatable",
    )
    x.add_argument(
        "--no-jobs", action="store_true", help="do not run generation jobs here (a worker does)"
    )
    x.add_argument(
        "--no-announce", action="store_true", help="do not announce this host on the LAN (mDNS)"
    )
    x.add_argument(
        "--behind-proxy",
        metavar="HOST:PORT",
        help="a TLS-terminating reverse proxy forwards this public address to --host/--port "
        "(this host then listens without TLS, on loopback only); needs --proxy-cert",
    )
    x.add_argument(
        "--proxy-cert",
        metavar="FILE",
        type=Path,
        help="the certificate (PEM or DER) the proxy presents: invites pin it",
    )
    x.add_argument("--json", action="store_true", help="print the address as one JSON line")
    x.add_argument(
        "--app",
        action="store_true",
        help="serve for the desktop app: run at background priority, print who is connected "
        "as JSON lines, stop when stdin closes",
    )

    x = sub.add_parser("discover", help="list the hosts sharing spaces on the LAN (mDNS)")
    x.add_argument(
        "--wait", type=number(0.1, 60.0), default=2.0, metavar="S", help="listen this long"
    )
    x.add_argument(
        "--interface",
        action="append",
        default=[],
        metavar="ADDR",
        type=_ipv4,
        help="listen on the interface with this IPv4 address only (default: all), repeatable",
    )
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("invite", help="print a one-time invite link to a shared space")
    x.add_argument("space")
    x.add_argument("--role", choices=("editor", "viewer"), required=True)
    x.add_argument("--expires", default="24h", help="how long the link works (30m, 24h, 7d)")
    x.add_argument("--address", metavar="HOST:PORT", help="default: where `studio serve` runs")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("join", help="join a shared space from an invite link")
    x.add_argument("link")
    x.add_argument("--name", help="this device's name as the host shows it")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("sync", help="bring a joined space up to date from its host")
    x.add_argument("space")
    x.add_argument("--follow", action="store_true", help="stay connected; reconnect when cut")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("fetch", help="fetch media of a joined space from its host")
    x.add_argument("space")
    x.add_argument("variants", nargs="*", metavar="VARIANT_ID", help="default: all missing")
    x.add_argument("--what", choices=("original", "thumb", "poster"), default="original")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("peers", help="the devices a shared space was opened to")
    x.add_argument("space")
    x.add_argument("--json", action="store_true")

    x = sub.add_parser("revoke", help="revoke a device (its connection closes at once)")
    x.add_argument("space")
    x.add_argument("device", help="device id or name")


def _ipv4(text: str) -> str:
    import ipaddress

    try:
        return str(ipaddress.IPv4Address(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text[:60]!r} is not an IPv4 address") from None


def _stop_event() -> asyncio.Event:
    import asyncio

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in STOP_SIGNALS:
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop.set)
    return stop


def _proxy_front(args: argparse.Namespace) -> Any:
    from studio.core.errors import ValidationError
    from studio.sync.host import ProxyFront
    from studio.sync.tls import certificate_file_fingerprint

    if args.behind_proxy is None and args.proxy_cert is None:
        return None
    if args.behind_proxy is None or args.proxy_cert is None:
        raise ValidationError("--behind-proxy and --proxy-cert go together")
    return ProxyFront(args.behind_proxy, certificate_file_fingerprint(args.proxy_cert))


def cmd_serve(args: argparse.Namespace) -> int:
    import asyncio

    from studio.sync.host import Host

    proxy = _proxy_front(args)
    if args.app:
        from studio.jobs.pump import BACKGROUND_NICE

        with contextlib.suppress(OSError, AttributeError):  # before any thread: all inherit
            os.setpriority(os.PRIO_PROCESS, 0, BACKGROUND_NICE)

    async def main() -> None:
        with studio_from(args) as studio:
            host = Host(
                studio,
                args.spaces,
                host=args.host,
                port=args.port,
                allow_hosts=args.allow_host,
                jobs=not args.no_jobs,
                proxy=proxy,
            )
            stop = _stop_event()
            await host.start()
            announcer = None
            telling = None
            try:
                slugs = [s.space.slug for s in host._served.values()]
                address = host.invite_address
                # in the background: serving does not wait for it (not behind a proxy:
                # peers reach the proxy's address, not this machine's)
                if not args.no_announce and proxy is None:
                    announcer = _announcer(host, args.host, len(slugs))
                    announcing = asyncio.get_running_loop().create_task(_announce(announcer))
                if args.json:
                    print_json_line(
                        {
                            "address": address,
                            "port": host.port,
                            "fingerprint": host.fingerprint,
                            "listening": f"{host.address_host}:{host.port}",
                            "host_id": host.host_id,
                            "spaces": slugs,
                            "announce": announcer is not None,
                        }
                    )
                else:
                    print(f"sharing {', '.join(slugs)} on {address}")
                    print(f"fingerprint {host.fingerprint}")
                    if proxy is not None:
                        print(f"listening on {host.address_host}:{host.port} (no TLS: the proxy)")
                    if announcer is not None:
                        print("announcing on the LAN (studio discover); --no-announce: stay quiet")
                    print("invite with `studio invite SPACE --role editor`; stop with Ctrl-C")
                sys.stdout.flush()
                if args.app:
                    _follow_stdin(stop, host)
                    telling = asyncio.get_running_loop().create_task(_tell_people(host))
                await stop.wait()
            finally:
                if telling is not None:
                    telling.cancel()
                if announcer is not None:
                    announcing.cancel()
                    with contextlib.suppress(BaseException):
                        await announcing
                    await announcer.close()
                await host.close()

    asyncio.run(main())
    return EXIT_OK


APP_PEOPLE_EVERY_S = 0.2
"""How often ``serve --app`` looks whether who is connected (or their presence) changed."""


def _follow_stdin(stop: asyncio.Event, host: Any) -> None:
    """``serve --app``: the app holds our stdin. Each line it writes is JSON
    ``{"own": {"space": id, "member": roster entry or null}}`` — what the person at the
    app has selected, for the peers' rosters; when stdin closes (the app quit or died),
    stop. A line that is not such an object is ignored."""
    import asyncio
    import json
    import threading

    from studio.core.errors import ValidationError
    from studio.sync.presence import Member, Presence

    loop = asyncio.get_running_loop()

    def own(line: bytes) -> None:
        try:
            msg = json.loads(line)
            got = msg["own"]
            space_id, row = got["space"], got["member"]
            member = None
            if row is not None:
                member = Member(
                    str(row["device_id"]), str(row["name"]), str(row["role"]),
                    Presence.from_message(row),
                )  # fmt: skip
        except (ValueError, KeyError, TypeError, AttributeError, ValidationError):
            return
        if isinstance(space_id, str):
            loop.call_soon_threadsafe(host.set_own_presence, space_id, member)

    def wait() -> None:
        with contextlib.suppress(OSError, ValueError):
            while line := sys.stdin.buffer.readline(1 << 20):
                own(line)
        loop.call_soon_threadsafe(stop.set)

    threading.Thread(target=wait, name="stdin-watch", daemon=True).start()


async def _tell_people(host: Any) -> None:
    """``serve --app``: a JSON line ``{"people": {space id: roster}}`` each time who is
    connected, or what they view or select, changed."""
    import asyncio
    import json

    from studio.sync.presence import roster

    told = None
    while True:
        now = {sid: roster(host.members(sid)) for sid in host._served}
        if now != told:
            told = now
            print(json.dumps({"people": now}, ensure_ascii=False), flush=True)
        await asyncio.sleep(APP_PEOPLE_EVERY_S)


def _announcer(host: Any, bind: str, spaces: int) -> Any:
    """An mDNS announcer of ``host`` on the interface it listens on."""
    import socket

    from studio.sync.discovery import Announcer, announce_interfaces, host_announcement

    assert host.cert is not None
    return Announcer(
        host_announcement(
            host.host_id,
            socket.gethostname() or "Forge Studio",
            host.port,
            spaces,
            host.cert.fingerprint,
            [host.address_host],
        ),
        announce_interfaces(bind),
    )


async def _announce(announcer: Any) -> None:
    if not await announcer.start():
        print(
            "studio: could not announce this host on the LAN; give peers its host:port",
            file=sys.stderr,
        )


def cmd_discover(args: argparse.Namespace) -> int:
    import asyncio

    from studio.sync.discovery import discover

    found = asyncio.run(discover(args.wait, args.interface or None))
    if args.json:
        print_json([h.to_json() for h in found])
    elif found:
        from studio.sync.wire import SYNC_PROTOCOL

        table(
            [
                [
                    h.name,
                    h.address(),
                    str(h.spaces),
                    h.host_id,
                    h.fingerprint,
                    "" if h.protocol == SYNC_PROTOCOL else f"protocol {h.protocol}: update",
                ]
                for h in found
            ],
            ["HOST", "ADDRESS", "SPACES", "HOST ID", "FINGERPRINT", "NOTE"],
        )
    else:
        print(f"no host announced itself within {args.wait:g} s (a manual host:port still works)")
    return EXIT_OK


def print_json_line(value: Any) -> None:
    import json

    print(json.dumps(value, ensure_ascii=False))


def cmd_invite(args: argparse.Namespace) -> int:
    from studio.sync.admin import make_invite, parse_duration

    expires = parse_duration(args.expires)
    with studio_from(args) as studio:
        invite = make_invite(studio, args.space, args.role, expires, args.address)
        expires_at = studio.clock() + expires
    if args.json:
        print_json(
            {
                "link": invite.link(),
                "role": args.role,
                "expires_at": expires_at,
                "fingerprint": invite.fingerprint,
            }
        )
    else:
        print(invite.link())
    return EXIT_OK


def cmd_join(args: argparse.Namespace) -> int:
    import asyncio
    import socket

    from studio.sync.peer import join

    name = (args.name or socket.gethostname() or "peer")[:64]
    with studio_from(args) as studio:
        entry = asyncio.run(join(studio, args.link, name))
    if args.json:
        print_json({"slug": entry.slug, "space_id": entry.id, "name": entry.name})
    else:
        print(entry.slug)
    return EXIT_OK


def cmd_sync(args: argparse.Namespace) -> int:
    import asyncio

    from studio.sync.peer import sync

    with studio_from(args) as studio:
        slug = studio.resolve(args.space).slug
        if args.follow:
            asyncio.run(_follow(studio, slug))
            return EXIT_OK
        seq = asyncio.run(sync(studio, slug))
    if args.json:
        print_json({"slug": slug, "seq": seq})
    else:
        print(f"{slug} is up to date as of change {seq}")
    return EXIT_OK


async def _follow(studio: Any, slug: str) -> None:
    from studio.sync.peer import follow

    def live(seq: int) -> None:
        print(f"{slug}: live as of change {seq}", file=sys.stderr)

    def retry(exc: Exception) -> None:
        print(f"studio: {exc}; retrying", file=sys.stderr)

    await follow(studio, slug, _stop_event(), on_live=live, on_retry=retry)


def cmd_fetch(args: argparse.Namespace) -> int:
    import asyncio

    from studio.core.errors import ValidationError
    from studio.sync.peer import fetch_media

    with studio_from(args) as studio:
        slug = joined(studio, args.space)
        if slug is None:
            raise ValidationError(f"{args.space} is not a space joined from a host")
        got = asyncio.run(fetch_media(studio, slug, args.variants or None, args.what))
    if args.json:
        print_json([{"path": str(d.dest), "bytes": d.offset + d.received} for d in got])
    else:
        for d in got:
            print(d.dest)
        print(f"fetched {len(got)} file(s)", file=sys.stderr)
    return EXIT_OK


def cmd_peers(args: argparse.Namespace) -> int:
    from studio.sync.admin import devices

    with studio_from(args) as studio:
        found = devices(studio, args.space)
        now = studio.clock()
    state = {
        d.id: "revoked" if d.revoked_at else "online" if d.online(now) else "offline" for d in found
    }
    if args.json:
        print_json([dict(d._asdict(), state=state[d.id]) for d in found])
    elif found:
        table(
            [
                [
                    d.id,
                    d.name,
                    d.role,
                    when(d.created_at),
                    when(d.last_seen_at),
                    state[d.id],
                ]
                for d in found
            ],
            ["DEVICE", "NAME", "ROLE", "JOINED", "LAST SEEN", "STATE"],
        )
    else:
        print(f"no device has joined {args.space}")
    return EXIT_OK


def cmd_revoke(args: argparse.Namespace) -> int:
    from studio.sync.admin import revoke

    with studio_from(args) as studio:
        device = revoke(studio, args.space, args.device)
    print(f"revoked {device.name} ({device.id})")
    return EXIT_OK


def joined(studio: Any, ref: str) -> str | None:
    """The local slug of ``ref`` when it is a space joined from a host, else None."""
    from studio.core.errors import NotFoundError
    from studio.sync.home import open_sharing, sharing_folder

    if not (sharing_folder(studio) / "sharing.db").exists():
        return None
    try:
        slug = str(studio.resolve(ref).slug)
    except NotFoundError:
        return None
    store = open_sharing(studio)
    try:
        return slug if store.remote(slug) is not None else None
    finally:
        store.close()


REFRESH_TIMEOUT_S = 1.0
"""How long a read on a joined space waits for its host before printing from the replica."""


def refresh(studio: Any, ref: str) -> None:
    """Before a read of a joined space: catch it up when its host answers within about
    a second; otherwise say, on stderr, that it shows the replica as of its last change."""
    import asyncio

    slug = joined(studio, ref)
    if slug is None:
        return
    from studio.core.errors import StudioError
    from studio.sync.peer import sync

    try:
        asyncio.run(sync(studio, slug, timeout=REFRESH_TIMEOUT_S))
    except StudioError as exc:
        with studio.open_space(slug) as space:
            seq = space.last_seq()
        print(f"studio: {slug} is offline as of change {seq} ({exc})", file=sys.stderr)


def travel_remote(studio: Any, slug: str, *, undo: bool, as_json: bool) -> int:
    """``studio undo/redo`` on a joined space: the host undoes this device's last step."""
    import asyncio

    from studio.sync.peer import travel

    result = asyncio.run(travel(studio, slug, undo=undo))
    out = _with_events(studio, slug, result)
    out["action"] = "undo" if undo else "redo"
    if as_json:
        print_json(out)
    else:
        word = "undid" if undo else "redid"
        seqs = out["seqs"]
        where = f"change {seqs[0]}" if len(seqs) == 1 else f"changes {seqs[0]}–{seqs[-1]}"
        print(f"{word} your last step as {where} (by the host)")
    return EXIT_OK


def _with_events(studio: Any, slug: str, result: dict[str, Any]) -> dict[str, Any]:
    """A host's result with the events of its changes, read from the replica."""
    seqs = [int(s) for s in result.get("seqs", [])]
    events: list[dict[str, Any]] = []
    if seqs:
        with studio.open_space(slug) as space:
            for change in space.changes(since=min(seqs) - 1, limit=len(seqs)):
                if change.seq in seqs:
                    events += [e.to_json() for e in change.to_events()]
    return {
        "step": result.get("step"),
        "seqs": seqs,
        "created": result.get("created", {}),
        "events": events,
    }


def apply_remote(studio: Any, slug: str, cmds: list[Any]) -> dict[str, Any]:
    """Send commands to the host of a joined space as one step; return what the local
    ``apply`` prints (step, seqs, created, events), once the replica holds the step."""
    import asyncio

    from studio.core.commands import command_to_json
    from studio.sync.peer import send

    result = asyncio.run(send(studio, slug, [command_to_json(c) for c in cmds]))
    if result.get("queued"):
        return {"queued": True, "mutation_id": result["mutation_id"], "reason": result["reason"]}
    return _with_events(studio, slug, result)


def generate_remote(studio: Any, slug: str, cmds: list[Any], *, wait: bool, as_json: bool) -> int:
    """``studio generate`` on a joined space: the host queues and runs the jobs (with its
    own provider keys); ``wait`` follows the replica until the placeholders fill in.
    ``cmds``: one request, or a batch over one request's limit in parts (one step)."""
    import asyncio

    from studio.cli.common import EXIT_ERROR
    from studio.sync.placeholders import wait_variants

    out = apply_remote(studio, slug, cmds)
    if out.get("queued"):
        if as_json:
            print_json(out)
        else:
            print(f"queued: {out['reason']}; `studio sync {slug}` sends it")
        if wait:
            print("studio: the host is out of reach, so there is nothing to wait for yet",
                  file=sys.stderr)  # fmt: skip
            return EXIT_ERROR
        return EXIT_OK
    created = out["created"]

    def ids(*keys: str) -> list[str]:
        if len(cmds) > 1:  # a step's ``created`` keeps its last part's ids: its events
            made = f"{keys[0].removesuffix('_ids')}:created"
            return [str(e["data"]["id"]) for e in out["events"] if e.get("type") == made]
        value = next((created[k] for k in keys if created.get(k)), "")
        return [v for v in str(value).split(",") if v]

    variants = ids("variant_ids", "variant_id")
    jobs = ids("job_ids", "job_id")
    result: dict[str, Any] = {
        "asset_ids": ids("asset_ids", "asset_id"),
        "variant_ids": variants,
        "job_ids": jobs,
    }
    if not as_json:
        for vid, jid in zip(variants, jobs, strict=False):
            print(f"variant {vid} job {jid} queued on the host")
        sys.stdout.flush()
    failed = 0
    if wait:

        def retry(exc: Exception) -> None:
            print(f"studio: {exc}; retrying", file=sys.stderr)

        ended = asyncio.run(wait_variants(studio, slug, variants, on_retry=retry))
        paths = _fetch_finished(studio, slug, [v.id for v in ended if v.status == "completed"])
        result["variants"] = [
            {"id": v.id, "status": v.status, "error": v.error, "path": paths.get(v.id)}
            for v in ended
        ]
        failed = sum(1 for v in ended if v.status != "completed")
    if as_json:
        print_json(result)
    elif wait:
        for v in result["variants"]:
            extra = f": {v['error']}" if v["error"] else ""
            where = f" {v['path']}" if v["path"] else ""
            print(f"variant {v['id']} {v['status']}{extra}{where}")
    return EXIT_ERROR if failed else EXIT_OK


def _fetch_finished(studio: Any, slug: str, variant_ids: list[str]) -> dict[str, str]:
    """Fetch the originals of finished variants (as a local ``generate --wait`` leaves
    them on disk); {variant id: local path}. A failed fetch is a warning, not a failure:
    the generation succeeded and ``studio fetch`` tries again."""
    import asyncio

    from studio.core.errors import StudioError
    from studio.sync.peer import fetch_media

    if not variant_ids:
        return {}
    try:
        asyncio.run(fetch_media(studio, slug, variant_ids, "original"))
    except StudioError as exc:
        print(f"studio: could not fetch the files yet ({exc}); `studio fetch {slug}` "
              "tries again", file=sys.stderr)  # fmt: skip
    paths: dict[str, str] = {}
    with studio.open_space(slug) as space:
        for vid in variant_ids:
            row = space.variant_detail(vid).row
            if row.media_path and (space.media_dir / row.media_path).is_file():
                paths[vid] = str(space.media_dir / row.media_path)
    return paths


COMMANDS = {
    "serve": cmd_serve,
    "discover": cmd_discover,
    "invite": cmd_invite,
    "join": cmd_join,
    "sync": cmd_sync,
    "fetch": cmd_fetch,
    "peers": cmd_peers,
    "revoke": cmd_revoke,
}
