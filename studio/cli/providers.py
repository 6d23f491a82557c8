"""CLI commands for API keys and providers: ``keys set|list|delete``, ``providers``."""

from __future__ import annotations

import argparse
import sys

from studio.cli.common import EXIT_OK, UserError, print_json, studio_from, table

TYPE_CHECKING = False  # typing is not imported at run time: `studio` starts faster
if TYPE_CHECKING:
    from typing import Any


def add_parsers(sub: Any) -> None:
    keys = sub.add_parser("keys", help="API keys in the OS keyring (values are never shown)")
    ks = keys.add_subparsers(dest="keys_cmd", metavar="ACTION", required=True)
    x = ks.add_parser(
        "set", help="store a key (from a hidden prompt, or one line on stdin when piped)"
    )
    x.add_argument("provider", help="gemini (also used by veo and lyria), elevenlabs, anthropic")
    x = ks.add_parser("list", help="which keys are set, and where they come from")
    x.add_argument("--json", action="store_true")
    x = ks.add_parser("delete", help="remove a key from the keyring")
    x.add_argument("provider")
    x = ks.add_parser(
        "file",
        help="where no keyring exists: keep keys in a file only you can read (on), or "
        "delete that file and use environment variables (off)",
    )
    x.add_argument("state", choices=("on", "off"))

    x = sub.add_parser("providers", help="providers, their models and whether they have a key")
    x.add_argument("--json", action="store_true")
    x.add_argument(
        "--refresh",
        action="store_true",
        help="fetch each keyed provider's live model list now (else a day-old cache is used)",
    )

    x = sub.add_parser("voices", help="the ElevenLabs account's voices (names to use as voice_id)")
    x.add_argument("--json", action="store_true")
    x.add_argument("--refresh", action="store_true", help="fetch the list now")


def _store(args: argparse.Namespace, announce: bool = False) -> Any:
    from studio.keys import KEY_FILE_NAME, KeyStore
    from studio.paths import default_home

    home = args.home if args.home is not None else default_home()
    return KeyStore(announce=announce, key_file=home / KEY_FILE_NAME)


def _warn(store: Any) -> None:
    if store.warning:
        print(f"studio: warning: {store.warning}", file=sys.stderr)


def _read_key(name: str) -> str:
    """The key from a hidden prompt, or one line of stdin (strict ASCII-compatible UTF-8:
    an undecodable key gets a clear error, never a traceback that could echo it)."""
    from studio.core.limits import check_text

    if sys.stdin.isatty():
        import getpass

        key = getpass.getpass(f"{name} API key (input hidden): ")
    else:
        buffer = getattr(sys.stdin, "buffer", None)
        if buffer is None:
            key = sys.stdin.readline(4096)
        else:
            raw: bytes = buffer.readline(4096)
            try:
                key = raw.decode("utf-8")
            except UnicodeDecodeError:
                raise UserError(f"the {name} key on stdin is not valid UTF-8 text") from None
    return check_text(key, f"the {name} key", 4096)  # the message never holds the key


def cmd_keys(args: argparse.Namespace) -> int:
    from studio.keys import ENV_VARS, KeyStoreError, key_name

    store = _store(args)
    try:
        if args.keys_cmd == "set":
            name = key_name(args.provider)
            store.set(name, _read_key(name))
            where = "the key file" if store.source(name) == "file" else "the OS keyring"
            print(f"stored the {name} key in {where} (used by {', '.join(_users(name))})")
        elif args.keys_cmd == "file":
            from studio.keys import KEY_FILE_RISK

            store.use_key_file(args.state == "on")
            if args.state == "on":
                print(f"keys go to {store.key_file} when no keyring is usable. {KEY_FILE_RISK}")
            else:
                print("the key file is gone; keys come from the keyring or the environment")
        elif args.keys_cmd == "delete":
            name = key_name(args.provider)
            if not store.delete(name):
                env = " (it comes from the environment)" if store.source(name) == "env" else ""
                raise UserError(f"there is no {name} key in the keyring{env}")
            print(f"deleted the {name} key from the OS keyring")
        else:
            rows = []
            for name, source in store.status():
                rows.append(
                    {
                        "key": name,
                        "source": source,
                        "env_var": ENV_VARS[name],
                        "used_by": _users(name),
                    }
                )
            if args.json:
                print_json({"keys": rows, "warning": store.warning})
            else:
                table(
                    [
                        [
                            r["key"],
                            _source_words(r["source"], r["env_var"]),
                            ", ".join(r["used_by"]),
                        ]
                        for r in rows
                    ],
                    ["KEY", "SET", "USED BY"],
                )
            _warn(store)
    except KeyStoreError as exc:
        raise UserError(str(exc)) from None
    return EXIT_OK


def _users(name: str) -> list[str]:
    from studio.keys import KEY_FOR

    return [p for p, k in KEY_FOR.items() if k == name and p != "claude"]


def _source_words(source: str | None, env_var: str) -> str:
    if source == "keyring":
        return "yes (keyring)"
    if source == "env":
        return f"yes ({env_var})"
    if source == "file":
        return "yes (key file)"
    return "no"


def _model_json(model: Any, provider: str, listed: bool | None) -> dict[str, Any]:
    import dataclasses

    from workers import prices

    out = dataclasses.asdict(model)
    out["listed"] = listed  # in the provider's live list (None: no list covers it)
    if (provider, model.id) in prices.PRICES:
        p = prices.PRICES[(provider, model.id)]
        out["price"] = {
            "usd": p.usd,
            "unit": p.unit,
            "by_size": dict(p.by_size or {}),
            "source": p.source,
            "as_of": p.as_of,
        }
    return out


def _listing(library: Any, name: str, caps: Any) -> tuple[Any, Any]:
    """(the provider's cached list or None, its capabilities as that list shows them)."""
    import importlib

    from studio.providers_setup import MODEL, day
    from workers.registry import CLOUD_PROVIDERS, listed_capabilities

    cached = library.provider_list(name, MODEL)
    if cached is None:
        return None, caps
    module, cls = CLOUD_PROVIDERS[name]
    family = getattr(getattr(importlib.import_module(module), cls), "LIST_FAMILY", ())
    ids = [i.item_id for i in cached.items]
    return cached, listed_capabilities(caps, family, ids, day(cached.fetched_at))


def cmd_providers(args: argparse.Namespace) -> int:
    from studio.core import settings
    from studio.keys import KEY_FOR
    from studio.providers_setup import day, refresh_model_lists
    from workers import prices
    from workers.local import CAPABILITIES as LOCAL
    from workers.registry import CLOUD_PROVIDERS, cloud_capabilities

    store = _store(args)
    lists: dict[str, tuple[Any, Any]] = {}
    with studio_from(args) as studio:
        base_urls = {name: settings.base_url(studio.library, name) for name in CLOUD_PROVIDERS}
        outcomes = refresh_model_lists(studio.library) if args.refresh else []
        for name in CLOUD_PROVIDERS:
            lists[name] = _listing(studio.library, name, cloud_capabilities(name))
    for o in outcomes:
        if o.problem is not None:
            print(f"studio: warning: {o.problem}", file=sys.stderr)
        elif not args.json:
            print(f"{o.provider}: {o.fetched} models listed for this key")
    if args.refresh and not outcomes:
        print("studio: no provider with a key has a live model list to fetch", file=sys.stderr)
    if args.refresh and outcomes and all(o.problem is not None for o in outcomes):
        raise UserError("no model list could be fetched (see the warnings above)")
    entries: list[dict[str, Any]] = [
        {"name": "local", "label": LOCAL.label, "configured": True, "key": None, "caps": LOCAL}
    ]
    for name in CLOUD_PROVIDERS:
        source = store.source(name)
        cached, shown = lists[name]
        entries.append(
            {
                "name": name,
                "label": cloud_capabilities(name).label,
                "configured": source is not None,
                "key": KEY_FOR[name],
                "key_source": source,
                "base_url": base_urls[name],
                "model_list": None
                if cached is None
                else {"fetched": day(cached.fetched_at), "count": len(cached.items)},
                "caps": cloud_capabilities(name),
                "shown": shown,
            }
        )
    if args.json:
        import dataclasses

        out = []
        for e in entries:
            caps = e.pop("caps")
            shown = e.pop("shown", caps)
            covered = shown is not caps
            e["models"] = [
                _model_json(m, e["name"], (m in shown.models) if covered else None)
                for m in caps.models
            ]
            e["retired"] = [dataclasses.asdict(r) for r in shown.retired]
            out.append(e)
        print_json(
            {"providers": out, "prices_as_of": prices.PRICES_AS_OF, "warning": store.warning}
        )
    else:
        for e in entries:
            if e["name"] == "local":
                state = "ready (offline)"
            elif e["configured"]:
                state = f"ready ({e['key']} key from {e['key_source']})"
            else:
                state = f"no key (studio keys set {e['key']})"
            where = f"  base URL {e['base_url']}" if e.get("base_url") else ""
            listed = e.get("model_list")
            when = f"  model list of {listed['fetched']}" if listed else ""
            print(f"{e['name']:<11} {state}{where}{when}")
            shown = e.get("shown", e["caps"])
            for m in e["caps"].models:
                hidden = "" if m in shown.models else "  [not offered to this key]"
                print(f"  {_model_line(m)}{hidden}")
        print(f"prices as of {prices.PRICES_AS_OF} (workers/prices.py)")
    _warn(store)
    return EXIT_OK


def _model_line(m: Any) -> str:
    bits = [m.id, m.media_kind]
    if m.audio_types:
        bits.append("/".join(a.value for a in m.audio_types))
    bits.append("/".join(o.value for o in m.operations))
    if m.max_references:
        kinds = "/".join(m.reference_kinds or (m.media_kind,))
        bits.append(f"up to {m.max_references} {kinds} reference(s)")
    if m.sizes:
        bits.append("sizes " + ",".join(m.sizes))
    if m.aspect_ratios:
        bits.append("aspect " + ",".join(m.aspect_ratios))
    if m.min_duration_s is not None and m.max_duration_s is not None:
        bits.append(f"{m.min_duration_s:g}-{m.max_duration_s:g} s")
    if m.params:
        bits.append("params " + ",".join(p.name for p in m.params))
    return "  ".join(bits)


def cmd_voices(args: argparse.Namespace) -> int:
    from studio.core import settings
    from studio.providers_setup import VOICE, apply_voice_list, day
    from workers.base import ProviderError
    from workers.registry import ProviderRegistry, cloud_provider, needs_key_sentence

    store = _store(args)
    with studio_from(args) as studio:
        library = studio.library
        cached = library.provider_list("elevenlabs", VOICE)
        key = store.get("elevenlabs")
        if key:
            base_url = settings.base_url(library, "elevenlabs")
            registry = ProviderRegistry([cloud_provider("elevenlabs", key, base_url)])
            try:
                cached = apply_voice_list(library, registry, refresh=args.refresh or cached is None)
            except ProviderError as exc:
                raise UserError(f"could not list the ElevenLabs voices: {exc.message}") from None
        elif cached is None or args.refresh:
            raise UserError(needs_key_sentence("elevenlabs"))
    assert cached is not None
    rows = sorted(cached.items, key=lambda i: (i.label.casefold(), i.item_id))
    if args.json:
        print_json(
            {
                "voices": [
                    {"name": i.label, "voice_id": i.item_id, "category": i.detail} for i in rows
                ],
                "fetched": day(cached.fetched_at),
            }
        )
    else:
        table([[i.label, i.item_id, i.detail] for i in rows], ["NAME", "VOICE ID", "CATEGORY"])
        print(f"fetched {day(cached.fetched_at)}; use a name or an id as voice_id")
    _warn(store)
    return EXIT_OK


COMMANDS = {
    "keys": cmd_keys,
    "providers": cmd_providers,
    "voices": cmd_voices,
}
