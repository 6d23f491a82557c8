"""CLI commands for API keys and providers: ``keys set|list|delete``, ``providers``."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from studio.cli.common import EXIT_OK, UserError, print_json, studio_from, table


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

    x = sub.add_parser("providers", help="providers, their models and whether they have a key")
    x.add_argument("--json", action="store_true")


def _store(announce: bool = False) -> Any:
    from studio.keys import KeyStore

    return KeyStore(announce=announce)


def _warn(store: Any) -> None:
    if store.warning:
        print(f"studio: warning: {store.warning}", file=sys.stderr)


def _read_key(name: str) -> str:
    """The key from a hidden prompt, or one line of stdin (strict ASCII-compatible UTF-8:
    an undecodable key gets a clear error, never a traceback that could echo it)."""
    from studio.core.limits import check_text

    if sys.stdin.isatty():
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

    store = _store()
    try:
        if args.keys_cmd == "set":
            name = key_name(args.provider)
            store.set(name, _read_key(name))
            print(f"stored the {name} key in the OS keyring (used by {', '.join(_users(name))})")
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
    return "no"


def _model_json(model: Any, provider: str) -> dict[str, Any]:
    import dataclasses

    from workers import prices

    out = dataclasses.asdict(model)
    if (provider, model.id) in prices.PRICES:
        p = prices.PRICES[(provider, model.id)]
        out["price"] = {"usd": p.usd, "unit": p.unit, "by_size": dict(p.by_size or {})}
    return out


def cmd_providers(args: argparse.Namespace) -> int:
    from studio.core import settings
    from studio.keys import KEY_FOR
    from workers import prices
    from workers.local import CAPABILITIES as LOCAL
    from workers.registry import CLOUD_PROVIDERS, cloud_capabilities

    store = _store()
    with studio_from(args) as studio:
        base_urls = {name: settings.base_url(studio.library, name) for name in CLOUD_PROVIDERS}
    entries: list[dict[str, Any]] = [
        {"name": "local", "label": LOCAL.label, "configured": True, "key": None, "caps": LOCAL}
    ]
    for name in CLOUD_PROVIDERS:
        source = store.source(name)
        entries.append(
            {
                "name": name,
                "label": cloud_capabilities(name).label,
                "configured": source is not None,
                "key": KEY_FOR[name],
                "key_source": source,
                "base_url": base_urls[name],
                "caps": cloud_capabilities(name),
            }
        )
    if args.json:
        out = []
        for e in entries:
            caps = e.pop("caps")
            e["models"] = [_model_json(m, e["name"]) for m in caps.models]
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
            print(f"{e['name']:<11} {state}{where}")
            for m in e["caps"].models:
                print(f"  {_model_line(m)}")
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


COMMANDS = {
    "keys": cmd_keys,
    "providers": cmd_providers,
}
