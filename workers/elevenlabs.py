"""ElevenLabs audio (``elevenlabs``): sound effects, speech, dialogue and music — the
default cloud path for every kind of audio asset.

Wire (key in the ``xi-api-key`` header, ``output_format`` a query parameter, MP3 back):
``POST /v1/sound-generation`` (sfx), ``POST /v1/text-to-speech/{voice_id}`` (speech),
``POST /v1/text-to-dialogue`` (dialogue), ``POST /v1/music`` (music).

Dialogue prompts are ``Name: what they say`` lines (labels may also follow a sentence's
end on one line, since the door keeps prompts on one line). Speakers get voices from the ``voices`` parameter
(``"Ada=voiceId, Bo=voiceId"``) or, failing that, from a list of premade voices in
order of appearance.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from workers import prices
from workers.base import (
    AudioType,
    Capabilities,
    CostEstimate,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    ProviderError,
    RunContext,
    check,
)
from workers.cloud import CloudProvider, drop_none, error, parse_retry_after
from workers.elevenlabs_models import CAPABILITIES as CAPABILITIES
from workers.elevenlabs_models import MUSIC_DEFAULT_S, TEXT_LIMITS
from workers.elevenlabs_voices import DEFAULT_VOICE as DEFAULT_VOICE
from workers.elevenlabs_voices import DIALOGUE_MAX_CHARS as DIALOGUE_MAX_CHARS
from workers.elevenlabs_voices import DIALOGUE_VOICES as DIALOGUE_VOICES
from workers.elevenlabs_voices import MAX_SPEAKERS as MAX_SPEAKERS
from workers.elevenlabs_voices import VOICE_ID, Voice, list_voices
from workers.elevenlabs_voices import cast_voices as cast_voices
from workers.elevenlabs_voices import dialogue_lines as dialogue_lines
from workers.elevenlabs_voices import parse_voices as parse_voices

OUTPUT_FORMAT = "mp3_44100_128"
# Usage comes back in response headers: ``x-character-count`` (characters billed) and
# ``request-id`` — read from public client code that records them (e.g. a Go client's
# test server sets both), 2026-11-30; no stored copy of ElevenLabs' own page lists them,
# so both are optional here and the older ``character-cost`` is read as well.
USAGE_HEADERS = ("x-character-count", "character-cost")
MAX_SEED = 4_294_967_295
# How much of a non-audio answer to quote: redacted whole, then cut by ProviderError.
MAX_ECHO = 64 * 1024

_QUOTA_WORDS = ("quota", "credit", "payment", "billing", "subscription")
_SAFETY_WORDS = ("moderation", "policy", "safety", "prohibited", "bad_prompt", "copyright")


class ElevenLabsProvider(CloudProvider):
    """Audio from ElevenLabs (see the module docstring)."""

    name = "elevenlabs"
    CAPS = CAPABILITIES
    DEFAULT_TIMEOUT_S = 300.0  # music can take minutes

    def __init__(
        self, api_key: str, *, base_url: str | None = None, timeout_s: float | None = None
    ) -> None:
        super().__init__(api_key, base_url=base_url, timeout_s=timeout_s)
        self._voices: list[Voice] | None = None
        self._caps = CAPABILITIES

    def capabilities(self) -> Capabilities:
        return self._caps

    def offer_voices(self, names: Sequence[str]) -> None:
        """Offer these voice names (the account's, from ``GET /v2/voices``) for the
        ``voice_id`` parameter; ids and other names stay accepted."""
        offered = tuple(dict.fromkeys(n for n in names if n))
        self._caps = dataclasses.replace(
            CAPABILITIES,
            models=tuple(
                dataclasses.replace(
                    m,
                    params=tuple(
                        dataclasses.replace(p, suggestions=offered) if p.name == "voice_id" else p
                        for p in m.params
                    ),
                )
                for m in CAPABILITIES.models
            ),
        )

    def _kind(self, request: GenerationRequest) -> AudioType:
        if request.audio_type is not None:
            return request.audio_type
        return self.CAPS.model(request.model).audio_types[0]

    def _validate(self, request: GenerationRequest) -> None:
        kind = self._kind(request)
        check(0 <= request.seed <= MAX_SEED, f"the seed must be between 0 and {MAX_SEED}")
        limit = TEXT_LIMITS.get(request.model)
        if kind is AudioType.DIALOGUE:
            lines = dialogue_lines(request.prompt)
            check(bool(lines), "a dialogue needs at least one line")
            cast = cast_voices(lines, str(request.params.get("voices") or ""))
            check(len(cast) <= MAX_SPEAKERS, f"a dialogue takes at most {MAX_SPEAKERS} speakers")
            total = sum(len(words) for _, words in lines)
            check(
                total <= DIALOGUE_MAX_CHARS,
                f"a dialogue takes at most {DIALOGUE_MAX_CHARS} characters of lines in all; "
                f"this one has {total} (split it into scenes)",
            )
            limit = None
        if limit is not None:
            check(len(request.prompt) <= limit, f"{request.model} takes at most {limit} characters")
        if kind is AudioType.SPEECH:
            check(
                bool(str(request.params.get("voice_id", DEFAULT_VOICE)).strip()),
                "voice_id is empty",
            )

    def _music_seconds(self, request: GenerationRequest) -> float:
        return float(request.duration_s or MUSIC_DEFAULT_S)

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        kind = self._kind(request)
        if kind is AudioType.MUSIC:
            units = self._music_seconds(request)
        elif kind is AudioType.SFX:
            units = 1.0
        else:
            units = float(len(request.prompt))
        return prices.estimate(self.name, request.model, units)

    def voices(self) -> list[Voice]:
        """The account's voices (``GET /v2/voices``), fetched once per provider object."""
        with self._client_lock:
            cached = self._voices
        if cached is None:
            cached = self.call_mapped("listing the voices", lambda: list_voices(self.client()))
            with self._client_lock:
                self._voices = cached
        return list(cached)

    def resolve_voice(self, value: str) -> str:
        """A voice id for ``value``: an id as it is, or a voice's name (any case)."""
        value = value.strip()
        if VOICE_ID.fullmatch(value):
            return value
        wanted = value.casefold()
        for voice in self.voices():
            if voice.name.casefold() == wanted or voice.voice_id == value:
                return voice.voice_id
        names = ", ".join(sorted(v.name for v in self.voices())[:12]) or "none"
        raise error(
            ErrorKind.INVALID_REQUEST,
            f"this ElevenLabs account has no voice named {value!r} (voices: {names})",
        )

    def _make_client(self) -> Any:
        from elevenlabs import ElevenLabs

        return ElevenLabs(api_key=self._api_key, base_url=self.base_url, timeout=self.timeout_s)

    def _call(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        kind = self._kind(request)
        client = self.client()
        sent, call = self._plan(client, kind, request)
        context.check_cancelled()
        context.progress(0.1, "Waiting for ElevenLabs")
        with call() as response:
            headers = {k.lower(): v for k, v in response.headers.items()}
            chunks = []
            for chunk in response.data:
                chunks.append(chunk)
                context.check_cancelled()
        data = b"".join(chunks)
        content_type = headers.get("content-type", "")
        if not data or "json" in content_type or "text/" in content_type:
            raise error(
                ErrorKind.MALFORMED,
                f"elevenlabs answered {content_type or 'nothing'} instead of audio "
                f"({data[:MAX_ECHO].decode('utf-8', 'replace')})",
            )
        context.progress(1.0, "Done")
        units = 1.0 if kind is AudioType.SFX else float(len(request.prompt))
        unit = "generation" if kind is AudioType.SFX else "character"
        if kind is AudioType.MUSIC:
            units, unit = self._music_seconds(request), "second"
        billed = _billed_characters(headers)
        if billed is not None and kind in (AudioType.SPEECH, AudioType.DIALOGUE):
            units = float(billed)
        came_back = drop_none(
            {
                "request_id": headers.get("request-id"),
                "character_count": billed,
                "song_id": headers.get("song-id"),
                "content_type": content_type or None,
            }
        )
        return GenerationOutput(
            mime="audio/mpeg",
            ext="mp3",
            data=data,
            provider_metadata=came_back,
            provenance=drop_none(
                {
                    "provider": self.name,
                    "model": request.model,
                    "request_id": headers.get("request-id"),
                    "request": sent,
                }
            ),
            units=units,
            unit=unit,
        )

    def _plan(
        self, client: Any, kind: AudioType, request: GenerationRequest
    ) -> tuple[dict[str, Any], Callable[[], Any]]:
        """What will be sent (for the provenance) and the call that sends it."""
        options: Any = {"max_retries": 0}  # the job scheduler owns retries
        params = request.params
        if kind is AudioType.SFX:
            body: dict[str, Any] = drop_none(
                {
                    "text": request.prompt,
                    "model_id": request.model,
                    "duration_seconds": request.duration_s,
                    "prompt_influence": float(params.get("prompt_influence", 0.3)),
                    "loop": bool(params.get("loop", False)),
                }
            )
            endpoint, raw = "/v1/sound-generation", client.text_to_sound_effects.with_raw_response
            sent = {"endpoint": endpoint, **body}
            return _sent(sent), lambda: raw.convert(
                **body, output_format=OUTPUT_FORMAT, request_options=options
            )
        if kind is AudioType.SPEECH:
            voice = self.resolve_voice(str(params.get("voice_id") or DEFAULT_VOICE))
            body = {"text": request.prompt, "model_id": request.model, "seed": request.seed}
            raw = client.text_to_speech.with_raw_response
            sent = {"endpoint": f"/v1/text-to-speech/{voice}", "voice_id": voice, **body}
            return _sent(sent), lambda: raw.convert(
                voice, **body, output_format=OUTPUT_FORMAT, request_options=options
            )
        if kind is AudioType.DIALOGUE:
            lines = dialogue_lines(request.prompt)
            cast = {
                who: self.resolve_voice(v)
                for who, v in cast_voices(lines, str(params.get("voices") or "")).items()
            }
            inputs = [{"text": text, "voice_id": cast[who]} for who, text in lines]
            body = {"inputs": inputs, "model_id": request.model, "seed": request.seed}
            raw = client.text_to_dialogue.with_raw_response
            sent = {"endpoint": "/v1/text-to-dialogue", "voices": cast, **body}
            return _sent(sent), lambda: raw.convert(
                **body, output_format=OUTPUT_FORMAT, request_options=options
            )
        body = {
            "prompt": request.prompt,
            "model_id": request.model,
            "music_length_ms": int(self._music_seconds(request) * 1000),
            "force_instrumental": bool(params.get("force_instrumental", False)),
        }
        raw = client.music.with_raw_response
        sent = {"endpoint": "/v1/music", **body}
        return _sent(sent), lambda: raw.compose(
            **body, output_format=OUTPUT_FORMAT, request_options=options
        )

    def _map_error(self, exc: Exception, request: GenerationRequest | None) -> ProviderError | None:
        from elevenlabs.core.api_error import ApiError

        if not isinstance(exc, ApiError):
            return None
        return map_api_error(exc.status_code, exc.body, exc.headers or {})


def _billed_characters(headers: Mapping[str, str]) -> int | None:
    for name in USAGE_HEADERS:
        value = (headers.get(name) or "").strip()
        if value.isdigit():
            return int(value)
    return None


def _sent(sent: dict[str, Any]) -> dict[str, Any]:
    sent = dict(sent, output_format=OUTPUT_FORMAT)
    sent.pop("text", None)  # the prompt is in the recipe already
    sent.pop("prompt", None)
    if "inputs" in sent:
        sent["lines"] = len(sent.pop("inputs"))
    return sent


def _detail(body: Any) -> tuple[str, str]:
    """(status word, message) from ElevenLabs' error body."""
    detail = body.get("detail", body) if isinstance(body, Mapping) else body
    if isinstance(detail, Mapping):
        return str(detail.get("status") or detail.get("code") or ""), str(
            detail.get("message") or detail.get("msg") or ""
        )
    if isinstance(detail, list):  # request validation: [{"loc": [...], "msg": ...}]
        msgs = [
            f"{'.'.join(str(p) for p in d.get('loc', ()))}: {d.get('msg', '')}"
            for d in detail
            if isinstance(d, Mapping)
        ]
        return "validation_error", "; ".join(msgs)
    return "", str(detail or "")  # ProviderError redacts, then bounds the length


def map_api_error(status: int | None, body: Any, headers: Mapping[str, str]) -> ProviderError:
    code = int(status or 0)
    word, message = _detail(body)
    text = f"elevenlabs: {message or word or 'error'} ({code}{' ' + word if word else ''})"
    lowered = f"{word} {message}".lower()
    if code == 402 or any(w in word.lower() for w in _QUOTA_WORDS):
        return error(ErrorKind.QUOTA, text)
    if code in (401, 403):
        return error(ErrorKind.AUTH, text)
    if code == 429:
        retry = parse_retry_after(headers.get("retry-after") or headers.get("Retry-After"))
        if retry is None and any(w in lowered for w in _QUOTA_WORDS):
            return error(ErrorKind.QUOTA, text)
        return error(ErrorKind.RATE_LIMITED, text, retry)
    if code == 408:
        return error(ErrorKind.TRANSIENT, text)
    if code >= 500:
        return error(ErrorKind.PROVIDER_DOWN, text)
    if any(w in lowered for w in _SAFETY_WORDS):
        return error(ErrorKind.SAFETY_BLOCKED, text)
    return error(ErrorKind.INVALID_REQUEST, text)
