"""ElevenLabs voices (``/v2/voices``) by name, the dialogue length limit and usage
headers; ``studio providers --refresh`` and ``studio voices``; a job for a provider
without a key — against the fakes with the real SDKs."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import studio.keys as keys_module
from studio.core.errors import ValidationError
from studio.providers_setup import build_cached_providers, refresh_stale_lists
from studio.store.library import Library
from tests.fakes.elevenlabs import ElevenLabsFake
from tests.fakes.google import GoogleFake
from tests.workers.cloud_helpers import (
    ELEVEN_KEY,
    GOOGLE_KEY,
    MemoryKeyring,
    body,
    cloud_space,
    generate,
    options,
    run_queue,
    stored,
    using_keyring,
)
from tests.workers.test_cloud_cli import Cli
from workers.base import ErrorKind, ProviderError
from workers.elevenlabs import DIALOGUE_MAX_CHARS, ElevenLabsProvider
from workers.registry import ProviderRegistry, default_registry


@pytest.fixture
def fake() -> Iterator[ElevenLabsFake]:
    with ElevenLabsFake(ELEVEN_KEY) as server:
        yield server


@pytest.fixture
def eleven(fake: ElevenLabsFake) -> ElevenLabsProvider:
    return ElevenLabsProvider(ELEVEN_KEY, base_url=fake.url, timeout_s=5)


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


def test_the_voice_list_is_read_page_by_page(
    fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    fake.voices = [
        {"voice_id": f"Vx{i:018d}", "name": f"Voice {i}", "category": "generated"}
        for i in range(150)
    ]
    voices = eleven.voices()
    assert [v.name for v in voices] == [f"Voice {i}" for i in range(150)]
    pages = fake.of("voices")
    assert [r.query.get("page_size") for r in pages] == ["100", "100"]
    assert pages[1].query["next_page_token"] == "100"
    eleven.voices()
    assert len(fake.of("voices")) == 2  # fetched once per provider object


def test_speech_with_a_voice_named_not_numbered(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(
            space,
            "Welcome back.",
            "audio",
            options("elevenlabs", params={"voice_id": "ada lovelace"}),
            type="voice line",
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "completed"
    (req,) = fake.of("speech")
    assert req.path == "/v1/text-to-speech/c1oned0VoiceAda00001"
    # usage from the documented headers: characters billed and the request id
    assert got["metadata"]["character_count"] == len("Welcome back.")
    assert got["metadata"]["request_id"].startswith("req-")


def test_an_unknown_voice_name_fails_in_words(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(
            space,
            "Hello.",
            "audio",
            options("elevenlabs", params={"voice_id": "Nobody Here"}),
            type="voice line",
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "failed" and got["error_code"] == "INVALID_REQUEST"
    assert "no voice named 'Nobody Here'" in got["error_message"]
    assert "George" in got["error_message"]
    assert fake.of("speech") == []


def test_dialogue_names_resolve_and_the_total_length_is_limited(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(
            space,
            "Ada: Hello there. Bo: Hi.",
            "audio",
            options("elevenlabs", params={"voices": "Ada=Ada Lovelace, Bo=Rachel"}),
            type="dialogue",
        )
        run_queue(studio, space)
        assert stored(space, vid)["status"] == "completed"
        long = " ".join(f"Ada: {'la ' * 300}. Bo: {'da ' * 300}." for _ in range(2))
        with pytest.raises(ValidationError, match=f"at most {DIALOGUE_MAX_CHARS} characters"):
            generate(space, long, "audio", options("elevenlabs"), type="dialogue")
    sent = body(fake.of("dialogue")[0])
    assert [i["voice_id"] for i in sent["inputs"]] == [
        "c1oned0VoiceAda00001",
        "21m00Tcm4TlvDq8ikWAM",
    ]
    assert len(fake.of("dialogue")) == 1


def test_usage_from_the_older_header_too(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    fake.usage_header = "character-cost"
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(space, "Hi.", "audio", options("elevenlabs"), type="voice line")
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["metadata"]["character_count"] == 3


# ------------------------------------------------------------------ no key


def test_a_request_for_a_provider_without_a_key_says_which_key_to_add(tmp_path: Path) -> None:
    registry = default_registry(keys=None)
    with pytest.raises(ProviderError) as info:
        registry.get("veo")
    assert info.value.kind is ErrorKind.AUTH
    assert "add a Gemini key in Preferences ▸ Keys" in info.value.message
    assert "there is no provider" not in info.value.message
    with (
        cloud_space(tmp_path / "home") as (_studio, space),
        pytest.raises(ValidationError, match="add a Gemini key in Preferences ▸ Keys"),
    ):
        generate(space, "owls", "image", options("gemini"))
    with pytest.raises(ProviderError, match="there is no provider 'dalle'"):
        ProviderRegistry([]).get("dalle")


# ------------------------------------------------------------------ the CLI


def _providers(cli: Cli, *extra: str) -> dict[str, Any]:
    listing = cli.json("providers", *extra)
    return {p["name"]: p for p in listing["providers"]}


def test_providers_refresh_lists_current_models_with_source_and_date(
    cli: Cli, memory: MemoryKeyring
) -> None:
    cli("keys", "set", "gemini", stdin=GOOGLE_KEY + "\n")
    with GoogleFake(GOOGLE_KEY) as google:
        for name in ("gemini", "veo", "lyria"):
            cli("settings", f"providers.{name}.base_url", google.url)
        before = _providers(cli)
        assert before["gemini"]["model_list"] is None and google.requests == []
        google.served.discard("gemini-2.5-flash-image")
        by_name = _providers(cli, "--refresh")
        models_asked = len(google.of("models"))
        out = cli("providers")[1]
    assert models_asked == 3  # one fetch (3 pages) shared by gemini, veo and lyria
    gemini = by_name["gemini"]
    assert gemini["model_list"]["count"] == len(google.served)
    first = gemini["models"][0]
    assert first["id"] == "gemini-3.1-flash-image" and first["listed"] is True
    assert first["checked"] == "2026-11-30" and "ai.google.dev" in first["source"]
    old = next(m for m in gemini["models"] if m["id"] == "gemini-2.5-flash-image")
    assert old["listed"] is False
    retired = {r["model"]: r for r in gemini["retired"]}
    assert retired["gemini-3-pro-image-preview"]["replacement"] == "gemini-3-pro-image"
    assert retired["gemini-2.5-flash-image"]["replacement"] == "gemini-3.1-flash-image"
    cloud = [p for name, p in by_name.items() if name != "local"]
    assert all(m["source"] and m["checked"] for p in cloud for m in p["models"])
    assert all(m["price"]["source"] and m["price"]["as_of"] for p in cloud for m in p["models"])
    assert "gemini-2.5-flash-image" in out and "[not offered to this key]" in out
    assert GOOGLE_KEY not in json.dumps(by_name) + out


def test_providers_refresh_says_when_no_list_could_be_fetched(
    cli: Cli, memory: MemoryKeyring
) -> None:
    cli("keys", "set", "gemini", stdin=GOOGLE_KEY + "\n")
    for name in ("gemini", "veo", "lyria"):
        cli("settings", f"providers.{name}.base_url", "http://127.0.0.1:9")
    code, _out, err = cli("providers", "--refresh")
    assert code == 1 and "no model list could be fetched" in err
    assert "Traceback" not in err and GOOGLE_KEY not in err


def test_studio_voices(cli: Cli, memory: MemoryKeyring) -> None:
    code, _, err = cli("voices")
    assert code == 1 and "add an ElevenLabs key in Preferences ▸ Keys" in err
    cli("keys", "set", "elevenlabs", stdin=ELEVEN_KEY + "\n")
    with ElevenLabsFake(ELEVEN_KEY) as fake:
        cli("settings", "providers.elevenlabs.base_url", fake.url)
        listed = cli.json("voices")
        code, out, _ = cli("voices")  # from the cache: no second fetch
        asked = len(fake.of("voices"))
    names = [v["name"] for v in listed["voices"]]
    assert names == sorted(names, key=str.casefold) and "Ada Lovelace" in names
    assert {"name": "George", "voice_id": "JBFqnCBsd6RMkjVDRZzb", "category": "premade"} in (
        listed["voices"]
    )
    assert code == 0 and "Ada Lovelace" in out and "c1oned0VoiceAda00001" in out
    assert asked == 1


@pytest.mark.parametrize(
    ("reply_args", "kind", "retry_after"),
    [
        ((429, "too_many_concurrent_requests", "Too many concurrent requests.", {}), "rate", None),
        ((429, "system_busy", "Busy.", {"retry-after": "2"}), "rate", 2.0),
        ((429, "quota_exceeded", "This request exceeds your quota.", {}), "quota", None),
    ],
)
def test_elevenlabs_429_with_and_without_retry_headers(
    tmp_path: Path,
    fake: ElevenLabsFake,
    eleven: ElevenLabsProvider,
    reply_args: tuple[int, str, str, dict[str, str]],
    kind: str,
    retry_after: float | None,
) -> None:
    from tests.fakes.elevenlabs import el_error
    from workers.base import BasicContext, GenerationRequest, Operation

    fake.script("sfx", el_error(*reply_args))
    request = GenerationRequest(Operation.GENERATE, "audio", "a door", "eleven_text_to_sound_v2")
    with pytest.raises(ProviderError) as info:
        eleven.run(request, BasicContext(tmp_path / "ctx"))
    want = ErrorKind.RATE_LIMITED if kind == "rate" else ErrorKind.QUOTA
    assert info.value.kind is want and info.value.retry_after == retry_after


def test_the_app_builds_from_cached_lists_and_fetches_stale_ones_apart(
    cli: Cli, memory: MemoryKeyring
) -> None:
    """The app's registry is built on the UI thread: from the cached lists only, never
    waiting on the network; stale lists are fetched apart (on a thread of their own)."""
    cli("keys", "set", "gemini", stdin=GOOGLE_KEY + "\n")
    with GoogleFake(GOOGLE_KEY) as google:
        for name in ("gemini", "veo", "lyria"):
            cli("settings", f"providers.{name}.base_url", google.url)
        google.served.discard("gemini-2.5-flash-image")
        library = Library(cli.home / "library.db")
        try:
            registry = build_cached_providers(library)
            assert google.of("models") == [] and "gemini" in registry.names()
            assert refresh_stale_lists(library) is True
            assert len(google.of("models")) == 3  # one fetch of 3 pages, for all three
            assert refresh_stale_lists(library) is False  # a day fresh: not fetched again
            assert len(google.of("models")) == 3
            models = build_cached_providers(library).get("gemini").capabilities().models
            assert "gemini-2.5-flash-image" not in [m.id for m in models]
            assert len(google.of("models")) == 3
        finally:
            library.close()
