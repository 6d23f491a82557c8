"""ElevenLabs sound effects, speech, dialogue and music against the fake ElevenLabs API,
with the real elevenlabs SDK."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from studio.core.errors import ValidationError
from tests.fakes import Reply, json_reply
from tests.fakes.elevenlabs import (
    ElevenLabsFake,
    bad_prompt,
    el_error,
    quota_exceeded,
    rate_limited,
)
from tests.workers.cloud_helpers import (
    ELEVEN_KEY,
    body,
    cloud_space,
    generate,
    image_variants,
    job_of,
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
from workers.elevenlabs import DIALOGUE_VOICES, ElevenLabsProvider, cast_voices, dialogue_lines


@pytest.fixture
def fake() -> Iterator[ElevenLabsFake]:
    with ElevenLabsFake(ELEVEN_KEY) as server:
        yield server


@pytest.fixture
def eleven(fake: ElevenLabsFake) -> ElevenLabsProvider:
    return ElevenLabsProvider(ELEVEN_KEY, base_url=fake.url, timeout_s=5)


def _one(fake: ElevenLabsFake, route: str) -> Any:
    (req,) = fake.of(route)
    assert req.headers["xi-api-key"] == ELEVEN_KEY
    assert req.query == {"output_format": "mp3_44100_128"}
    return req


def test_sound_effect(tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider) -> None:
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(
            space,
            "a heavy door slams",
            "audio",
            options("elevenlabs", duration_s=2.5, params={"prompt_influence": 0.7, "loop": True}),
            type="sfx",
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert (got["status"], got["mime"], got["duration_ms"]) == ("completed", "audio/mpeg", 2500)
    assert got["recipe"]["model"] == "eleven_text_to_sound_v2"
    assert body(_one(fake, "sfx")) == {
        "text": "a heavy door slams",
        "model_id": "eleven_text_to_sound_v2",
        "duration_seconds": 2.5,
        "prompt_influence": 0.7,
        "loop": True,
    }
    assert got["metadata"]["request_id"] == "req-1"
    assert got["provenance"]["request"]["endpoint"] == "/v1/sound-generation"


def test_speech_with_a_chosen_voice(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(
            space,
            "Welcome back, traveller.",
            "audio",
            options("elevenlabs", params={"voice_id": "VoiceAbcQwErTyUiOpZx"}),
            type="voice line",
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "completed" and got["recipe"]["model"] == "eleven_multilingual_v2"
    req = _one(fake, "speech")
    assert req.path == "/v1/text-to-speech/VoiceAbcQwErTyUiOpZx"
    assert body(req) == {
        "text": "Welcome back, traveller.",
        "model_id": "eleven_multilingual_v2",
        "seed": 7,
    }
    assert got["metadata"]["character_count"] == 24


def test_dialogue_lines_with_voices(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    script = (
        "Ada: Did you hear that?\nBo: Hear what?\n  The wind, I think.\nAda: No. Something else."
    )
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(
            space,
            script,
            "audio",
            options("elevenlabs", params={"voices": "Bo=VoiceBoQwErTyUiOpZxC"}),
            type="dialogue",
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "completed" and got["recipe"]["model"] == "eleven_v3"
    sent = body(_one(fake, "dialogue"))
    ada = DIALOGUE_VOICES[0]
    assert sent["inputs"] == [
        {"text": "Did you hear that?", "voice_id": ada},
        {"text": "Hear what? The wind, I think.", "voice_id": "VoiceBoQwErTyUiOpZxC"},
        {"text": "No. Something else.", "voice_id": ada},
    ]
    assert (sent["model_id"], sent["seed"]) == ("eleven_v3", 7)
    assert got["provenance"]["request"]["voices"] == {"Ada": ada, "Bo": "VoiceBoQwErTyUiOpZxC"}


def test_music(tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider) -> None:
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(
            space,
            "a calm harp loop",
            "audio",
            options("elevenlabs", duration_s=12.0, params={"force_instrumental": True}),
            type="music",
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert (got["status"], got["duration_ms"]) == ("completed", 12000)
    assert got["recipe"]["model"] == "music_v1"
    assert body(_one(fake, "music")) == {
        "prompt": "a calm harp loop",
        "model_id": "music_v1",
        "music_length_ms": 12000,
        "force_instrumental": True,
    }


def test_dialogue_parsing() -> None:
    lines = dialogue_lines("Opening words\nA: one\nB: two")
    assert lines == [("Speaker 1", "Opening words"), ("A", "one"), ("B", "two")]
    cast = cast_voices(lines, "A=xyz")
    assert cast["A"] == "xyz" and len(set(cast.values())) == 3


@pytest.mark.parametrize(
    ("model", "kind", "opts", "words"),
    [
        (None, "sfx", {"duration_s": 45.0}, "0.5–30 s"),
        ("eleven_multilingual_v2", "sfx", {}, "can't make sfx"),
        ("eleven_multilingual_v2", "dialogue", {}, "can't make dialogue"),
        (None, "sfx", {"params": {"prompt_influence": 2}}, "prompt_influence must be ≤ 1"),
        (None, "dialogue", {"params": {"voices": "nobody"}}, "not Name=voiceId"),
        (None, "music", {"duration_s": 1.0}, "3–600 s"),
    ],
)
def test_invalid_requests(
    tmp_path: Path,
    fake: ElevenLabsFake,
    eleven: ElevenLabsProvider,
    model: str | None,
    kind: str,
    opts: dict[str, Any],
    words: str,
) -> None:
    with (
        cloud_space(tmp_path / "home", eleven) as (_studio, space),
        pytest.raises(ValidationError, match=words),
    ):
        generate(space, "A: hi", "audio", options("elevenlabs", model, **opts), type=kind)
    assert fake.requests == []


def test_too_many_speakers_and_references(tmp_path: Path, eleven: ElevenLabsProvider) -> None:
    script = " ".join(f"P{i}: line {i}." for i in range(11))
    with cloud_space(tmp_path / "home", eleven) as (_studio, space):
        with pytest.raises(ValidationError, match="at most 10 speakers"):
            generate(space, script, "audio", options("elevenlabs"), type="dialogue")
        refs = tuple(image_variants(space, tmp_path, (8, 8)))
        with pytest.raises(ValidationError, match="can't derive"):
            generate(space, "boom", "audio", options("elevenlabs"), type="sfx", references=refs)


def _run(provider: ElevenLabsProvider, tmp_path: Path, kind: AudioType = AudioType.SFX) -> Any:
    model = {AudioType.SFX: "eleven_text_to_sound_v2", AudioType.MUSIC: "music_v1"}[kind]
    request = GenerationRequest(Operation.GENERATE, "audio", "boom", model, audio_type=kind)
    return provider.run(request, BasicContext(tmp_path / "ctx"))


ERRORS = {
    "rate limited": (rate_limited("3"), ErrorKind.RATE_LIMITED, "Too many concurrent", 3.0),
    "quota": (quota_exceeded(), ErrorKind.QUOTA, "exceeds your quota", None),
    "payment": (
        el_error(402, "payment_required", "Upgrade your plan"),
        ErrorKind.QUOTA,
        "Upgrade",
        None,
    ),
    "forbidden": (
        el_error(403, "missing_permissions", "The key lacks sound_generation"),
        ErrorKind.AUTH,
        "lacks",
        None,
    ),
    "invalid": (
        json_reply(
            {
                "detail": [
                    {
                        "loc": ["body", "duration_seconds"],
                        "msg": "must be <= 30",
                        "type": "value_error",
                    }
                ]
            },
            422,
        ),
        ErrorKind.INVALID_REQUEST,
        "body.duration_seconds: must be <= 30",
        None,
    ),
    "down": (
        Reply(502, b"<html>bad gateway</html>", {"content-type": "text/html"}),
        ErrorKind.PROVIDER_DOWN,
        "bad gateway",
        None,
    ),
    "unsafe": (bad_prompt(), ErrorKind.SAFETY_BLOCKED, "copyrighted", None),
    "json instead of audio": (
        json_reply({"audio": None}),
        ErrorKind.MALFORMED,
        "instead of audio",
        None,
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_map_to_the_taxonomy(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider, case: str
) -> None:
    reply, kind, words, retry_after = ERRORS[case]
    fake.script("sfx", reply)
    with pytest.raises(ProviderError) as info:
        _run(eleven, tmp_path)
    assert info.value.kind is kind and words in info.value.message
    assert info.value.retry_after == retry_after
    assert ELEVEN_KEY not in info.value.message
    assert len(fake.requests) == 1  # no retries inside the SDK


def test_wrong_key_is_auth(tmp_path: Path, fake: ElevenLabsFake) -> None:
    provider = ElevenLabsProvider("sk_wrongwrongwrong", base_url=fake.url, timeout_s=5)
    with pytest.raises(ProviderError) as info:
        _run(provider, tmp_path)
    assert info.value.kind is ErrorKind.AUTH and "Invalid API key" in info.value.message


def test_timeout_is_transient(tmp_path: Path, fake: ElevenLabsFake) -> None:
    provider = ElevenLabsProvider(ELEVEN_KEY, base_url=fake.url, timeout_s=0.3)
    fake.script("music", Reply(delay_s=3))
    with pytest.raises(ProviderError) as info:
        _run(provider, tmp_path, AudioType.MUSIC)
    assert info.value.kind is ErrorKind.TRANSIENT


def test_retry_then_garbage_audio(
    tmp_path: Path, fake: ElevenLabsFake, eleven: ElevenLabsProvider
) -> None:
    fake.script(
        "sfx",
        rate_limited("0.2"),
        Reply(200, b"\x00" * 64, {"content-type": "audio/mpeg"}),
        Reply(200, b"\x00" * 64, {"content-type": "audio/mpeg"}),
    )
    with cloud_space(tmp_path / "home", eleven) as (studio, space):
        vid = generate(space, "boom", "audio", options("elevenlabs"), type="sfx")
        run_queue(studio, space)
        got, job = stored(space, vid), job_of(space, vid)
    assert (got["status"], got["error_code"], job.attempts) == ("failed", "MALFORMED", 2)
    first, second = fake.of("sfx")
    assert second.at - first.at >= 0.2


def test_costs(eleven: ElevenLabsProvider) -> None:
    def est(model: str, kind: AudioType, prompt: str = "hello", **kw: Any) -> Any:
        return eleven.estimate_cost(
            GenerationRequest(Operation.GENERATE, "audio", prompt, model, audio_type=kind, **kw)
        )

    assert est("eleven_text_to_sound_v2", AudioType.SFX).usd == pytest.approx(0.12)
    assert est("eleven_multilingual_v2", AudioType.SPEECH, "x" * 1000).usd == pytest.approx(0.10)
    assert est("eleven_flash_v2_5", AudioType.SPEECH, "x" * 1000).usd == pytest.approx(0.05)
    assert est("music_v1", AudioType.MUSIC).usd == pytest.approx(0.15)  # 30 s by default
    assert est("music_v1", AudioType.MUSIC, duration_s=60.0).usd == pytest.approx(0.30)
