"""Gemini images (``google-genai``): generate, derive and refine through
``models.generate_content`` with the reference images as inline parts.

Wire: ``POST {base}/v1beta/models/{model}:generateContent`` with the key in the
``x-goog-api-key`` header; the answer's parts carry ``inlineData`` (the image) and
text, which is kept in ``provider_metadata["text"]``.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from workers import prices
from workers.base import (
    Capabilities,
    CostEstimate,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    ModelSpec,
    Operation,
    ProviderError,
    Retired,
    RunContext,
    check,
)
from workers.cloud import CloudProvider, drop_none, error, ext_for, first, image_payload
from workers.google_common import (
    LIST_TIMEOUT_S,
    ModelContext,
    list_model_ids,
    make_client,
    map_google_error,
)

ALL_OPS = (Operation.GENERATE, Operation.DERIVE, Operation.REFINE)
GEMINI_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
MAX_SEED = 2**31 - 1
CHECKED = "2026-11-30"

# Sources (read 2026-11-30 through the stored copies of the pages):
DEPRECATIONS = "https://ai.google.dev/gemini-api/docs/deprecations"
SDK_MODELS = "google-genai 2.34.0 google/genai/_gaos/types/interactions/model.py"
LITE_PAGE = "https://ai.google.dev/gemini-api/docs/models/gemini-3.1-flash-lite-image"
# The reference limit of 14 for the Gemini 3 image models is not in the stored copy of
# Google's own image-generation page; several secondary pages agree on it (e.g.
# help.apiyi.com "14 reference images" guide, the ultimate-gemini-mcp package page).
# A request over the service's real limit is refused by it with a 400 (in words).
REFS_14 = "secondary: help.apiyi.com/en?p=17609 (Gemini 3 image models take up to 14 references)"

FLASH_31_IMAGE = ModelSpec(
    id="gemini-3.1-flash-image",
    label="Gemini 3.1 Flash Image (Nano Banana 2)",
    media_kind="image",
    operations=ALL_OPS,
    max_references=14,
    sizes=("1K", "2K", "4K"),
    default_size="1K",
    aspect_ratios=GEMINI_ASPECTS,
    source=f"{DEPRECATIONS} (GA May 28, 2026); {SDK_MODELS}; refs: {REFS_14}",
    checked=CHECKED,
)
PRO_IMAGE = ModelSpec(
    id="gemini-3-pro-image",
    label="Gemini 3 Pro Image (Nano Banana Pro)",
    media_kind="image",
    operations=ALL_OPS,
    max_references=14,
    sizes=("1K", "2K", "4K"),
    default_size="1K",
    aspect_ratios=GEMINI_ASPECTS,
    source=f"{DEPRECATIONS} (GA May 28, 2026); {SDK_MODELS}; refs: {REFS_14}",
    checked=CHECKED,
)
FLASH_LITE_IMAGE = ModelSpec(
    id="gemini-3.1-flash-lite-image",
    label="Gemini 3.1 Flash Lite Image (Nano Banana 2 Lite)",
    media_kind="image",
    operations=ALL_OPS,
    # Its page names no reference limit: 3, the documented limit of 2.5 Flash Image,
    # until the docs say more.
    max_references=3,
    sizes=("1K",),  # "2K and 4K are not supported" (its model page)
    default_size="1K",
    aspect_ratios=GEMINI_ASPECTS,
    source=f"{LITE_PAGE}; {SDK_MODELS}",
    checked=CHECKED,
)
FLASH_25_IMAGE = ModelSpec(
    id="gemini-2.5-flash-image",
    label="Gemini 2.5 Flash Image (retiring)",
    media_kind="image",
    operations=ALL_OPS,
    max_references=3,
    aspect_ratios=GEMINI_ASPECTS,
    # The deprecations page gives October 2, 2026 as its earliest shutdown date; the SDK
    # still names it and no stored source says it is off: kept, last, and the live model
    # list hides it once the service stops listing it.
    source=f"{DEPRECATIONS} (shutdown date October 2, 2026); {SDK_MODELS}",
    checked=CHECKED,
)
RETIRED = (
    Retired(
        "gemini-3-pro-image-preview",
        PRO_IMAGE.id,
        "2026-06-25",
        DEPRECATIONS,
        CHECKED,
    ),
    Retired(
        "gemini-3.1-flash-image-preview",
        FLASH_31_IMAGE.id,
        "2026-06-25",
        DEPRECATIONS,
        CHECKED,
    ),
)
CAPABILITIES = Capabilities(
    provider="gemini",
    label="Google Gemini (images)",
    models=(FLASH_31_IMAGE, PRO_IMAGE, FLASH_LITE_IMAGE, FLASH_25_IMAGE),
    needs_key=True,
    retired=RETIRED,
)

# Why an answer can hold no image (google-genai 2.34.0 types.FinishReason).
_SAFETY_REASONS = frozenset(
    {
        "SAFETY",
        "IMAGE_SAFETY",
        "BLOCKLIST",
        "PROHIBITED_CONTENT",
        "IMAGE_PROHIBITED_CONTENT",
        "SPII",
    }
)
_RECITATION_REASONS = frozenset({"RECITATION", "IMAGE_RECITATION"})


class GeminiProvider(CloudProvider):
    """Images from Gemini's image models (see the module docstring)."""

    name = "gemini"
    CAPS = CAPABILITIES
    LIST_FAMILY = ("-image",)
    DEFAULT_TIMEOUT_S = 180.0

    def _validate(self, request: GenerationRequest) -> None:
        check(0 <= request.seed <= MAX_SEED, f"the seed must be between 0 and {MAX_SEED}")

    def _size(self, request: GenerationRequest) -> str | None:
        model = self.CAPS.model(request.model)
        return (request.size or model.default_size) if model.sizes else None

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        return prices.estimate(self.name, request.model, 1.0, self._size(request))

    def listed_models(self) -> list[str]:
        return self.call_mapped(
            "listing the models",
            lambda: list_model_ids(
                make_client(self._api_key, self.base_url, min(self.timeout_s, LIST_TIMEOUT_S))
            ),
        )

    def _make_client(self) -> Any:
        return make_client(self._api_key, self.base_url, self.timeout_s)

    def _map_error(self, exc: Exception, request: GenerationRequest | None) -> ProviderError | None:
        where = None if request is None else ModelContext(self.CAPS, request.model)
        return map_google_error(exc, self.name, where)

    def _call(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        from google.genai import types

        context.progress(0.02, "Preparing the request")
        contents: list[Any] = [request.prompt]
        sent_refs = []
        for ref in request.references:
            data, mime = image_payload(ref)
            contents.append(types.Part.from_bytes(data=data, mime_type=mime))
            sent_refs.append({"variant_id": ref.variant_id, "mime_type": mime, "bytes": len(data)})
        image_config = drop_none(
            {"aspect_ratio": request.aspect_ratio, "image_size": self._size(request)}
        )
        config = types.GenerateContentConfig(
            response_modalities=["TEXT", "IMAGE"],
            image_config=types.ImageConfig(**image_config) if image_config else None,
            seed=request.seed,
        )
        sent = {
            "api": "models.generateContent",
            "response_modalities": ["TEXT", "IMAGE"],
            "image_config": image_config,
            "seed": request.seed,
            "references": sent_refs,
        }
        client = self.client()
        context.check_cancelled()
        context.progress(0.1, "Waiting for Gemini")
        response = client.models.generate_content(
            model=request.model, contents=contents, config=config
        )
        context.check_cancelled()
        return self._output(request, response, sent)

    def _output(
        self, request: GenerationRequest, response: Any, sent: dict[str, Any]
    ) -> GenerationOutput:
        feedback = response.prompt_feedback
        if feedback is not None and feedback.block_reason:
            why = feedback.block_reason_message or ""
            raise error(
                ErrorKind.SAFETY_BLOCKED,
                f"gemini blocked the prompt ({_word(feedback.block_reason)}) {why}",
            )
        candidate = first(response.candidates or ())
        parts = (candidate.content.parts if candidate and candidate.content else None) or ()
        # Thought parts are drafts the model made while thinking: never the answer.
        final = [p for p in parts if not p.thought]
        texts = [p.text for p in final if p.text]
        images = [
            p.inline_data
            for p in final
            if p.inline_data is not None
            and p.inline_data.data
            and (p.inline_data.mime_type or "image/").startswith("image/")
        ]
        finish = _word(candidate.finish_reason) if candidate and candidate.finish_reason else None
        said = " ".join(t.strip() for t in texts).strip()
        if not images:
            raise no_image(finish, said, candidate is not None)
        usage = response.usage_metadata
        ratings = (candidate.safety_ratings if candidate else None) or ()
        came_back = drop_none(
            {
                "model_version": response.model_version,
                "response_id": response.response_id,
                "finish_reason": finish,
                "text": "\n".join(texts) or None,
                "images": len(images) if len(images) > 1 else None,
                "safety_ratings": [r.model_dump(mode="json", exclude_none=True) for r in ratings],
                "usage": usage.model_dump(mode="json", exclude_none=True) if usage else None,
            }
        )
        provenance = drop_none(
            {
                "provider": self.name,
                "model": request.model,
                "model_version": response.model_version,
                "response_id": response.response_id,
                "request": sent,
            }
        )
        outputs = [
            GenerationOutput(
                mime=image.mime_type or "image/png",
                ext=ext_for(image.mime_type, "png"),
                data=bytes(image.data),
                provider_metadata=dict(came_back, image_index=i) if len(images) > 1 else came_back,
                provenance=provenance,
                units=1.0,
                unit="image",
            )
            for i, image in enumerate(images)
        ]
        return dataclasses.replace(outputs[0], extras=tuple(outputs[1:]))


def no_image(finish: str | None, said: str, answered: bool) -> ProviderError:
    """Why an answer holds no image, in words: safety only for a safety reason."""
    quoted = f": {said}" if said else ""
    if not answered:
        return error(ErrorKind.MALFORMED, "gemini answered with no candidate and no image")
    if finish in _SAFETY_REASONS:
        return error(
            ErrorKind.SAFETY_BLOCKED, f"gemini blocked the image for safety ({finish}){quoted}"
        )
    if finish in _RECITATION_REASONS:
        return error(
            ErrorKind.SAFETY_BLOCKED,
            f"gemini withheld the image because it resembles existing work ({finish}){quoted}",
        )
    if finish == "NO_IMAGE":
        return error(
            ErrorKind.INVALID_REQUEST,
            f"gemini decided not to make an image for this prompt (NO_IMAGE){quoted}; "
            "ask for the picture more directly",
        )
    if finish == "MAX_TOKENS":
        return error(
            ErrorKind.INVALID_REQUEST,
            "gemini ran out of output room before the image was done (MAX_TOKENS); "
            "use a shorter prompt or fewer references" + quoted,
        )
    if finish in (None, "STOP") and said:
        return error(
            ErrorKind.INVALID_REQUEST,
            f"gemini answered with text only, no image{quoted}",
        )
    return error(
        ErrorKind.MALFORMED,
        f"gemini returned no image (finish reason {finish or 'none'}){quoted}; retry, "
        "or try another model",
    )


def _word(value: Any) -> str:
    return str(getattr(value, "value", value))
