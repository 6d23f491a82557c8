"""Hostile answers for the fake servers: a gateway that echoes the API key back — in
response headers, in JSON fields, as enum values the SDK does not know (google-genai
turns those into a ``UserWarning`` quoting the value), inside long error bodies at any
offset, split across lines, URL-encoded or upper-cased.

Everything is generated from the key at test time: no binary fixtures. Each helper
returns a :class:`~tests.fakes.Reply` to script on a route of :class:`GoogleFake` or
:class:`ElevenLabsFake`.
"""

from __future__ import annotations

import base64
import functools
import secrets
import string
from urllib.parse import quote

from tests.fakes import Reply, json_reply, media

_WORDS = "the gateway could not complete the request because of an upstream problem "
_ALNUM = string.ascii_letters + string.digits


def key_shapes(seed: str = "") -> dict[str, str]:
    """Keys of the shapes the studio meets, fresh for each test run."""

    def pick(alphabet: str, n: int) -> str:
        return "".join(secrets.choice(alphabet) for _ in range(n))

    return {
        "gemini": "AIzaSy" + pick(_ALNUM + "-_", 33),  # 39 characters
        "eleven-hex": secrets.token_hex(16),  # 32 hex digits
        "eleven-sk": "sk_" + secrets.token_hex(24),  # 51 characters
        "anthropic": "sk-ant-api03-" + pick(_ALNUM + "-_", 93) + "AA",  # 108 characters
        "custom": "Pa$s/" + pick(_ALNUM, 5) + "+K=",  # 13, with URL-special characters
        "custom-short": pick(_ALNUM, 8),  # the shortest key a user may set
        # quotes, commas and backslashes: characters a formatter also puts inside keys
        "custom-punct": "Q," + pick(_ALNUM, 3) + '"\\' + pick(_ALNUM, 3) + "'`~",
    }


def padded(key: str, offset: int, total: int = 0) -> str:
    """Words with ``key`` starting at character ``offset``, at least ``total`` long."""
    head = (_WORDS * (offset // len(_WORDS) + 1))[:offset]
    tail_len = max(8, total - offset - len(key))
    tail = (" and so on " * (tail_len // 11 + 1))[:tail_len]
    return head + key + tail


def disguises(key: str) -> list[str]:
    """The key as an SDK or a gateway may write it back."""
    return [
        key,
        quote(key, safe=""),
        key.upper(),
        key[: len(key) // 2] + "\n    " + key[len(key) // 2 :],
        repr(key.encode()),
        base64.b64encode(f"user:{key}".encode()).decode(),
    ]


def echo_headers(key: str) -> dict[str, str]:
    return {"x-echo-api-key": key, "x-request-id": key, "request-id": key}


# ------------------------------------------------------------------ Google (Gemini, Veo, Lyria)


def google_error(key: str, offset: int, code: int = 400) -> Reply:
    """A Google error whose message holds the key at ``offset`` (and whose details,
    status word and headers hold it too)."""
    status = "INVALID_ARGUMENT" if code == 400 else "PERMISSION_DENIED"
    return json_reply(
        {
            "error": {
                "code": code,
                "message": padded(key, offset) + " | " + " ".join(disguises(key)),
                "status": status,
                "details": [
                    {
                        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                        "reason": key,
                        "metadata": {"key": key, key: "value"},
                    }
                ],
            }
        },
        code,
        echo_headers(key),
    )


def gemini_image(key: str) -> Reply:
    """A successful image whose every other field is the key: text, model version,
    response id, and enum values (finish reason, safety category) the SDK doesn't know."""
    return json_reply(
        {
            "candidates": [
                {
                    "content": {
                        "role": "model",
                        "parts": [
                            {"text": padded(key, 3) + " " + " ".join(disguises(key))},
                            {
                                "inlineData": {
                                    "mimeType": "image/png",
                                    "data": base64.b64encode(media.png(32, 32, 3)).decode(),
                                }
                            },
                        ],
                    },
                    "finishReason": key,
                    "safetyRatings": [{"category": key, "probability": key}],
                }
            ],
            "usageMetadata": {"promptTokenCount": 3, "trafficType": key},
            "modelVersion": key,
            "responseId": key,
        },
        headers=echo_headers(key),
    )


def gemini_no_image(key: str, offset: int) -> Reply:
    """No image: the finish reason is the key and the text holds it at ``offset``."""
    return json_reply(
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": padded(key, offset)}]},
                    "finishReason": key,
                }
            ],
            "modelVersion": key,
        },
        headers=echo_headers(key),
    )


def veo_done(key: str, op_id: str) -> Reply:
    """A finished Veo operation named after the key (the video id stays clean so the
    SDK can download it)."""
    uri = f"https://generativelanguage.googleapis.com/v1beta/files/{op_id}:download?alt=media"
    return json_reply(
        {
            "name": f"models/veo/operations/{key}",
            "done": True,
            "metadata": {"echo": key},
            "response": {
                "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse",
                "generateVideoResponse": {"generatedSamples": [{"video": {"uri": uri}}]},
            },
        },
        headers=echo_headers(key),
    )


def veo_failed(key: str, offset: int) -> Reply:
    return json_reply(
        {
            "name": "models/veo/operations/failed",
            "done": True,
            "error": {"code": 3, "message": padded(key, offset), "details": [{"key": key}]},
        },
        headers=echo_headers(key),
    )


def mp4(seconds: float = 4.0) -> Reply:
    return Reply(200, media.mp4(seconds, 32, 18), {"content-type": "video/mp4"})


def lyria_song(key: str) -> Reply:
    return json_reply(
        {
            "id": key,
            "model": key,
            "status": "completed",
            "steps": [
                {
                    "type": "model_output",
                    "content": [
                        {"type": "text", "text": padded(key, 11)},
                        {
                            "type": "audio",
                            "mime_type": "audio/mpeg",
                            "data": base64.b64encode(media.mp3(1.0)).decode(),
                        },
                    ],
                }
            ],
            "usage": {"total_tokens": 9},
        },
        headers=echo_headers(key),
    )


def lyria_failed(key: str, offset: int) -> Reply:
    return json_reply(
        {
            "id": key,
            "model": "lyria-3-clip-preview",
            "status": "failed",
            "errors": [{"code": key, "message": padded(key, offset)}],
        },
        headers=echo_headers(key),
    )


# ------------------------------------------------------------------ ElevenLabs


def eleven_error(key: str, offset: int, status: int = 400) -> Reply:
    return json_reply(
        {"detail": {"status": key, "message": padded(key, offset)}},
        status,
        echo_headers(key),
    )


def eleven_plain_error(key: str, offset: int, status: int = 400) -> Reply:
    """An error body that is not JSON (a proxy's page)."""
    body = padded(key, offset).encode()
    return Reply(status, body, {"content-type": "text/plain", **echo_headers(key)})


def eleven_validation(key: str, offset: int) -> Reply:
    detail = [{"loc": ["body", key], "msg": padded(key, offset), "type": key}]
    return json_reply({"detail": detail}, 422, echo_headers(key))


def eleven_not_audio(key: str, offset: int) -> Reply:
    """A 200 answer that is text, not audio (quoted in the error)."""
    body = padded(key, offset, 600).encode()
    return Reply(200, body, {"content-type": "text/html", **echo_headers(key)})


def eleven_audio(key: str) -> Reply:
    headers = {"content-type": "audio/mpeg", "character-cost": key, "song-id": key}
    return Reply(200, media.mp3(1.0), {**headers, **echo_headers(key)})


# ------------------------------------------------------------------ finding leaks


@functools.lru_cache(maxsize=64)
def fragments(key: str, size: int = 8) -> frozenset[str]:
    """Every ``size``-character piece of the key (and of its URL-encoded form): any
    longer piece holds one of these."""
    out: set[str] = set()
    for form in {key, quote(key, safe="")}:
        out |= {form[i : i + size] for i in range(len(form) - size + 1)}
    return frozenset(out)


def leaks(text: str | bytes, key: str) -> list[str]:
    """The pieces of ``key`` (≥ 8 characters) found in ``text``."""
    if isinstance(text, bytes):
        return [f for f in fragments(key) if f.encode() in text]
    return [f for f in fragments(key) if f in text]
