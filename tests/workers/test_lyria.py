"""Lyria 3 music through the Interactions API, against the fake Gemini API."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes import Reply, malformed_json
from tests.fakes.google import (
    GoogleFake,
    bad_key,
    google_error,
    interaction_images,
    lyria_failed,
    lyria_text_only,
    quota_exhausted,
    rate_limited,
)
from tests.fakes.media import png
from tests.workers.cloud_helpers import (
    GOOGLE_KEY,
    body,
    cloud_space,
    generate,
    image_variants,
    options,
    run_queue,
    stored,
)
from workers.base import (
    AudioType,
    BasicContext,
    ErrorKind,
    GenerationRequest,
    Operation,
    ProviderError,
)
from workers.elevenlabs import ElevenLabsProvider
from workers.lyria import LyriaProvider
from workers.registry import ProviderRegistry

CLIP, PRO = "lyria-3-clip-preview", "lyria-3.5"


@pytest.fixture
def lyria(google: GoogleFake) -> LyriaProvider:
    return LyriaProvider(GOOGLE_KEY, base_url=google.url, timeout_s=5)


def test_clip_through_the_door(tmp_path: Path, google: GoogleFake, lyria: LyriaProvider) -> None:
    with cloud_space(tmp_path / "home", lyria) as (studio, space):
        vid = generate(
            space,
            "a sea shanty",
            "audio",
            options("lyria", params={"instrumental": True}),
            type="music",
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert (got["status"], got["mime"], got["duration_ms"]) == ("completed", "audio/mpeg", 30000)
    assert got["recipe"]["model"] == CLIP
    (req,) = google.of("interactions")
    assert req.headers["x-goog-api-key"] == GOOGLE_KEY
    assert body(req) == {"model": CLIP, "input": "a sea shanty\nInstrumental only, no vocals."}
    meta = got["metadata"]
    assert meta["text"].startswith("[Verse 1]") and meta["interaction_id"] == "interaction-1"
    assert meta["usage"]["total_tokens"] == 920
    assert got["provenance"]["request"]["prompt_sent"].endswith("no vocals.")


def test_pro_length_goes_into_the_prompt(
    tmp_path: Path, google: GoogleFake, lyria: LyriaProvider
) -> None:
    with cloud_space(tmp_path / "home", lyria) as (studio, space):
        vid = generate(
            space, "an epic ballad", "audio", options("lyria", PRO, duration_s=20.0), type="music"
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert (got["status"], got["duration_ms"]) == ("completed", 20000)
    assert (
        body(google.of("interactions")[0])["input"] == "an epic ballad\nLength: about 20 seconds."
    )


def test_music_from_an_image(tmp_path: Path, google: GoogleFake, lyria: LyriaProvider) -> None:
    with cloud_space(tmp_path / "home", lyria) as (studio, space):
        (ref,) = image_variants(space, tmp_path, (24, 16))
        vid = generate(
            space,
            "music for this scene",
            "audio",
            options("lyria"),
            type="music",
            references=(ref,),
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "completed" and got["recipe"]["operation"] == "derive"
    req = google.of("interactions")[0]
    (image,) = interaction_images(req)
    assert image == {"mime_type": "image/png", "data": png(24, 16, 1)}
    assert body(req)["input"][0]["content"][0] == {"type": "text", "text": "music for this scene"}


def _run(provider: LyriaProvider, tmp_path: Path) -> Any:
    request = GenerationRequest(
        Operation.GENERATE, "audio", "a waltz", CLIP, audio_type=AudioType.MUSIC
    )
    return provider.run(request, BasicContext(tmp_path / "ctx"))


ERRORS = {
    "failed for safety": (lyria_failed(), ErrorKind.SAFETY_BLOCKED, "blocked"),
    "failed otherwise": (
        lyria_failed("INTERNAL", "try later"),
        ErrorKind.PROVIDER_DOWN,
        "try later",
    ),
    "lyrics but no audio": (
        lyria_text_only(),
        ErrorKind.INVALID_REQUEST,
        "text only, no audio: I can't write that song",
    ),
    "429": (rate_limited("9"), ErrorKind.RATE_LIMITED, "exhausted"),
    "quota": (quota_exhausted(), ErrorKind.QUOTA, "quota"),
    "bad key": (bad_key(), ErrorKind.AUTH, "API key not valid"),
    "500": (
        google_error(500, "INTERNAL", "Internal error encountered."),
        ErrorKind.PROVIDER_DOWN,
        "Internal error",
    ),
    "400": (
        google_error(400, "INVALID_ARGUMENT", "Unknown model"),
        ErrorKind.INVALID_REQUEST,
        "Unknown model",
    ),
    "malformed": (malformed_json(), ErrorKind.MALFORMED, "could not be read"),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_map_to_the_taxonomy(
    tmp_path: Path, google: GoogleFake, lyria: LyriaProvider, case: str
) -> None:
    reply, kind, words = ERRORS[case]
    google.script("interactions", reply)
    with pytest.raises(ProviderError) as info:
        _run(lyria, tmp_path)
    assert info.value.kind is kind and words in info.value.message
    if case == "429":
        assert info.value.retry_after == 9.0
    assert len(google.requests) == 1  # the Interactions client's own retries are off


def test_timeout_is_transient(tmp_path: Path, google: GoogleFake) -> None:
    provider = LyriaProvider(GOOGLE_KEY, base_url=google.url, timeout_s=0.3)
    google.script("interactions", Reply(delay_s=3))
    with pytest.raises(ProviderError) as info:
        _run(provider, tmp_path)
    assert info.value.kind is ErrorKind.TRANSIENT
    assert len(google.requests) == 1


def test_lyria_is_an_alternative_not_the_default(lyria: LyriaProvider) -> None:
    eleven = ElevenLabsProvider("sk_" + "1" * 40)
    registry = ProviderRegistry([eleven, lyria])
    provider, model = registry.default_for("audio", AudioType.MUSIC)
    assert (provider.name, model) == ("elevenlabs", "music_v1")
    provider, model = registry.default_for("audio", AudioType.MUSIC, preferred="lyria")
    assert (provider.name, model) == ("lyria", CLIP)
    with pytest.raises(ProviderError, match="can't make sfx"):
        lyria.validate(
            GenerationRequest(Operation.GENERATE, "audio", "x", CLIP, audio_type=AudioType.SFX)
        )


def test_costs(lyria: LyriaProvider) -> None:
    def usd(model: str) -> float:
        return lyria.estimate_cost(GenerationRequest(Operation.GENERATE, "audio", "x", model)).usd

    assert (usd(CLIP), usd(PRO)) == (0.04, 0.08)
