"""The command line for cloud providers: ``keys``, ``providers``, ``generate --estimate``,
and generating through the fakes — with a canary key that must end up nowhere."""

from __future__ import annotations

import io
import json
import logging
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import studio.keys as keys_module
from studio.cli.main import main
from tests.fakes.anthropic import AnthropicFake, turn
from tests.fakes.anthropic import api_error as claude_error
from tests.fakes.elevenlabs import ElevenLabsFake, el_error
from tests.fakes.google import GoogleFake, google_error, quota_exhausted
from tests.workers.cloud_helpers import GOOGLE_KEY, LockedKeyring, MemoryKeyring, using_keyring
from workers.prices import PRICES_AS_OF

VEO = ("--model", "veo-3.1-generate-preview")  # the long-running-operation route


class Cli:
    def __init__(self, home: Path, capsys: pytest.CaptureFixture[str]) -> None:
        self.home = home
        self.capsys = capsys
        self.seen: list[str] = []  # everything printed, for the canary check

    def __call__(self, *args: str, stdin: str | None = None) -> tuple[int, str, str]:
        if stdin is not None:
            sys.stdin = io.StringIO(stdin)
        try:
            code = main(["--home", str(self.home), *args])
        finally:
            sys.stdin = sys.__stdin__
        out, err = self.capsys.readouterr()
        self.seen += [out, err]
        return code, out, err

    def json(self, *args: str) -> Any:
        code, out, err = self(*args, "--json")
        assert code == 0, err
        return json.loads(out)


@pytest.fixture
def cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(tmp_path / "home", capsys)


@pytest.fixture
def memory(monkeypatch: pytest.MonkeyPatch) -> Iterator[MemoryKeyring]:
    for var in keys_module.ENV_VARS.values():
        monkeypatch.delenv(var, raising=False)
    with using_keyring(MemoryKeyring()) as backend:
        assert isinstance(backend, MemoryKeyring)
        yield backend


def test_keys_set_list_delete(cli: Cli, memory: MemoryKeyring) -> None:
    code, out, err = cli("keys", "set", "veo", stdin=GOOGLE_KEY + "\n")
    assert code == 0 and "gemini key" in out and "gemini, veo, lyria" in out
    assert GOOGLE_KEY not in out + err
    assert memory.values == {("forge-studio", "gemini"): GOOGLE_KEY}
    listed = cli.json("keys", "list")
    assert [(k["key"], k["source"]) for k in listed["keys"]] == [
        ("gemini", "keyring"),
        ("elevenlabs", None),
        ("anthropic", None),
    ]
    code, out, _ = cli("keys", "list")
    assert "yes (keyring)" in out and GOOGLE_KEY not in out
    assert cli("keys", "delete", "gemini")[0] == 0
    code, _, err = cli("keys", "delete", "gemini")
    assert code == 1 and "no gemini key" in err
    code, _, err = cli("keys", "set", "dalle", stdin="x\n")
    assert code == 1 and "no key for 'dalle'" in err


def test_keys_without_a_keyring(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ELEVENLABS_API_KEY", "sk_5e1f0c9a7b3d2e8f4a6c1b0d9e7f3a2c")
    with using_keyring(LockedKeyring()):
        code, _, err = cli("keys", "set", "gemini", stdin=GOOGLE_KEY + "\n")
        assert code == 1 and "GEMINI_API_KEY" in err and GOOGLE_KEY not in err
        code, out, err = cli("keys", "list")
    assert code == 0 and "yes (ELEVENLABS_API_KEY)" in out
    assert "warning: no usable OS keyring" in err and err.count("warning") == 1


def test_providers_listing(cli: Cli, memory: MemoryKeyring) -> None:
    cli("keys", "set", "gemini", stdin=GOOGLE_KEY + "\n")
    cli("settings", "providers.veo.base_url", "http://gateway.local:8080")
    listing = cli.json("providers")
    by_name = {p["name"]: p for p in listing["providers"]}
    assert list(by_name) == ["local", "gemini", "veo", "elevenlabs", "lyria"]
    assert [by_name[n]["configured"] for n in by_name] == [True, True, True, False, True]
    assert by_name["veo"]["base_url"] == "http://gateway.local:8080"
    pro = next(m for m in by_name["gemini"]["models"] if m["id"] == "gemini-3-pro-image")
    assert pro["max_references"] == 14 and pro["sizes"] == ["1K", "2K", "4K"]
    assert pro["price"] == {
        "usd": 0.134,
        "unit": "image",
        "by_size": {"4K": 0.24},
        "source": "ai.google.dev/gemini-api/docs/pricing",
        "as_of": "2026-11-21",
    }
    veo = by_name["veo"]["models"][0]
    assert veo["reference_kinds"] == ["image"] and veo["media_kind"] == "video"
    assert listing["prices_as_of"].startswith("20")
    out = cli("providers")[1]
    assert "gemini      ready (gemini key from keyring)" in out
    assert "elevenlabs  no key (studio keys set elevenlabs)" in out
    assert GOOGLE_KEY not in json.dumps(listing) + out


def test_generate_estimate_queues_nothing(cli: Cli, memory: MemoryKeyring) -> None:
    cli("keys", "set", "gemini", stdin=GOOGLE_KEY + "\n")
    cli("space", "create", "Est")
    args = (
        "generate",
        "est",
        "owls",
        "--provider",
        "gemini",
        "--model",
        "gemini-3-pro-image",
    )
    code, out, _ = cli(*args, "--count", "4", "--estimate")
    assert code == 0
    assert out.startswith("estimated cost: $0.5360 (4 image, gemini-3-pro-image, prices as of 20")
    assert cli.json(*args, "--size", "4K", "--estimate") == {
        "usd": 0.24,
        "units": 1.0,
        "unit": "image",
        "note": f"gemini-3-pro-image, prices as of {PRICES_AS_OF}",
    }
    code, _, err = cli(*args, "--size", "9K", "--estimate")
    assert code == 1 and "size '9K'" in err
    assert cli.json("jobs", "est", "--all")["jobs"] == []


def test_a_canary_key_reaches_no_file_and_no_log(
    tmp_path: Path, cli: Cli, memory: MemoryKeyring, caplog: pytest.LogCaptureFixture
) -> None:
    google_key = f"AIzaCanary{uuid.uuid4().hex}"
    eleven_key = f"sk_canary{uuid.uuid4().hex}"
    claude_key = f"sk-ant-canary{uuid.uuid4().hex}"
    caplog.set_level(logging.DEBUG)
    with (
        GoogleFake(google_key) as google,
        ElevenLabsFake(eleven_key) as eleven,
        AnthropicFake(claude_key) as claude,
    ):
        google.veo_polls = 0
        assert cli("keys", "set", "gemini", stdin=google_key + "\n")[0] == 0
        assert cli("keys", "set", "elevenlabs", stdin=eleven_key + "\n")[0] == 0
        for name in ("gemini", "veo", "lyria"):
            cli("settings", f"providers.{name}.base_url", google.url)
        cli("settings", "providers.elevenlabs.base_url", eleven.url)
        assert cli("keys", "set", "anthropic", stdin=claude_key + "\n")[0] == 0
        cli("settings", "providers.anthropic.base_url", claude.url)
        cli("space", "create", "Canary")
        # the assistant: a chat, a tool round, and errors that echo the key back
        claude.script("messages", turn("", ("space_summary", {})), turn(f"ok {claude_key}"))
        assert cli("chat", "canary", "what is here?")[0] == 0
        claude.script("messages", claude_error(400, "invalid_request_error", f"bad {claude_key}"))
        assert cli("chat", "canary", "again", "--json")[0] == 1
        claude.script("messages", turn(f"key={claude_key}", error_after=3))
        assert cli("chat", "canary", "once more")[0] == 1

        def gen(*args: str) -> tuple[int, str]:
            code, out, err = cli("generate", "canary", *args, "--wait")
            return code, out + err

        ok = [
            gen("a cat", "--provider", "gemini"),
            gen("a dog runs", "--kind", "video", "--provider", "veo", "--duration", "4", *VEO),
            gen("a door slams", "--kind", "audio", "--type", "sfx", "--provider", "elevenlabs"),
            gen("a waltz", "--kind", "audio", "--type", "music", "--provider", "lyria"),
        ]
        assert [code for code, _ in ok] == [0, 0, 0, 0], ok
        google.script(
            "generateContent",
            google_error(400, "INVALID_ARGUMENT", f"the gateway refused key {google_key}"),
        )
        google.veo_outcomes.append(
            {"error": {"code": 3, "message": f"bad request, key={google_key}"}}
        )
        google.script("interactions", quota_exhausted())
        eleven.script("speech", el_error(401, "invalid_api_key", f"Invalid API key: {eleven_key}"))
        failed = [
            gen("a cat", "--provider", "gemini"),
            gen("a dog", "--kind", "video", "--provider", "veo", "--duration", "4", *VEO),
            gen("a waltz", "--kind", "audio", "--type", "music", "--provider", "lyria"),
            gen("Hello there.", "--kind", "audio", "--type", "speech", "--provider", "elevenlabs"),
        ]
        assert [code for code, _ in failed] == [1, 1, 1, 1]
        assert "[redacted]" in failed[0][1] and "[redacted]" in failed[3][1]
        assert "QUOTA" in failed[2][1] or "quota" in failed[2][1]
        cli("keys", "list")
        cli("providers", "--json")
        cli("jobs", "canary", "--all", "--json")
        cli("usage", "--json")
        # the fakes did see the keys: the canary really was in use
        assert {r.headers.get("x-goog-api-key") for r in google.requests} == {google_key}
        assert {r.headers.get("xi-api-key") for r in eleven.requests} == {eleven_key}
        assert {r.headers.get("authorization") for r in claude.requests} == {f"Bearer {claude_key}"}
    assert "HTTP Request: POST" in caplog.text  # httpx logged, at INFO, and was captured
    files = [p for p in (tmp_path / "home").rglob("*") if p.is_file()]
    assert any(p.name == "library.db" for p in files) and any(p.suffix == ".mp4" for p in files)
    for canary in (google_key, eleven_key, claude_key):
        for path in files:
            assert canary.encode() not in path.read_bytes(), path
        assert canary not in caplog.text
        assert all(canary not in text for text in cli.seen)
