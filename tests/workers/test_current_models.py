"""The models of today's services (issue #15): the live model list (hiding, caching,
timeouts), every image of an answer kept as a variant, Veo reference images, and Gemini
Omni video — against the fake Gemini API with the real google-genai SDK."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from studio.core.errors import ValidationError
from studio.providers_setup import MODEL, apply_model_lists
from studio.store.library import Library
from tests.fakes.google import (
    GoogleFake,
    google_error,
    interaction,
    multi_image,
)
from tests.workers.cloud_helpers import (
    GOOGLE_KEY,
    cloud_space,
    generate,
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
