"""The Google providers' honest errors against today's services (issue #15): retired
models, 429s, every reason an answer holds no image/video/song, the Interactions statuses
— against the fake Gemini API with the real google-genai SDK."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.fakes import json_reply
from tests.fakes.google import (
    GoogleFake,
    google_error,
    interaction,
    multi_image,
    no_image,
    quota_exhausted,
    rate_limited,
)
from tests.fakes.media import png
from tests.workers.cloud_helpers import (
    GOOGLE_KEY,
    cloud_space,
    generate,
    job_of,
    options,
    run_queue,
    stored,
)
from workers.base import (
    BasicContext,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    Operation,
    ProviderError,
)
from workers.gemini import CAPABILITIES as GEMINI_CAPS
from workers.gemini import GeminiProvider
from workers.lyria import LyriaProvider
from workers.veo import VeoProvider

FLASH, PRO, OLD = "gemini-3.1-flash-image", "gemini-3-pro-image", "gemini-2.5-flash-image"
VEO31 = "veo-3.1-generate-preview"


def _image(provider: Any, tmp_path: Path, model: str = FLASH) -> GenerationOutput:
    request = GenerationRequest(Operation.GENERATE, "image", "a fox", model, seed=1)
    out: GenerationOutput = provider.run(request, BasicContext(tmp_path / "ctx"))
    return out


@pytest.fixture
def gemini(google: GoogleFake) -> GeminiProvider:
    return GeminiProvider(GOOGLE_KEY, base_url=google.url, timeout_s=5)


# ------------------------------------------------------------------ retired models


def test_a_shut_down_id_is_refused_naming_its_replacement_before_sending(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    with pytest.raises(ProviderError) as info:
        _image(gemini, tmp_path, "gemini-3-pro-image-preview")
    assert info.value.kind is ErrorKind.INVALID_REQUEST
    assert "was shut down by the provider on 2026-06-25" in info.value.message
    assert "use 'gemini-3-pro-image' instead" in info.value.message
    assert google.requests == []


def test_a_404_for_the_model_says_retired_and_names_the_replacement(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    google.served.discard(OLD)  # the service stopped serving it
    with pytest.raises(ProviderError) as info:
        _image(gemini, tmp_path, OLD)
    message = info.value.message
    assert info.value.kind is ErrorKind.INVALID_REQUEST and not info.value.retryable
    assert f"model {OLD!r} is retired or unknown to the service" in message
    assert f"use {FLASH!r} instead" in message
    assert "rejected as invalid" not in message and "404 NOT_FOUND" in message
    assert len(google.requests) == 1


def test_a_404_for_veo_names_the_reported_replacement(tmp_path: Path, google: GoogleFake) -> None:
    veo = VeoProvider(GOOGLE_KEY, base_url=google.url, poll_s=0.01)
    google.served.discard("veo-3.1-fast-generate-preview")
    request = GenerationRequest(
        Operation.GENERATE, "video", "waves", "veo-3.1-fast-generate-preview", seed=1
    )
    with pytest.raises(ProviderError) as info:
        veo.run(request, BasicContext(tmp_path / "ctx"))
    assert "was reportedly shut down by the provider on 2026-10-22" in info.value.message
    assert "'gemini-omni-1.1-flash'" in info.value.message


def test_a_404_for_an_operation_is_not_about_the_model() -> None:
    from workers.google_common import ModelContext, from_status

    err = from_status(
        "veo",
        404,
        "NOT_FOUND",
        "operation op9 not found",
        None,
        None,
        ModelContext(GEMINI_CAPS, FLASH),
    )
    assert err.kind is ErrorKind.INVALID_REQUEST and "retired" not in err.message


# ------------------------------------------------------------------ 429s


@pytest.mark.parametrize(
    ("reply", "kind", "retry_after"),
    [
        # Google's common body: no header, no RetryInfo, the word "quota" in passing.
        (rate_limited(None), ErrorKind.RATE_LIMITED, None),
        (rate_limited(None, "7s"), ErrorKind.RATE_LIMITED, 7.0),
        (rate_limited("3", "0.250s"), ErrorKind.RATE_LIMITED, 3.0),
        (quota_exhausted(), ErrorKind.QUOTA, None),  # a per-day quota violation
        (
            google_error(429, "RESOURCE_EXHAUSTED", "Your prepayment credits are depleted."),
            ErrorKind.QUOTA,
            None,
        ),
    ],
    ids=["bare", "retry-info", "header-first", "daily", "billing"],
)
def test_429_is_a_rate_limit_unless_the_body_marks_a_used_up_quota(
    tmp_path: Path,
    google: GoogleFake,
    gemini: GeminiProvider,
    reply: Any,
    kind: ErrorKind,
    retry_after: float | None,
) -> None:
    google.script("generateContent", reply)
    with pytest.raises(ProviderError) as info:
        _image(gemini, tmp_path)
    assert info.value.kind is kind
    assert info.value.retryable is (kind is ErrorKind.RATE_LIMITED)
    assert info.value.retry_after == retry_after
    if kind is ErrorKind.QUOTA:
        assert "used up" in info.value.message


def test_a_bare_429_is_retried_by_the_queue_then_succeeds(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    google.script("generateContent", rate_limited(None), rate_limited(None, "0.05s"))
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        vid = generate(space, "a kite", "image", options("gemini", FLASH))
        run_queue(studio, space)
        got = stored(space, vid)
        job = job_of(space, vid)
    assert got["status"] == "completed" and job.attempts == 3
    assert len(google.of("generateContent")) == 3


# ------------------------------------------------------------------ no image


@pytest.mark.parametrize(
    ("finish", "text", "kind", "words"),
    [
        ("IMAGE_SAFETY", "No.", ErrorKind.SAFETY_BLOCKED, "blocked the image for safety"),
        ("PROHIBITED_CONTENT", None, ErrorKind.SAFETY_BLOCKED, "(PROHIBITED_CONTENT)"),
        ("BLOCKLIST", None, ErrorKind.SAFETY_BLOCKED, "(BLOCKLIST)"),
        ("IMAGE_RECITATION", None, ErrorKind.SAFETY_BLOCKED, "resembles existing work"),
        ("NO_IMAGE", "Try again?", ErrorKind.INVALID_REQUEST, "decided not to make an image"),
        ("MAX_TOKENS", None, ErrorKind.INVALID_REQUEST, "ran out of output room"),
        ("OTHER", None, ErrorKind.MALFORMED, "finish reason OTHER"),
        ("STOP", "Which colour?", ErrorKind.INVALID_REQUEST, "text only, no image: Which colour?"),
    ],
)
def test_no_image_is_classified_by_its_finish_reason(
    tmp_path: Path,
    google: GoogleFake,
    gemini: GeminiProvider,
    finish: str,
    text: str | None,
    kind: ErrorKind,
    words: str,
) -> None:
    google.script("generateContent", no_image(finish, text))
    with pytest.raises(ProviderError) as info:
        _image(gemini, tmp_path)
    assert info.value.kind is kind
    assert words in info.value.message


def test_every_final_image_is_kept_and_drafts_are_ignored(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    google.script("generateContent", multi_image(count=3, drafts=2))
    out = _image(gemini, tmp_path)
    datas = [out.data, *(e.data for e in out.extras)]
    assert datas == [png(64, 48, n) for n in (1, 2, 3)]  # no 32×32 draft among them
    assert [e.provider_metadata["image_index"] for e in (out, *out.extras)] == [0, 1, 2]
    assert out.provider_metadata["text"] == "Here are your pictures."  # not the thought
    assert all(e.extras == () for e in out.extras)


def test_only_draft_images_is_no_image(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    google.script("generateContent", multi_image(count=0, drafts=2))
    with pytest.raises(ProviderError) as info:
        _image(gemini, tmp_path)
    assert "text only, no image" in info.value.message


def test_the_fake_refuses_fields_the_api_does_not_know(google: GoogleFake) -> None:
    body = {"contents": [{"parts": [{"text": "x"}]}], "generationConfig": {"imageSize": "1K"}}
    request = urllib.request.Request(
        f"{google.url}/v1beta/models/{FLASH}:generateContent",
        data=json.dumps(body).encode(),
        headers={"x-goog-api-key": GOOGLE_KEY, "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 400
    assert "generation_config.imageSize" in json.loads(info.value.read())["error"]["message"]


# ------------------------------------------------------------------ Veo / Lyria empty results


def test_veo_without_a_video_or_a_reason_is_not_called_safety(
    tmp_path: Path, google: GoogleFake
) -> None:
    veo = VeoProvider(GOOGLE_KEY, base_url=google.url, poll_s=0.01)
    google.script(
        "predictLongRunning",
        json_reply({"name": "models/x/operations/e1", "done": True, "response": {}}),
    )
    request = GenerationRequest(Operation.GENERATE, "video", "waves", "veo-3.1-generate-preview")
    with pytest.raises(ProviderError) as info:
        veo.run(request, BasicContext(tmp_path / "ctx"))
    assert info.value.kind is ErrorKind.MALFORMED
    assert "without a video and without a reason" in info.value.message


@pytest.mark.parametrize(
    ("status", "audio", "kind", "words"),
    [
        ("requires_continuation", False, ErrorKind.TRANSIENT, "paused before the song"),
        ("incomplete", False, ErrorKind.MALFORMED, "ended before any audio"),
        ("budget_exceeded", False, ErrorKind.QUOTA, "budget was used up"),
        ("cancelled", False, ErrorKind.TRANSIENT, "cancelled the song"),
        ("in_progress", False, ErrorKind.TRANSIENT, "had not finished"),
        ("requires_action", False, ErrorKind.INVALID_REQUEST, "requires_action"),
    ],
)
def test_lyria_statuses_in_words(
    tmp_path: Path,
    google: GoogleFake,
    status: str,
    audio: bool,
    kind: ErrorKind,
    words: str,
) -> None:
    lyria = LyriaProvider(GOOGLE_KEY, base_url=google.url, timeout_s=5)
    google.script("interactions", interaction(status, audio=audio))
    request = GenerationRequest(Operation.GENERATE, "audio", "a ballad", "lyria-3.5")
    with pytest.raises(ProviderError) as info:
        lyria.run(request, BasicContext(tmp_path / "ctx"))
    assert info.value.kind is kind and words in info.value.message
    assert info.value.retryable is (kind is ErrorKind.TRANSIENT)


def test_lyria_incomplete_with_audio_keeps_the_audio(tmp_path: Path, google: GoogleFake) -> None:
    lyria = LyriaProvider(GOOGLE_KEY, base_url=google.url, timeout_s=5)
    google.script("interactions", interaction("incomplete", audio=True))
    request = GenerationRequest(Operation.GENERATE, "audio", "a ballad", "lyria-3.5")
    out = lyria.run(request, BasicContext(tmp_path / "ctx"))
    assert out.data and out.provider_metadata["status"] == "incomplete"


def test_lyria_35_is_sent_with_the_length_in_the_prompt(tmp_path: Path, google: GoogleFake) -> None:
    lyria = LyriaProvider(GOOGLE_KEY, base_url=google.url, timeout_s=5)
    request = GenerationRequest(
        Operation.GENERATE, "audio", "a ballad", "lyria-3.5", duration_s=90.0
    )
    out = lyria.run(request, BasicContext(tmp_path / "ctx"))
    sent = google.of("interactions")[0].json
    assert sent["model"] == "lyria-3.5" and "about 90 seconds" in sent["input"]
    assert out.unit == "song"


@pytest.mark.parametrize(
    ("body", "words"),
    [
        ({"instances": [{"prompt": "x"}], "parameters": {"generateAudio": False}}, "generateAudio"),
        ({"instances": [{"prompt": "x"}], "parameters": {"resolution": "8k"}}, "'8k'"),
        ({"instances": [{"prompt": "x", "mask": {}}]}, "instances[0].mask"),
    ],
)
def test_the_fake_refuses_video_fields_the_api_does_not_take(
    google: GoogleFake, body: dict[str, Any], words: str
) -> None:
    request = urllib.request.Request(
        f"{google.url}/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
        data=json.dumps(body).encode(),
        headers={"x-goog-api-key": GOOGLE_KEY, "content-type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(request, timeout=5)
    assert info.value.code == 400
    assert words in json.loads(info.value.read())["error"]["message"]
