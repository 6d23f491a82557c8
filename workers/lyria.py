"""Lyria music (``google-genai``): an explicit alternative to ElevenLabs for ``music``
assets, through the Gemini API's Interactions API.

Why this path: with an API key the pinned SDK offers two Lyria routes — realtime
streaming (``client.aio.live.music.connect``, a websocket session that streams raw PCM
for as long as it is kept open) and the Lyria 3 models (``lyria-3-clip-preview``,
``lyria-3-pro-preview``) through ``client.interactions.create``, a single plain HTTP
request answering with a finished MP3 and its lyrics. A job wants one finished file,
so this provider uses the Interactions API.

Wire: ``POST {base}/v1beta/interactions`` with ``{"model", "input"}`` (text, or text
and inline images for derive) and the key in ``x-goog-api-key``; the answer's
``steps[].content[]`` hold an ``audio`` item (base64 MP3) and ``text`` (lyrics and
structure, kept in ``provider_metadata["text"]``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from workers import prices
from workers.base import (
    AudioType,
    Capabilities,
    CostEstimate,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    ModelSpec,
    Operation,
    ParamSpec,
    ProviderError,
    Retired,
    RunContext,
)
from workers.cloud import CloudProvider, drop_none, error, ext_for, image_payload
from workers.google_common import (
    LIST_TIMEOUT_S,
    ModelContext,
    interaction_problem,
    list_model_ids,
    make_client,
    map_google_error,
)

OPS = (Operation.GENERATE, Operation.DERIVE)
INSTRUMENTAL = ParamSpec("instrumental", "bool", False, help="Ask for no vocals")

CHECKED = "2026-11-30"
MUSIC_PAGE = "https://ai.google.dev/gemini-api/docs/music-generation (Lyria 3 Clip, Lyria 3.5)"
SDK_MODELS = "google-genai 2.34.0 google/genai/_gaos/types/interactions/model.py"

CLIP_MODEL = ModelSpec(
    id="lyria-3-clip-preview",
    label="Lyria 3 Clip (30 s)",
    media_kind="audio",
    operations=OPS,
    max_references=10,
    reference_kinds=("image",),
    min_duration_s=30.0,
    max_duration_s=30.0,
    default_duration_s=30.0,
    audio_types=(AudioType.MUSIC,),
    params=(INSTRUMENTAL,),
    source=f"{MUSIC_PAGE}; {SDK_MODELS}",
    checked=CHECKED,
)
LYRIA_35 = ModelSpec(
    id="lyria-3.5",
    label="Lyria 3.5 (full songs)",
    media_kind="audio",
    operations=OPS,
    max_references=10,
    reference_kinds=("image",),
    # "a few minutes, controllable with the prompt" (its page): the length is asked for
    # in the prompt; 15–300 s is what this app offers.
    min_duration_s=15.0,
    max_duration_s=300.0,
    audio_types=(AudioType.MUSIC,),
    params=(INSTRUMENTAL,),
    source=f"{MUSIC_PAGE}; {SDK_MODELS}",
    checked=CHECKED,
)
PRO_MODEL = ModelSpec(
    id="lyria-3-pro-preview",
    label="Lyria 3 Pro (superseded by Lyria 3.5)",
    media_kind="audio",
    operations=OPS,
    max_references=10,
    reference_kinds=("image",),
    min_duration_s=15.0,
    max_duration_s=300.0,
    audio_types=(AudioType.MUSIC,),
    params=(INSTRUMENTAL,),
    # The music page no longer lists it (Lyria 3.5 took its place); the SDK still names
    # it and no stored source gives a shutdown: kept, last; the live list decides.
    source=f"{SDK_MODELS}; absent from {MUSIC_PAGE}",
    checked=CHECKED,
)
CAPABILITIES = Capabilities(
    provider="lyria",
    label="Google Lyria (music)",
    models=(CLIP_MODEL, LYRIA_35, PRO_MODEL),
    needs_key=True,
    retired=(Retired(PRO_MODEL.id, LYRIA_35.id, "", MUSIC_PAGE, CHECKED, confirmed=False),),
)
LONG_MODELS = frozenset({LYRIA_35.id, PRO_MODEL.id})


def prompt_sent(request: GenerationRequest) -> str:
    """The prompt with the asked-for length (Pro) and vocals wish written into it:
    Lyria 3 takes both from the prompt."""
    text = request.prompt.strip()
    if request.model in LONG_MODELS and request.duration_s is not None:
        text += f"\nLength: about {request.duration_s:g} seconds."
    if request.params.get("instrumental"):
        text += "\nInstrumental only, no vocals."
    return text


class LyriaProvider(CloudProvider):
    """Music from Lyria 3 (see the module docstring)."""

    name = "lyria"
    CAPS = CAPABILITIES
    LIST_FAMILY = ("lyria-",)
    DEFAULT_TIMEOUT_S = 300.0

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        return prices.estimate(self.name, request.model, 1.0)

    def listed_models(self) -> list[str]:
        return self.call_mapped(
            "listing the models",
            lambda: list_model_ids(
                make_client(self._api_key, self.base_url, min(self.timeout_s, LIST_TIMEOUT_S))
            ),
        )

    def _make_client(self) -> Any:
        client = make_client(self._api_key, self.base_url, self.timeout_s)
        interactions = client.interactions
        # The Interactions client keeps its own retry loop (it ignores attempts=1 of
        # the classic client): switch it off, the job scheduler owns retries.
        config = getattr(interactions, "sdk_configuration", None)
        if config is not None:
            config.retry_config = None
        return client, interactions

    def _map_error(self, exc: Exception, request: GenerationRequest | None) -> ProviderError | None:
        where = None if request is None else ModelContext(self.CAPS, request.model)
        return map_google_error(exc, self.name, where)

    def _call(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        context.progress(0.02, "Preparing the request")
        text = prompt_sent(request)
        sent_refs = []
        content: list[dict[str, Any]] = [{"type": "text", "text": text}]
        for ref in request.references:
            data, mime = image_payload(ref)
            content.append(
                {"type": "image", "data": base64.b64encode(data).decode(), "mime_type": mime}
            )
            sent_refs.append({"variant_id": ref.variant_id, "mime_type": mime, "bytes": len(data)})
        _client, interactions = self.client()
        context.check_cancelled()
        context.progress(0.1, "Waiting for Lyria")
        answer = interactions.create(
            model=request.model,
            input=content if sent_refs else text,
            automatic_continuation=False,
        )
        context.check_cancelled()
        sent = {
            "api": "interactions.create",
            "prompt_sent": text,
            "references": sent_refs,
        }
        return self._output(request, answer, sent)

    def _output(
        self, request: GenerationRequest, answer: Any, sent: dict[str, Any]
    ) -> GenerationOutput:
        status = str(answer.status or "")
        lyrics = answer.output_text or None
        audio = answer.output_audio
        problem = interaction_problem(
            self.name,
            answer,
            what="song",
            media="audio",
            has_output=audio is not None and bool(audio.data),
        )
        if problem is not None:
            raise problem
        assert audio is not None
        try:
            data = base64.b64decode(audio.data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise error(ErrorKind.MALFORMED, f"lyria's audio is not base64 ({exc})") from None
        usage = answer.usage
        came_back = drop_none(
            {
                "interaction_id": answer.id or None,
                "status": status or None,
                "model": answer.model,
                "text": lyrics,
                "usage": usage.model_dump(mode="json", exclude_none=True) if usage else None,
            }
        )
        return GenerationOutput(
            mime=audio.mime_type or "audio/mpeg",
            ext=ext_for(audio.mime_type, "mp3"),
            data=data,
            provider_metadata=came_back,
            provenance=drop_none(
                {
                    "provider": self.name,
                    "model": request.model,
                    "interaction_id": answer.id or None,
                    "request": sent,
                }
            ),
            units=1.0,
            unit="song",
        )
