"""A fake Gemini API (``/v1beta``): ``models/{m}:generateContent`` (Gemini images),
``models/{m}:predictLongRunning`` + ``GET {operation}`` + ``files/{id}:download``
(Veo), and ``interactions`` (Lyria 3). Key in ``x-goog-api-key``; errors in Google's
``{"error": {"code", "message", "status", "details"}}`` shape.
"""

from __future__ import annotations

import base64
import itertools
import re
import threading
from collections import deque
from typing import Any

from tests.fakes import FakeServer, Recorded, Reply, json_reply, media

_MODEL_CALL = re.compile(r"^/v1beta/models/([^/:]+):(generateContent|predictLongRunning)$")
_OPERATION = re.compile(r"^/v1beta/(?:models/[^/]+/)?operations/([^/]+)$")
_DOWNLOAD = re.compile(r"^/v1beta/files/([^/:]+):download$")
SIZES = {"1K": 64, "2K": 96, "4K": 128}
RATINGS = [
    {"category": "HARM_CATEGORY_HARASSMENT", "probability": "NEGLIGIBLE"},
    {"category": "HARM_CATEGORY_DANGEROUS_CONTENT", "probability": "NEGLIGIBLE"},
]


def google_error(
    code: int,
    status: str,
    message: str,
    details: list[dict[str, Any]] | None = None,
    headers: dict[str, str] | None = None,
) -> Reply:
    body: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        body["details"] = details
    return json_reply({"error": body}, code, headers)


def rate_limited(retry_after: str | None = "7", retry_delay: str | None = None) -> Reply:
    details = []
    if retry_delay is not None:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": retry_delay}
        )
    return google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
        details,
        {"retry-after": retry_after} if retry_after else None,
    )


def quota_exhausted() -> Reply:
    return google_error(
        429,
        "RESOURCE_EXHAUSTED",
        "You exceeded your current quota, please check your plan and billing details.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": "generativelanguage.googleapis.com/generate_requests",
                        "quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier",
                    }
                ],
            }
        ],
    )


def bad_key() -> Reply:
    return google_error(
        400,
        "INVALID_ARGUMENT",
        "API key not valid. Please pass a valid API key.",
        [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}],
    )


def blocked_prompt() -> Reply:
    return json_reply(
        {
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "modelVersion": "gemini-2.5-flash-image",
            "responseId": "blocked-1",
        }
    )


def image_safety(text: str = "I can't make that image.") -> Reply:
    return json_reply(
        {
            "candidates": [
                {
                    "content": {"role": "model", "parts": [{"text": text}]},
                    "finishReason": "IMAGE_SAFETY",
                }
            ],
            "modelVersion": "gemini-2.5-flash-image",
            "responseId": "unsafe-1",
        }
    )


# The ids this fake serves (as the real service did on 2026-11-30, per the sources in
# workers/gemini.py, veo.py and lyria.py): any other id answers the real 404.
SERVED = frozenset(
    {
        "gemini-3.1-flash-image",
        "gemini-3-pro-image",
        "gemini-3.1-flash-lite-image",
        "gemini-2.5-flash-image",
        "veo-3.1-generate-preview",
        "veo-3.1-fast-generate-preview",
        "lyria-3-clip-preview",
        "lyria-3.5",
        "lyria-3-pro-preview",
        "gemini-omni-1.1-flash",
        "gemini-3.8-flash",
    }
)
# What generateContent's body may hold (REST camelCase; the SDK sends these): a field
# outside them is refused like the real API does.
_CONTENT_FIELDS = frozenset(
    {"contents", "generationConfig", "safetySettings", "systemInstruction", "tools"}
)
_GENERATION_FIELDS = frozenset(
    {
        "responseModalities",
        "imageConfig",
        "seed",
        "temperature",
        "candidateCount",
        "thinkingConfig",
        "maxOutputTokens",
    }
)
_IMAGE_FIELDS = frozenset({"aspectRatio", "imageSize"})
_INTERACTION_FIELDS = frozenset(
    {
        "model",
        "input",
        "generation_config",
        "response_format",
        "stream",
        "background",
        "store",
        "agent",
    }
)
# The SDK's VideoResponseFormat (google-genai 2.34.0): what a video answer may be asked for.
_VIDEO_FORMAT = {
    "aspect_ratio": {"16:9", "9:16"},
    "resolution": {"360p", "720p", "1080p", "4k"},
    "delivery": {"inline", "uri"},
}
_VIDEO_SIDE = {"360p": 48, "720p": 64, "1080p": 96, "4k": 128}


def model_not_found(model: str, method: str = "generateContent") -> Reply:
    """The real shape of a 404 for a retired or unknown model."""
    return google_error(
        404,
        "NOT_FOUND",
        f"models/{model} is not found for API version v1beta, or is not supported for "
        f"{method}. Call ListModels to see the list of available models and their "
        "supported methods.",
    )


def unknown_field(name: str) -> Reply:
    return google_error(
        400,
        "INVALID_ARGUMENT",
        f'Invalid JSON payload received. Unknown name "{name}": Cannot find field.',
        [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"description": f'Unknown name "{name}"'}],
            }
        ],
    )


def image_part(n: int, width: int = 64, height: int = 64, thought: bool = False) -> dict[str, Any]:
    part: dict[str, Any] = {
        "inlineData": {
            "mimeType": "image/png",
            "data": base64.b64encode(media.png(width, height, n)).decode(),
        }
    }
    if thought:
        part["thought"] = True
    return part


def candidate_answer(
    parts: list[dict[str, Any]], finish: str = "STOP", model: str = "gemini-3.1-flash-image"
) -> Reply:
    """A generateContent answer with one candidate holding ``parts``."""
    return json_reply(
        {
            "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": finish}],
            "modelVersion": model,
            "responseId": f"answer-{finish.lower()}",
        }
    )


def no_image(finish: str, text: str | None = None) -> Reply:
    """An answer without an image: text only (``STOP``), ``NO_IMAGE``, ``MAX_TOKENS``…"""
    return candidate_answer([{"text": text}] if text else [], finish)


def multi_image(count: int = 3, drafts: int = 1) -> Reply:
    """``drafts`` thought (draft) images, then ``count`` final ones, as Gemini 3 sends."""
    parts: list[dict[str, Any]] = [{"text": "thinking…", "thought": True}]
    parts += [image_part(100 + i, 32, 32, thought=True) for i in range(drafts)]
    parts += [{"text": "Here are your pictures."}]
    parts += [image_part(i + 1, 64, 48) for i in range(count)]
    return candidate_answer(parts)


def interaction(status: str, *, audio: bool = False, errors: list[Any] | None = None) -> Reply:
    """An Interactions answer in the given status (google-genai 2.34.0 InteractionStatus)."""
    content: list[dict[str, Any]] = [{"type": "text", "text": "[Verse]\nla"}]
    if audio:
        content.append(
            {
                "type": "audio",
                "mime_type": "audio/mpeg",
                "data": base64.b64encode(media.mp3(1.0)).decode(),
            }
        )
    body: dict[str, Any] = {
        "id": f"interaction-{status}",
        "model": "lyria-3.5",
        "status": status,
        "steps": [{"type": "model_output", "content": content}],
    }
    if errors:
        body["errors"] = errors
    return json_reply(body)


class GoogleFake(FakeServer):
    """Gemini, Veo and Lyria on one fake ``generativelanguage`` host."""

    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self.served: set[str] = set(SERVED)  # the ids answered; others get the 404
        self.page_size = 4  # models per page of GET /v1beta/models (tests the paging)
        self._ids = itertools.count(1)
        self._ops: dict[str, dict[str, Any]] = {}
        self._ops_lock = threading.Lock()
        self.veo_polls = 1  # polls answered "not done" before an operation finishes
        self.veo_outcomes: deque[dict[str, Any]] = deque()  # {"error": …} / {"filtered": […]}

    def route(self, method: str, path: str) -> str | None:
        m = _MODEL_CALL.match(path)
        if m and method == "POST":
            return m.group(2)
        if _OPERATION.match(path) and method == "GET":
            return "operation"
        if _DOWNLOAD.match(path) and method == "GET":
            return "download"
        if path == "/v1beta/interactions" and method == "POST":
            return "interactions"
        if path == "/v1beta/models" and method == "GET":
            return "models"
        return None

    def check_auth(self, req: Recorded) -> Reply | None:
        return None if req.headers.get("x-goog-api-key") == self.api_key else bad_key()

    def _reply(self, req: Recorded, scripted: Any) -> Reply:
        """Auth, then the model check and body validation, before any scripted answer."""
        if req.route is not None and self.check_auth(req) is None:
            refused = self._refuse(req)
            if refused is not None:
                return refused
        return super()._reply(req, scripted)

    def _refuse(self, req: Recorded) -> Reply | None:
        m = _MODEL_CALL.match(req.path)
        if m is not None:
            if m.group(1) not in self.served:
                return model_not_found(m.group(1), m.group(2))
            if m.group(2) == "generateContent":
                return _check_content(req.json)
            return _check_video(req.json)
        if req.route == "interactions":
            body = req.json
            for name in body:
                if name not in _INTERACTION_FIELDS:
                    return unknown_field(name)
            if body.get("model") not in self.served:
                return model_not_found(str(body.get("model")), "interactions")
        return None

    def default(self, req: Recorded) -> Reply:
        return {
            "models": self._models,
            "generateContent": self._generate_content,
            "predictLongRunning": self._predict,
            "operation": self._operation,
            "download": self._download,
            "interactions": self._interaction,
        }[str(req.route)](req)

    # ------------------------------------------------------------------ models.list
    def _models(self, req: Recorded) -> Reply:
        ids = sorted(self.served)
        size = min(int(req.query.get("pageSize") or self.page_size), self.page_size)
        start = int(req.query.get("pageToken") or 0)
        page = ids[start : start + size]
        body: dict[str, Any] = {
            "models": [
                {"name": f"models/{i}", "displayName": i, "supportedGenerationMethods": []}
                for i in page
            ]
        }
        if start + size < len(ids):
            body["nextPageToken"] = str(start + size)
        return json_reply(body)

    # ------------------------------------------------------------------ Gemini
    @staticmethod
    def inline_images(req: Recorded) -> list[dict[str, Any]]:
        """The request's inline parts (the SDK sends ``mime_type`` snake_case inside
        ``inlineData``; the REST docs spell it ``mimeType``: both are accepted)."""
        out = []
        for content in req.json.get("contents", []):
            for part in content.get("parts", []):
                data = part.get("inlineData") or part.get("inline_data")
                if data:
                    out.append(
                        {
                            "mime_type": data.get("mimeType") or data.get("mime_type"),
                            "data": b64decode(data["data"]),
                        }
                    )
        return out

    def _generate_content(self, req: Recorded) -> Reply:
        model = _MODEL_CALL.match(req.path).group(1)  # type: ignore[union-attr]
        config = req.json.get("generationConfig", {}).get("imageConfig", {})
        width, height = media.dims(
            config.get("aspectRatio", "1:1"), SIZES[config.get("imageSize", "1K")]
        )
        n = next(self._ids)
        return json_reply(
            {
                "candidates": [
                    {
                        "content": {
                            "role": "model",
                            "parts": [
                                {"text": "Here is your picture."},
                                {
                                    "inlineData": {
                                        "mimeType": "image/png",
                                        "data": base64.b64encode(
                                            media.png(width, height, n)
                                        ).decode(),
                                    }
                                },
                            ],
                        },
                        "finishReason": "STOP",
                        "safetyRatings": RATINGS,
                    }
                ],
                "usageMetadata": {
                    "promptTokenCount": 12,
                    "candidatesTokenCount": 1290,
                    "totalTokenCount": 1302,
                },
                "modelVersion": model,
                "responseId": f"resp-{n}",
            }
        )

    # ------------------------------------------------------------------ Veo
    def _predict(self, req: Recorded) -> Reply:
        model = _MODEL_CALL.match(req.path).group(1)  # type: ignore[union-attr]
        op_id = f"op{next(self._ids)}"
        params = req.json.get("parameters", {})
        outcome = self.veo_outcomes.popleft() if self.veo_outcomes else {}
        with self._ops_lock:
            self._ops[op_id] = {
                "model": model,
                "params": params,
                "polls": self.veo_polls,
                **outcome,
            }
        name = f"models/{model}/operations/{op_id}"
        if self.veo_polls <= 0:
            return json_reply(self._op_body(op_id, name))
        return json_reply({"name": name})

    def _operation(self, req: Recorded) -> Reply:
        op_id = _OPERATION.match(req.path).group(1)  # type: ignore[union-attr]
        with self._ops_lock:
            op = self._ops.get(op_id)
            if op is None:
                return google_error(404, "NOT_FOUND", f"operation {op_id} not found")
            op["polls"] -= 1
            pending = op["polls"] >= 0
        name = req.path.removeprefix("/v1beta/")
        if pending:
            return json_reply({"name": name, "metadata": {}})
        return json_reply(self._op_body(op_id, name))

    def _op_body(self, op_id: str, name: str) -> dict[str, Any]:
        op = self._ops[op_id]
        body: dict[str, Any] = {"name": name, "done": True}
        if "error" in op:
            body["error"] = op["error"]
            return body
        response: dict[str, Any] = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta.PredictLongRunningResponse"
        }
        if "filtered" in op:
            response["generateVideoResponse"] = {
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": op["filtered"],
            }
        else:
            uri = (
                f"https://generativelanguage.googleapis.com/v1beta/files/{op_id}:download?alt=media"
            )
            response["generateVideoResponse"] = {"generatedSamples": [{"video": {"uri": uri}}]}
        body["response"] = response
        return body

    def _download(self, req: Recorded) -> Reply:
        op_id = _DOWNLOAD.match(req.path).group(1)  # type: ignore[union-attr]
        with self._ops_lock:
            op = self._ops.get(op_id)
        if op is None:
            return google_error(404, "NOT_FOUND", f"file {op_id} not found")
        params = op["params"]
        long_side = 96 if params.get("resolution") == "1080p" else 64
        width, height = media.dims(params.get("aspectRatio", "16:9"), long_side)
        data = media.mp4(float(params.get("durationSeconds", 8)), width, height)
        return Reply(200, data, {"content-type": "video/mp4"})

    # ------------------------------------------------------------------ Lyria
    def _omni(self, req: Recorded) -> Reply:
        body = req.json
        fmt = body.get("response_format") or {}
        if isinstance(fmt, list):
            fmt = next((f for f in fmt if f.get("type") == "video"), {})
        for name, value in fmt.items():
            if name == "type":
                continue
            allowed = _VIDEO_FORMAT.get(name)
            if allowed is None or value not in allowed:
                return unknown_field(f"response_format.{name}")
        text = body["input"] if isinstance(body["input"], str) else _input_text(body["input"])
        m = re.search(r"about (\d+(?:\.\d+)?) seconds", text)
        seconds = float(m.group(1)) if m else 8.0
        width, height = media.dims(
            fmt.get("aspect_ratio", "16:9"), _VIDEO_SIDE[fmt.get("resolution", "720p")]
        )
        n = next(self._ids)
        return json_reply(
            {
                "id": f"interaction-{n}",
                "model": body["model"],
                "status": "completed",
                "steps": [
                    {"type": "user_input", "content": [{"type": "text", "text": text}]},
                    {
                        "type": "model_output",
                        "content": [
                            {
                                "type": "video",
                                "mime_type": "video/mp4",
                                "data": base64.b64encode(
                                    media.mp4(seconds, width, height)
                                ).decode(),
                            }
                        ],
                    },
                ],
            }
        )

    def _interaction(self, req: Recorded) -> Reply:
        body = req.json
        if str(body.get("model", "")).startswith("gemini-omni"):
            return self._omni(req)
        text = body["input"] if isinstance(body["input"], str) else _input_text(body["input"])
        m = re.search(r"about (\d+(?:\.\d+)?) seconds", text)
        seconds = (
            30.0 if body["model"] == "lyria-3-clip-preview" else float(m.group(1) if m else 45)
        )
        n = next(self._ids)
        return json_reply(
            {
                "id": f"interaction-{n}",
                "model": body["model"],
                "status": "completed",
                "steps": [
                    {"type": "user_input", "content": [{"type": "text", "text": text}]},
                    {
                        "type": "model_output",
                        "content": [
                            {"type": "text", "text": "[Verse 1]\nla la la\n[Chorus]\noh oh"},
                            {
                                "type": "audio",
                                "mime_type": "audio/mpeg",
                                "data": base64.b64encode(media.mp3(seconds)).decode(),
                            },
                        ],
                    },
                ],
                "usage": {
                    "total_input_tokens": 20,
                    "total_output_tokens": 900,
                    "total_tokens": 920,
                },
            }
        )


def _check_content(body: dict[str, Any]) -> Reply | None:
    for name in body:
        if name not in _CONTENT_FIELDS:
            return unknown_field(name)
    config = body.get("generationConfig") or {}
    for name in config:
        if name not in _GENERATION_FIELDS:
            return unknown_field(f"generation_config.{name}")
    for name in config.get("imageConfig") or {}:
        if name not in _IMAGE_FIELDS:
            return unknown_field(f"generation_config.image_config.{name}")
    contents = body.get("contents")
    if not isinstance(contents, list) or not contents:
        return google_error(400, "INVALID_ARGUMENT", "* contents: contents is not specified")
    return None


# What predictLongRunning's body may hold: the fields google-genai 2.34.0 sends for the
# Gemini API (models.py, _GenerateVideos*_to_mldev), with Veo 3.1's documented values.
_VIDEO_INSTANCE = frozenset({"prompt", "image", "lastFrame", "referenceImages", "video"})
_VIDEO_PARAMETERS = {
    "aspectRatio": {"16:9", "9:16"},
    "resolution": {"720p", "1080p", "4k"},
    "durationSeconds": {4, 6, 8},
}
_VIDEO_FREE = frozenset(
    {"enhancePrompt", "negativePrompt", "personGeneration", "sampleCount", "seed"}
)


def _check_video(body: dict[str, Any]) -> Reply | None:
    instances = body.get("instances")
    if not isinstance(instances, list) or len(instances) != 1:
        return google_error(400, "INVALID_ARGUMENT", "* instances: exactly one is needed")
    for name in instances[0]:
        if name not in _VIDEO_INSTANCE:
            return unknown_field(f"instances[0].{name}")
    if len(instances[0].get("referenceImages") or ()) > 3:
        return google_error(400, "INVALID_ARGUMENT", "at most 3 reference images")
    for name, value in (body.get("parameters") or {}).items():
        allowed = _VIDEO_PARAMETERS.get(name)
        if allowed is None and name not in _VIDEO_FREE:
            return unknown_field(f"parameters.{name}")
        if allowed is not None and value not in allowed:
            return google_error(400, "INVALID_ARGUMENT", f"{name} {value!r} is not supported")
    return None


def b64decode(text: str) -> bytes:
    """Google accepts standard and URL-safe base64 (the SDK sends URL-safe, padded)."""
    text = text.replace("-", "+").replace("_", "/")
    return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)


def _input_text(items: list[dict[str, Any]]) -> str:
    texts = []
    for item in items:
        for content in item.get("content", [item]):
            if content.get("type") == "text":
                texts.append(content["text"])
    return "\n".join(texts)


def interaction_images(req: Recorded) -> list[dict[str, Any]]:
    out = []
    body = req.json
    if isinstance(body["input"], list):
        for item in body["input"]:
            for content in item.get("content", [item]):
                if content.get("type") == "image":
                    out.append(
                        {
                            "mime_type": content.get("mime_type"),
                            "data": b64decode(content["data"]),
                        }
                    )
    return out


def lyria_failed(code: str = "SAFETY", message: str = "The prompt was blocked.") -> Reply:
    return json_reply(
        {
            "id": "interaction-failed",
            "model": "lyria-3-clip-preview",
            "status": "failed",
            "errors": [{"code": code, "message": message}],
        }
    )


def lyria_text_only(text: str = "I can't write that song.") -> Reply:
    return json_reply(
        {
            "id": "interaction-text",
            "model": "lyria-3-clip-preview",
            "status": "completed",
            "steps": [{"type": "model_output", "content": [{"type": "text", "text": text}]}],
        }
    )
