"""The Google providers against today's services (issue #15): retired models, honest
429s, every reason an answer holds no image/video/song, several images in one answer,
and the live model list — all against the fake Gemini API with the real google-genai SDK."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from studio.core.errors import ValidationError
from studio.providers_setup import MODEL, apply_model_lists
from studio.store.library import Library
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
from workers.local import LocalProvider
from workers.lyria import LyriaProvider
from workers.registry import Listed, ProviderRegistry
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


# ------------------------------------------------------------------ live model lists


def _library(tmp_path: Path) -> Library:
    return Library(tmp_path / "library.db")


def test_models_list_reads_every_page(google: GoogleFake, gemini: GeminiProvider) -> None:
    ids = gemini.listed_models()
    assert sorted(ids) == sorted(google.served)
    assert len(google.of("models")) == 3  # 11 ids, 4 a page


def test_unlisted_models_are_hidden_from_new_requests_and_name_a_replacement(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    google.served -= {OLD, "gemini-3.1-flash-lite-image"}
    library = _library(tmp_path)
    registry = ProviderRegistry([LocalProvider(), gemini])
    clock = iter([1_000_000, 1_000_000 + 3600_000, 1_000_000 + 25 * 3600_000])
    try:
        apply_model_lists(library, registry, refresh=False, clock=lambda: next(clock))
        shown = registry.get("gemini")
        assert isinstance(shown, Listed)
        assert [m.id for m in shown.capabilities().models] == [FLASH, PRO]
        with pytest.raises(ProviderError) as info:
            shown.validate(GenerationRequest(Operation.GENERATE, "image", "x", OLD))
        assert "no longer offered to this key" in info.value.message
        assert f"use {FLASH!r} instead" in info.value.message
        cached = library.provider_list("gemini", MODEL)
        assert cached is not None and cached.fetched_at == 1_000_000
        asked = len(google.of("models"))
        # within a day: the cache is used, nothing is fetched
        apply_model_lists(
            library, ProviderRegistry([gemini]), refresh=False, clock=lambda: next(clock)
        )
        assert len(google.of("models")) == asked
        # a day later: fetched again
        apply_model_lists(
            library, ProviderRegistry([gemini]), refresh=False, clock=lambda: next(clock)
        )
        assert len(google.of("models")) > asked
    finally:
        library.close()


def test_a_request_for_a_shut_down_model_is_refused_through_the_door(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    with (
        cloud_space(tmp_path / "home", gemini) as (_studio, space),
        pytest.raises(ValidationError, match=r"was shut down .* use 'gemini-3-pro-image'"),
    ):
        generate(space, "owls", "image", options("gemini", "gemini-3-pro-image-preview"))
    assert google.requests == []


def test_a_list_that_does_not_cover_a_provider_hides_nothing(
    tmp_path: Path, google: GoogleFake
) -> None:
    google.served = {i for i in google.served if not i.startswith("lyria-")} | {"lyria-3.5"}
    lyria = LyriaProvider(GOOGLE_KEY, base_url=google.url)
    library = _library(tmp_path)
    try:
        registry = ProviderRegistry([lyria])
        apply_model_lists(library, registry, refresh=True)
        ids = [m.id for m in registry.get("lyria").capabilities().models]
        assert ids == ["lyria-3.5"]  # the list has Lyria ids: it decides
        google.served = {i for i in google.served if not i.startswith("lyria-")}
        registry = ProviderRegistry([lyria])
        apply_model_lists(library, registry, refresh=True)
        ids = [m.id for m in registry.get("lyria").capabilities().models]
        assert ids == ["lyria-3-clip-preview", "lyria-3.5", "lyria-3-pro-preview"]
    finally:
        library.close()


def test_a_failed_fetch_keeps_the_old_list(tmp_path: Path, google: GoogleFake) -> None:
    good = GeminiProvider(GOOGLE_KEY, base_url=google.url)
    library = _library(tmp_path)
    try:
        google.served.discard(OLD)
        apply_model_lists(library, ProviderRegistry([good]), refresh=True)
        down = GeminiProvider(GOOGLE_KEY, base_url="http://127.0.0.1:9", timeout_s=1)
        registry = ProviderRegistry([down])
        outcomes = apply_model_lists(library, registry, refresh=True)
        assert outcomes[0].fetched is None and "listing the models" in str(outcomes[0].problem)
        assert OLD not in [m.id for m in registry.get("gemini").capabilities().models]
    finally:
        library.close()


# ------------------------------------------------------------------ several images, several variants


def test_every_image_of_an_answer_becomes_a_variant_with_the_same_recipe_and_lineage(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    from tests.workers.cloud_helpers import image_variants

    google.script("generateContent", multi_image(count=3, drafts=1))
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        refs = image_variants(space, tmp_path, (40, 30), (30, 40))
        vid = generate(space, "both", "image", options("gemini", FLASH), references=tuple(refs))
        run_queue(studio, space)
        main = space.variant_detail(vid).row
        main_recipe = stored(space, vid)["recipe"]
        siblings = [v for v in space.variants_of(main.asset_id) if v.id != vid]
        got = [stored(space, v.id) for v in siblings]
        links = {
            v.id: {link.parent_variant_id for link in space.lineage_of(v.id)} for v in siblings
        }
        totals = studio.library.usage_totals()
        staging = [p for p in (space.media_dir / ".staging").rglob("*") if p.is_file()]
    assert main.status == "completed" and len(siblings) == 2
    assert [g["status"] for g in got] == ["completed", "completed"]
    assert all(g["recipe"] == main_recipe for g in got)
    assert got[0]["recipe"]["model"] == FLASH and got[0]["recipe"]["prompt"] == "both"
    assert sorted(g["metadata"]["image_index"] for g in got) == [1, 2]
    assert (got[0]["width"], got[0]["height"]) == (64, 48) and got[0]["thumb"] is not None
    assert all(parents == set(refs) for parents in links.values())
    (usage,) = [t for t in totals if t.provider == "gemini"]
    assert usage.units == 3.0 and usage.cost_usd == pytest.approx(3 * 0.067)
    assert staging == []  # every staged folder was moved into place


# ------------------------------------------------------------------ Veo reference images


def test_veo_takes_up_to_three_reference_images_as_assets(
    tmp_path: Path, google: GoogleFake
) -> None:
    from tests.workers.cloud_helpers import image_variants

    google.veo_polls = 0
    veo = VeoProvider(GOOGLE_KEY, base_url=google.url, poll_s=0.01)
    with cloud_space(tmp_path / "home", veo) as (studio, space):
        refs = tuple(image_variants(space, tmp_path, (16, 9), (9, 16), (8, 8)))
        with pytest.raises(ValidationError, match="references: assets"):
            generate(space, "a parade", "video", options("veo", VEO31), references=refs)
        vid = generate(
            space,
            "a parade",
            "video",
            options("veo", VEO31, params={"references": "assets"}),
            references=refs,
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "completed"
    (req,) = google.of("predictLongRunning")
    instance = req.json["instances"][0]
    images = instance["referenceImages"]
    assert len(images) == 3 and {i["referenceType"].lower() for i in images} == {"asset"}
    assert "image" not in instance and "lastFrame" not in req.json.get("parameters", {})
    sent = got["provenance"]["request"]["reference_images"]
    assert [r["variant_id"] for r in sent] == list(refs)


# ------------------------------------------------------------------ Gemini Omni video


def test_omni_is_the_default_video_model_through_the_interactions_api(
    tmp_path: Path, google: GoogleFake
) -> None:
    from tests.workers.cloud_helpers import image_variants

    veo = VeoProvider(GOOGLE_KEY, base_url=google.url, poll_s=0.01)
    with cloud_space(tmp_path / "home", veo) as (studio, space):
        refs = tuple(image_variants(space, tmp_path, (16, 9)))
        vid = generate(
            space,
            "a parade",
            "video",
            options("veo", size="1080p", aspect_ratio="9:16", duration_s=6.0),
            references=refs,
        )
        run_queue(studio, space)
        got = stored(space, vid)
        totals = studio.library.usage_totals()
    assert got["status"] == "completed" and got["recipe"]["model"] == "gemini-omni-1.1-flash"
    assert (got["width"], got["height"]) == (54, 96) and got["duration_ms"] == 6000
    (req,) = google.of("interactions")
    sent = req.json
    assert sent["response_format"] == {
        "type": "video",
        "aspect_ratio": "9:16",
        "resolution": "1080p",
        "delivery": "inline",
    }
    from tests.fakes.google import _input_text, interaction_images

    assert len(interaction_images(req)) == 1
    assert "a parade" in _input_text(sent["input"]) and "about 6 seconds" in _input_text(
        sent["input"]
    )
    assert google.of("predictLongRunning") == []
    (usage,) = [t for t in totals if t.provider == "veo"]
    assert (usage.units, usage.cost_usd) == (6.0, pytest.approx(6 * 0.195))


@pytest.mark.parametrize(
    ("status", "kind"),
    [("budget_exceeded", ErrorKind.QUOTA), ("requires_continuation", ErrorKind.TRANSIENT)],
)
def test_omni_statuses_in_words(
    tmp_path: Path, google: GoogleFake, status: str, kind: ErrorKind
) -> None:
    veo = VeoProvider(GOOGLE_KEY, base_url=google.url)
    google.script("interactions", interaction(status))
    request = GenerationRequest(Operation.GENERATE, "video", "waves", "gemini-omni-1.1-flash")
    with pytest.raises(ProviderError) as info:
        veo.run(request, BasicContext(tmp_path / "ctx"))
    assert info.value.kind is kind and "gemini omni" in info.value.message
    assert f"({status})" in info.value.message


def test_retrying_an_old_recipe_whose_model_is_no_longer_listed_names_the_replacement(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    from studio.core import commands as c
    from tests.conftest import OWNER
    from workers.registry import with_listing

    google.script("generateContent", google_error(400, "INVALID_ARGUMENT", "bad"))
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        vid = generate(space, "owls", "image", options("gemini", OLD))
        run_queue(studio, space)
        assert stored(space, vid)["status"] == "failed"
        registry = studio.providers
        assert isinstance(registry, ProviderRegistry)
        listed = sorted(google.served - {OLD})
        registry.replace(with_listing(gemini, listed, "2026-11-30"))
        space.apply(c.RetryVariant(vid), OWNER)
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "failed" and got["error_code"] == "INVALID_REQUEST"
    assert "no longer offered to this key" in got["error_message"]
    assert f"use {FLASH!r} instead" in got["error_message"]
    assert got["recipe"]["model"] == OLD  # the old recipe still shows its model
    assert len(google.of("generateContent")) == 1  # the retry sent nothing


def test_a_hanging_model_list_gives_up_soon(
    google: GoogleFake, monkeypatch: pytest.MonkeyPatch
) -> None:
    import time

    import workers.gemini as gemini_module
    from tests.fakes import Reply

    monkeypatch.setattr(gemini_module, "LIST_TIMEOUT_S", 0.3)
    slow = GeminiProvider(GOOGLE_KEY, base_url=google.url)  # 180 s for a generation
    google.script("models", Reply(delay_s=5))
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        slow.listed_models()
    assert time.monotonic() - started < 3
    assert info.value.kind is ErrorKind.TRANSIENT and "listing the models" in info.value.message
