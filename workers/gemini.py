"""Gemini images (``google-genai``): generate, derive and refine through
``models.generate_content`` with the reference images as inline parts.

Wire: ``POST {base}/v1beta/models/{model}:generateContent`` with the key in the
``x-goog-api-key`` header; the answer's parts carry ``inlineData`` (the image) and
text, which is kept in ``provider_metadata["text"]``.
"""

from __future__ import annotations

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
    RunContext,
    check,
)
from workers.cloud import CloudProvider, drop_none, error, ext_for, first, image_payload
from workers.google_common import make_client, map_google_error

ALL_OPS = (Operation.GENERATE, Operation.DERIVE, Operation.REFINE)
GEMINI_ASPECTS = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9")
MAX_SEED = 2**31 - 1

FLASH_IMAGE = ModelSpec(
    id="gemini-2.5-flash-image",
    label="Gemini 2.5 Flash Image",
    media_kind="image",
    operations=ALL_OPS,
    max_references=1,
    aspect_ratios=GEMINI_ASPECTS,
)
PRO_IMAGE = ModelSpec(
    id="gemini-3-pro-image-preview",
    label="Gemini 3 Pro Image (preview)",
    media_kind="image",
    operations=ALL_OPS,
    max_references=14,
    sizes=("1K", "2K", "4K"),
    default_size="1K",
    aspect_ratios=GEMINI_ASPECTS,
)
CAPABILITIES = Capabilities(
    provider="gemini",
    label="Google Gemini (images)",
    models=(FLASH_IMAGE, PRO_IMAGE),
    needs_key=True,
)


class GeminiProvider(CloudProvider):
    """Images from Gemini's image models (see the module docstring)."""

    name = "gemini"
    CAPS = CAPABILITIES
    DEFAULT_TIMEOUT_S = 180.0

    def _validate(self, request: GenerationRequest) -> None:
        check(0 <= request.seed <= MAX_SEED, f"the seed must be between 0 and {MAX_SEED}")

    def _size(self, request: GenerationRequest) -> str | None:
        model = self.CAPS.model(request.model)
        return (request.size or model.default_size) if model.sizes else None

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        return prices.estimate(self.name, request.model, 1.0, self._size(request))

    def _make_client(self) -> Any:
        return make_client(self._api_key, self.base_url, self.timeout_s)

    def _map_error(self, exc: Exception) -> ProviderError | None:
        return map_google_error(exc, self.name)

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
        texts = [p.text for p in parts if p.text and not p.thought]
        images = [
            p.inline_data
            for p in parts
            if p.inline_data is not None
            and p.inline_data.data
            and not p.thought
            and (p.inline_data.mime_type or "image/").startswith("image/")
        ]
        finish = _word(candidate.finish_reason) if candidate else None
        if not images:
            said = " ".join(t.strip() for t in texts).strip()
            raise error(
                ErrorKind.SAFETY_BLOCKED,
                f"gemini returned no image (finish reason {finish or 'none'})"
                + (f": {said}" if said else ""),
            )
        image = images[-1]
        usage = response.usage_metadata
        ratings = (candidate.safety_ratings if candidate else None) or ()
        came_back = drop_none(
            {
                "model_version": response.model_version,
                "response_id": response.response_id,
                "finish_reason": finish,
                "text": "\n".join(texts) or None,
                "safety_ratings": [r.model_dump(mode="json", exclude_none=True) for r in ratings],
                "usage": usage.model_dump(mode="json", exclude_none=True) if usage else None,
            }
        )
        return GenerationOutput(
            mime=image.mime_type or "image/png",
            ext=ext_for(image.mime_type, "png"),
            data=bytes(image.data),
            provider_metadata=came_back,
            provenance=drop_none(
                {
                    "provider": self.name,
                    "model": request.model,
                    "model_version": response.model_version,
                    "response_id": response.response_id,
                    "request": sent,
                }
            ),
            units=1.0,
            unit="image",
        )


def _word(value: Any) -> str:
    return str(getattr(value, "value", value))
