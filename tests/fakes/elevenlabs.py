"""A fake ElevenLabs API: ``/v1/sound-generation``, ``/v1/text-to-speech/{voice_id}``,
``/v1/text-to-dialogue`` and ``/v1/music``. Key in ``xi-api-key``, ``output_format`` as a
query parameter, MP3 bytes back; errors as ``{"detail": {"status", "message"}}``."""

from __future__ import annotations

import itertools
import re

from tests.fakes import FakeServer, Recorded, Reply, json_reply, media

_SPEECH = re.compile(r"^/v1/text-to-speech/([^/]+)$")
ROUTES = {
    "/v1/sound-generation": "sfx",
    "/v1/text-to-dialogue": "dialogue",
    "/v1/music": "music",
}


def el_error(status: int, word: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    return json_reply({"detail": {"status": word, "message": message}}, status, headers)


def rate_limited(retry_after: str | None = "3") -> Reply:
    return el_error(
        429,
        "too_many_concurrent_requests",
        "Too many concurrent requests for your plan.",
        {"retry-after": retry_after} if retry_after else None,
    )


def quota_exceeded() -> Reply:
    return el_error(
        401,
        "quota_exceeded",
        "This request exceeds your quota of 10000. You have 12 credits remaining.",
    )


def bad_prompt() -> Reply:
    return el_error(400, "bad_prompt", "The prompt names a copyrighted artist.")


# What each endpoint's body may hold (elevenlabs 2.78.0 sends these), refused otherwise
# with ElevenLabs' 422 validation shape.
FIELDS = {
    "sfx": {"text", "model_id", "duration_seconds", "prompt_influence", "loop"},
    "speech": {"text", "model_id", "seed", "voice_settings", "language_code"},
    "dialogue": {"inputs", "model_id", "seed", "settings", "language_code"},
    "music": {"prompt", "model_id", "music_length_ms", "force_instrumental", "composition_plan"},
}
DIALOGUE_MAX_CHARS = 2_000


def validation_error(loc: list[str], msg: str) -> Reply:
    return json_reply({"detail": [{"loc": ["body", *loc], "msg": msg, "type": "value_error"}]}, 422)


VOICES = [
    {"voice_id": "JBFqnCBsd6RMkjVDRZzb", "name": "George", "category": "premade"},
    {"voice_id": "21m00Tcm4TlvDq8ikWAM", "name": "Rachel", "category": "premade"},
    {"voice_id": "EXAVITQu4vr4xnSDxMaL", "name": "Sarah", "category": "premade"},
    {"voice_id": "CwhRBWXzGAHq8TQ4Fs17", "name": "Roger", "category": "premade"},
    {"voice_id": "c1oned0VoiceAda00001", "name": "Ada Lovelace", "category": "cloned"},
]


class ElevenLabsFake(FakeServer):
    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self._ids = itertools.count(1)
        self.voices = list(VOICES)
        self.usage_header = "x-character-count"  # the header the usage comes back in

    def route(self, method: str, path: str) -> str | None:
        if method == "GET":
            return "voices" if path == "/v2/voices" else None
        if method != "POST":
            return None
        if _SPEECH.match(path):
            return "speech"
        return ROUTES.get(path)

    def check_auth(self, req: Recorded) -> Reply | None:
        if req.headers.get("xi-api-key") == self.api_key:
            return None
        return el_error(401, "invalid_api_key", "Invalid API key")

    def _voices(self, req: Recorded) -> Reply:
        size = int(req.query.get("page_size") or 10)
        if not 1 <= size <= 100:
            return el_error(422, "invalid_page_size", "page_size can not exceed 100")
        start = int(req.query.get("next_page_token") or 0)
        page = self.voices[start : start + size]
        more = start + size < len(self.voices)
        return json_reply(
            {
                "voices": page,
                "has_more": more,
                "total_count": len(self.voices),
                "next_page_token": str(start + size) if more else None,
            }
        )

    def default(self, req: Recorded) -> Reply:
        if req.route == "voices":
            return self._voices(req)
        body = req.json
        for name in body:
            if name not in FIELDS[str(req.route)]:
                return validation_error([name], "extra fields not permitted")
        if req.route == "dialogue":
            total = sum(len(i["text"]) for i in body["inputs"])
            if total > DIALOGUE_MAX_CHARS or len({i["voice_id"] for i in body["inputs"]}) > 10:
                return validation_error(["inputs"], "too long, or more than 10 voices")
        if req.route == "sfx":
            seconds = float(body.get("duration_seconds") or 2.0)
            chars = 0
        elif req.route == "music":
            seconds = float(body.get("music_length_ms") or 30_000) / 1000
            chars = 0
        elif req.route == "speech":
            chars = len(body["text"])
            seconds = min(10.0, max(0.5, chars / 15))
        else:
            chars = sum(len(i["text"]) for i in body["inputs"])
            seconds = min(10.0, max(0.5, chars / 15))
        return Reply(
            200,
            media.mp3(round(seconds, 3)),
            {
                "content-type": "audio/mpeg",
                "request-id": f"req-{next(self._ids)}",
                self.usage_header: str(chars),
            },
        )
