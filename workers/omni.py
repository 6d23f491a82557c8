"""Gemini Omni Flash video through the Interactions API (used by the ``veo`` provider,
whose default model it is): the model's facts with their sources, and one call."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from workers.base import (
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    ModelSpec,
    Operation,
    RunContext,
)
from workers.cloud import drop_none, error, image_payload
from workers.google_common import interaction_problem

CHECKED = "2026-11-30"
OMNI = "gemini-omni-1.1-flash"
# Gemini Omni Flash: "use Gemini Omni Flash as the default model for video generation"
# (https://ai.google.dev/gemini-api/docs/video), through the Interactions API with the
# answer's video in ``output_video`` (https://ai.google.dev/gemini-api/docs/omni). Output
# options: the SDK's VideoResponseFormat (google-genai 2.34.0, _gaos/types/interactions/
# videoresponseformat.py: aspect 16:9 | 9:16; 360p | 720p | 1080p | 4k, default 720p).
# Length: 3–10 s chosen by the model from the prompt (secondary: docs.comfy.org
# GeminiVideoOmniV2, developer.civitai.com gemini-omni), so it is asked for in the prompt;
# up to 3 reference images (secondary: docs.oxen.ai gemini-omni-1-1-flash).
OMNI_PAGE = "https://ai.google.dev/gemini-api/docs/omni"
OMNI_MODEL = ModelSpec(
    id=OMNI,
    label="Gemini Omni Flash 1.1",
    media_kind="video",
    operations=(Operation.GENERATE, Operation.DERIVE, Operation.REFINE),
    max_references=3,
    reference_kinds=("image",),
    sizes=("360p", "720p", "1080p", "4k"),
    default_size="720p",
    aspect_ratios=("16:9", "9:16"),
    default_aspect_ratio="16:9",
    min_duration_s=3.0,
    max_duration_s=10.0,
    source=f"{OMNI_PAGE}; google-genai 2.34.0 videoresponseformat.py; length and "
    "references: secondary (docs.comfy.org, docs.oxen.ai)",
    checked=CHECKED,
)
OMNI_EXPECTED_S = 8.0  # billed seconds assumed when no length is asked for


def run_omni(
    provider: str, interactions: Any, request: GenerationRequest, context: RunContext
) -> GenerationOutput:
    """One video from Gemini Omni through the SDK's Interactions client."""
    context.progress(0.02, "Preparing the request")
    text = request.prompt.strip()
    if request.duration_s is not None:
        text += f"\nLength: about {request.duration_s:g} seconds."
    content: list[dict[str, Any]] = [{"type": "text", "text": text}]
    sent_refs = []
    for ref in request.references:
        data, mime = image_payload(ref)
        content.append(
            {"type": "image", "data": base64.b64encode(data).decode(), "mime_type": mime}
        )
        sent_refs.append({"variant_id": ref.variant_id, "mime_type": mime, "bytes": len(data)})
    video_format = {
        "type": "video",
        "aspect_ratio": request.aspect_ratio or "16:9",
        "resolution": request.size or "720p",
        "delivery": "inline",
    }
    context.check_cancelled()
    context.progress(0.1, "Waiting for Gemini Omni")
    answer = interactions.create(
        model=request.model,
        input=content if sent_refs else text,
        response_format=video_format,
        automatic_continuation=False,
    )
    context.check_cancelled()
    video = answer.output_video
    problem = interaction_problem(
        "gemini omni",
        answer,
        what="video",
        media="video",
        has_output=video is not None and bool(video.data),
    )
    if problem is not None:
        raise problem
    assert video is not None
    try:
        data = base64.b64decode(video.data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise error(ErrorKind.MALFORMED, f"gemini omni's video is not base64 ({exc})") from None
    seconds = float(request.duration_s or OMNI_EXPECTED_S)
    return GenerationOutput(
        mime=video.mime_type or "video/mp4",
        ext="mp4",
        data=data,
        provider_metadata=drop_none(
            {
                "interaction_id": answer.id or None,
                "status": str(answer.status or "") or None,
                "text": answer.output_text or None,
            }
        ),
        provenance=drop_none(
            {
                "provider": provider,
                "model": request.model,
                "interaction_id": answer.id or None,
                "request": {
                    "api": "interactions.create",
                    "prompt_sent": text,
                    "response_format": video_format,
                    "references": sent_refs,
                },
            }
        ),
        units=seconds,
        unit="second",
    )
