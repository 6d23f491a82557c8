"""Gemini images against the fake Gemini API, with the real google-genai SDK."""

from __future__ import annotations

import io
import time
from pathlib import Path

import pytest

from studio.core import commands as c
from studio.core.errors import ValidationError
from tests.conftest import OWNER
from tests.fakes import Reply, json_reply, malformed_json
from tests.fakes.google import (
    GoogleFake,
    bad_key,
    blocked_prompt,
    google_error,
    image_safety,
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
    job_of,
    options,
    run_queue,
    stored,
)
from workers.base import BasicContext, ErrorKind, GenerationRequest, Operation, ProviderError
from workers.gemini import GeminiProvider

PRO, FLASH = "gemini-3-pro-image", "gemini-2.5-flash-image"


@pytest.fixture
def gemini(google: GoogleFake) -> GeminiProvider:
    return GeminiProvider(GOOGLE_KEY, base_url=google.url, timeout_s=5)


def test_generate_through_the_door(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        vid = generate(
            space,
            "a lighthouse at dusk",
            "image",
            options("gemini", PRO, size="2K", aspect_ratio="16:9"),
        )
        run_queue(studio, space)
        got = stored(space, vid)
    assert (got["status"], got["mime"], got["width"], got["height"]) == (
        "completed",
        "image/png",
        96,
        54,
    )
    assert got["thumb"] is not None
    assert (got["recipe"]["provider"], got["recipe"]["model"]) == ("gemini", PRO)
    assert got["provenance"]["request"]["image_config"] == {
        "aspect_ratio": "16:9",
        "image_size": "2K",
    }
    assert got["provenance"]["response_id"] == "resp-1"
    meta = got["metadata"]
    assert meta["text"] == "Here is your picture."
    assert meta["model_version"] == PRO and meta["finish_reason"] == "STOP"
    assert meta["usage"]["total_token_count"] == 1302
    assert meta["safety_ratings"][0]["category"] == "HARM_CATEGORY_HARASSMENT"
    (req,) = google.of("generateContent")
    assert req.path == f"/v1beta/models/{PRO}:generateContent"
    assert req.headers["x-goog-api-key"] == GOOGLE_KEY
    sent = body(req)
    assert sent["contents"][0]["parts"] == [{"text": "a lighthouse at dusk"}]
    assert sent["generationConfig"]["imageConfig"] == {"aspectRatio": "16:9", "imageSize": "2K"}
    assert sent["generationConfig"]["responseModalities"] == ["TEXT", "IMAGE"]
    assert sent["generationConfig"]["seed"] == 7


def test_derive_sends_every_reference_as_a_part(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        refs = image_variants(space, tmp_path, (40, 30), (30, 40), (20, 20))
        vid = generate(
            space, "all three together", "image", options("gemini", PRO), references=tuple(refs)
        )
        run_queue(studio, space)
        got = stored(space, vid)
        links = space.lineage_of(vid)
    assert got["status"] == "completed" and got["recipe"]["operation"] == "derive"
    assert {link.parent_variant_id for link in links} == set(refs)
    (req,) = google.of("generateContent")
    parts = GoogleFake.inline_images(req)
    assert [p["data"] for p in parts] == [png(40, 30, 1), png(30, 40, 2), png(20, 20, 3)]
    assert {p["mime_type"] for p in parts} == {"image/png"}
    assert [r["variant_id"] for r in got["provenance"]["request"]["references"]] == refs


def test_refine_with_flash_sends_the_active_variant(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        (ref,) = image_variants(space, tmp_path, (32, 32))
        asset_id = space.variant_detail(ref).row.asset_id
        applied = space.apply(
            c.RequestRefine(asset_id, "make it blue", options=options("gemini", FLASH)), OWNER
        )
        vid = applied.created["variant_id"]
        run_queue(studio, space)
        got = stored(space, vid)
    assert got["status"] == "completed" and got["recipe"]["operation"] == "refine"
    (req,) = google.of("generateContent")
    assert len(GoogleFake.inline_images(req)) == 1
    assert "imageSize" not in body(req)["generationConfig"].get("imageConfig", {})


@pytest.mark.parametrize(
    ("model", "extra", "refs", "words"),
    [
        (FLASH, {}, 4, "at most 3 reference"),
        ("gemini-3.1-flash-lite-image", {"size": "2K"}, 0, "size .2K. is not offered"),
        (FLASH, {"size": "2K"}, 0, "size '2K' is not offered"),
        (PRO, {"size": "8K"}, 0, "size '8K' is not offered"),
        (PRO, {"aspect_ratio": "7:3"}, 0, "aspect ratio '7:3'"),
        (PRO, {"seed": -4}, 0, "seed must be between"),
    ],
)
def test_model_limits_are_checked_before_anything_is_sent(
    tmp_path: Path,
    google: GoogleFake,
    gemini: GeminiProvider,
    model: str,
    extra: dict,
    refs: int,
    words: str,
) -> None:
    with cloud_space(tmp_path / "home", gemini) as (_studio, space):
        ids = tuple(image_variants(space, tmp_path, *[(8, 8)] * refs)) if refs else ()
        opts = options("gemini", model, **{k: v for k, v in extra.items() if k != "seed"})
        if "seed" in extra:
            opts = c.GenerationOptions(
                provider="gemini", model=model, no_style=True, seed=extra["seed"]
            )
        with pytest.raises(ValidationError, match=words):
            generate(space, "x", "image", opts, references=ids)
    assert google.requests == []


def _run(provider: GeminiProvider, tmp_path: Path, **kw: object) -> object:
    request = GenerationRequest(Operation.GENERATE, "image", "a fox", PRO, seed=1, **kw)  # type: ignore[arg-type]
    return provider.run(request, BasicContext(tmp_path / "ctx"))


ERRORS = {
    "bad key": (bad_key(), ErrorKind.AUTH, "API key not valid", None),
    "forbidden": (
        google_error(403, "PERMISSION_DENIED", "Permission denied on project"),
        ErrorKind.AUTH,
        "Permission denied",
        None,
    ),
    "invalid": (
        google_error(400, "INVALID_ARGUMENT", "Unsupported aspect ratio"),
        ErrorKind.INVALID_REQUEST,
        "Unsupported aspect ratio",
        None,
    ),
    "429 retry-after": (
        rate_limited("7"),
        ErrorKind.RATE_LIMITED,
        "Resource has been exhausted",
        7.0,
    ),
    "429 retryDelay": (rate_limited(None, "0.5s"), ErrorKind.RATE_LIMITED, "exhausted", 0.5),
    "quota": (quota_exhausted(), ErrorKind.QUOTA, "exceeded your current quota", None),
    "500": (
        google_error(500, "INTERNAL", "An internal error has occurred"),
        ErrorKind.PROVIDER_DOWN,
        "internal error",
        None,
    ),
    "503": (
        google_error(503, "UNAVAILABLE", "The model is overloaded"),
        ErrorKind.PROVIDER_DOWN,
        "overloaded",
        None,
    ),
    "malformed": (malformed_json(), ErrorKind.MALFORMED, "gemini", None),
    "blocked": (blocked_prompt(), ErrorKind.SAFETY_BLOCKED, "PROHIBITED_CONTENT", None),
    "image safety": (image_safety(), ErrorKind.SAFETY_BLOCKED, "I can't make that image", None),
    "text only": (
        json_reply(
            {
                "candidates": [
                    {"content": {"parts": [{"text": "What size?"}]}, "finishReason": "STOP"}
                ]
            }
        ),
        ErrorKind.INVALID_REQUEST,
        "text only, no image: What size?",
        None,
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_map_to_the_taxonomy(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider, case: str
) -> None:
    reply, kind, words, retry_after = ERRORS[case]
    google.script("generateContent", reply)
    with pytest.raises(ProviderError) as info:
        _run(gemini, tmp_path)
    assert info.value.kind is kind
    assert words in info.value.message
    assert info.value.retry_after == retry_after
    assert GOOGLE_KEY not in info.value.message
    assert len(google.requests) == 1  # the SDK does not retry on its own


def test_timeout_is_transient(tmp_path: Path, google: GoogleFake) -> None:
    provider = GeminiProvider(GOOGLE_KEY, base_url=google.url, timeout_s=0.3)
    google.script("generateContent", Reply(delay_s=3))
    started = time.monotonic()
    with pytest.raises(ProviderError) as info:
        _run(provider, tmp_path)
    assert info.value.kind is ErrorKind.TRANSIENT and info.value.retryable
    assert time.monotonic() - started < 2.5
    assert len(google.requests) == 1


def test_nobody_listening_is_provider_down(tmp_path: Path) -> None:
    provider = GeminiProvider(GOOGLE_KEY, base_url="http://127.0.0.1:9", timeout_s=1)
    with pytest.raises(ProviderError) as info:
        _run(provider, tmp_path)
    assert info.value.kind is ErrorKind.PROVIDER_DOWN


def test_retries_honour_retry_after_then_succeed(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    google.script(
        "generateContent", rate_limited(None, "0.4s"), google_error(500, "INTERNAL", "oops")
    )
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        vid = generate(space, "a kite", "image", options("gemini", FLASH))
        run_queue(studio, space)
        got, job = stored(space, vid), job_of(space, vid)
        totals = studio.library.usage_totals()
    assert got["status"] == "completed" and job.attempts == 3
    first, second, _third = google.of("generateContent")
    assert second.at - first.at >= 0.4
    (usage,) = [t for t in totals if t.provider == "gemini"]
    assert (usage.model, usage.unit, usage.units, usage.cost_usd) == (FLASH, "image", 1.0, 0.039)


@pytest.mark.parametrize(
    ("reply", "code", "attempts"),
    [
        (quota_exhausted(), "QUOTA", 1),
        (bad_key(), "AUTH", 1),
        (image_safety("Not that."), "SAFETY_BLOCKED", 1),
        (rate_limited(None, "0.01s"), "RATE_LIMITED", 3),
    ],
)
def test_failures_reach_the_variant_with_a_readable_message(
    tmp_path: Path,
    google: GoogleFake,
    gemini: GeminiProvider,
    reply: Reply,
    code: str,
    attempts: int,
) -> None:
    google.script("generateContent", reply, reply, reply)
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        vid = generate(space, "a kite", "image", options("gemini", FLASH))
        run_queue(studio, space)
        got, job = stored(space, vid), job_of(space, vid)
    assert (got["status"], got["error_code"], job.attempts) == ("failed", code, attempts)
    assert got["error_message"].startswith("gemini: ") or "gemini" in got["error_message"]
    assert len(google.of("generateContent")) == attempts


def test_costs_come_from_the_price_table(tmp_path: Path, gemini: GeminiProvider) -> None:
    from workers.prices import PRICES_AS_OF

    est = gemini.estimate_cost(GenerationRequest(Operation.GENERATE, "image", "x", PRO, size="4K"))
    assert (est.usd, est.unit) == (0.24, "image") and PRICES_AS_OF in est.note
    with cloud_space(tmp_path / "home", gemini) as (_studio, space):
        batch = space.estimate(
            c.RequestBatch("owls", c.MediaKindName.IMAGE, 4, options=options("gemini", PRO))
        )
    assert batch.usd == pytest.approx(4 * 0.134) and batch.units == 4 and PRO in batch.note


def test_non_png_references_are_converted(
    tmp_path: Path, google: GoogleFake, gemini: GeminiProvider
) -> None:
    from PIL import Image

    from studio.core.imports import import_files

    path = tmp_path / "ref.bmp"
    Image.new("RGB", (10, 6), (1, 2, 3)).save(path, "BMP")
    with cloud_space(tmp_path / "home", gemini) as (studio, space):
        (imp,) = import_files(space, [path], OWNER).imported
        vid = generate(
            space, "like this", "image", options("gemini", PRO), references=(imp.variant_id,)
        )
        run_queue(studio, space)
        assert stored(space, vid)["status"] == "completed"
    (part,) = GoogleFake.inline_images(google.of("generateContent")[0])
    assert part["mime_type"] == "image/png"
    with Image.open(io.BytesIO(part["data"])) as im:
        assert im.size == (10, 6)
