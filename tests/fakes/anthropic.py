"""A fake Anthropic Messages API: ``POST /v1/messages`` (JSON, or SSE with ``stream``)
and ``GET /v1/models``.

Wire format as checked on 2026-12-01 against the anthropic SDK 2.14.0 sources installed
here (``anthropic/_streaming.py``: SSE ``event:`` names, ``ping`` skipped, an ``error``
event raises; ``anthropic/_client.py``: the key goes in ``Authorization: Bearer``,
older SDKs send ``x-api-key``; ``anthropic/types/raw_*_event.py``) and the public docs
(platform.claude.com/docs/build-with-claude/streaming, /docs/api/errors,
/docs/build-with-claude/vision: images over 8000 px a side — 2000 px when a request
holds more than 20 images — or over 5 MB are refused). Errors are
``{"type": "error", "error": {"type", "message"}, "request_id"}``: 400
``invalid_request_error``, 401 ``authentication_error``, 429 ``rate_limit_error`` with
``retry-after``, 529 ``overloaded_error``.

Tests script whole turns (:func:`turn`): the fake renders each as a JSON message or as
an SSE stream, whichever the request asked for.
"""

from __future__ import annotations

import base64
import binascii
import io
import itertools
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from PIL import Image

from tests.fakes import FakeServer, Recorded, Reply, json_reply

MAX_IMAGE_EDGE = 8000
MAX_IMAGE_EDGE_MANY = 2000  # when a request holds more than 20 images
MAX_IMAGE_BYTES = 5 * 1024 * 1024
IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MODELS = ("claude-sonnet-5-5", "claude-haiku-5-5", "claude-opus-5-5")
_ids = itertools.count(1)


def api_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Reply:
    body = {"type": "error", "error": {"type": kind, "message": message}, "request_id": _rid()}
    return json_reply(body, status, {"request-id": body["request_id"], **(headers or {})})


def _rid() -> str:
    return f"req_fake{next(_ids):06d}"


def rate_limited(retry_after: str | None = "12") -> Reply:
    return api_error(
        429,
        "rate_limit_error",
        "This request would exceed your organization's rate limit of 50 requests per minute.",
        {"retry-after": retry_after} if retry_after else None,
    )


def overloaded() -> Reply:
    return api_error(529, "overloaded_error", "Overloaded")


def invalid_request(message: str) -> Reply:
    return api_error(400, "invalid_request_error", message)


def unauthorized() -> Reply:
    return api_error(401, "authentication_error", "invalid x-api-key")


@dataclass(frozen=True)
class Turn:
    """One scripted assistant message: text and/or tool calls."""

    text: str = ""
    tools: tuple[tuple[str, dict[str, Any]], ...] = ()
    stop_reason: str | None = None
    chunk: int = 12  # characters per text delta when streamed
    delay_s: float = 0.0  # between SSE events (a slow stream, to stop)
    error_after: int | None = None  # an ``error`` event after this many SSE events
    usage: dict[str, int] = field(
        default_factory=lambda: {"input_tokens": 120, "output_tokens": 30}
    )


@dataclass(frozen=True)
class Streamed(Reply):
    """An SSE reply sent event by event (``delay_s`` between them), then the connection
    closes."""

    events: tuple[bytes, ...] = ()
    gap_s: float = 0.0


def turn(
    text: str = "",
    *tools: tuple[str, dict[str, Any]],
    stop_reason: str | None = None,
    delay_s: float = 0.0,
    error_after: int | None = None,
) -> Callable[[Recorded], Reply]:
    """A scripted turn, rendered as JSON or SSE to match the request."""
    spec = Turn(text, tuple(tools), stop_reason, delay_s=delay_s, error_after=error_after)
    return lambda req: render(spec, req)


def _blocks(spec: Turn) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    if spec.text:
        out.append({"type": "text", "text": spec.text})
    for name, args in spec.tools:
        out.append(
            {"type": "tool_use", "id": f"toolu_fake{next(_ids):06d}", "name": name, "input": args}
        )
    return out


def render(spec: Turn, req: Recorded) -> Reply:
    body = req.json or {}
    blocks = _blocks(spec)
    stop = spec.stop_reason or ("tool_use" if spec.tools else "end_turn")
    message = {
        "id": f"msg_fake{next(_ids):06d}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model", MODELS[0]),
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": dict(spec.usage),
    }
    if not body.get("stream"):
        return json_reply(message, headers={"request-id": _rid()})
    events: list[tuple[str, dict[str, Any]]] = []
    start = {**message, "content": [], "stop_reason": None}
    start["usage"] = {"input_tokens": spec.usage["input_tokens"], "output_tokens": 1}
    events.append(("message_start", {"type": "message_start", "message": start}))
    events.append(("ping", {"type": "ping"}))
    for i, block in enumerate(blocks):
        if block["type"] == "text":
            events.append(
                (
                    "content_block_start",
                    {
                        "type": "content_block_start",
                        "index": i,
                        "content_block": {"type": "text", "text": ""},
                    },
                )
            )
            text = block["text"]
            for at in range(0, len(text), spec.chunk):
                delta = {"type": "text_delta", "text": text[at : at + spec.chunk]}
                events.append(
                    (
                        "content_block_delta",
                        {"type": "content_block_delta", "index": i, "delta": delta},
                    )
                )
        else:
            empty = {**block, "input": {}}
            events.append(
                (
                    "content_block_start",
                    {"type": "content_block_start", "index": i, "content_block": empty},
                )
            )
            raw = json.dumps(block["input"])
            for at in range(0, max(len(raw), 1), 9):  # partial JSON, as the API sends it
                delta = {"type": "input_json_delta", "partial_json": raw[at : at + 9]}
                events.append(
                    (
                        "content_block_delta",
                        {"type": "content_block_delta", "index": i, "delta": delta},
                    )
                )
        events.append(("content_block_stop", {"type": "content_block_stop", "index": i}))
    events.append(
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop, "stop_sequence": None},
                "usage": {"output_tokens": spec.usage["output_tokens"]},
            },
        )
    )
    events.append(("message_stop", {"type": "message_stop"}))
    if spec.error_after is not None:
        events = events[: spec.error_after]
        events.append(
            (
                "error",
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            )
        )
    encoded = tuple(
        f"event: {name}\ndata: {json.dumps(data)}\n\n".encode() for name, data in events
    )
    return Streamed(
        200,
        b"",
        {"content-type": "text/event-stream; charset=utf-8", "request-id": _rid()},
        events=encoded,
        gap_s=spec.delay_s,
    )


class AnthropicFake(FakeServer):
    def __init__(self, api_key: str) -> None:
        super().__init__(api_key)
        self.image_edges: list[tuple[int, int]] = []  # (width, height) of each image received

    def route(self, method: str, path: str) -> str | None:
        if method == "POST" and path == "/v1/messages":
            return "messages"
        if method == "GET" and path == "/v1/models":
            return "models"
        return None

    def check_auth(self, req: Recorded) -> Reply | None:
        bearer = req.headers.get("authorization", "")
        if req.headers.get("x-api-key") == self.api_key or bearer == f"Bearer {self.api_key}":
            return None
        return unauthorized()

    def messages(self) -> list[dict[str, Any]]:
        """The bodies of every messages request, in order."""
        return [r.json for r in self.of("messages")]

    # ------------------------------------------------------------------ validation
    def _reply(self, req: Recorded, scripted: Any) -> Reply:
        if req.route == "messages":
            refused = self.check_auth(req) or self.validate(req)
            if refused is not None:
                return refused
        return super()._reply(req, scripted)

    def validate(self, req: Recorded) -> Reply | None:
        try:
            body = req.json
        except ValueError:
            return invalid_request("The request body is not valid JSON.")
        if not isinstance(body, dict):
            return invalid_request("The request body must be an object.")
        if req.headers.get("anthropic-version") is None:
            return invalid_request("anthropic-version: header is required")
        for name in ("model", "max_tokens", "messages"):
            if name not in body:
                return invalid_request(f"{name}: Field required")
        if not isinstance(body["max_tokens"], int) or body["max_tokens"] < 1:
            return invalid_request("max_tokens: Input should be a valid integer greater than 0")
        if body["model"] not in MODELS:
            return api_error(404, "not_found_error", f"model: {body['model']}")
        return self._check_messages(body["messages"]) or self._check_tools(body.get("tools"))

    def _check_tools(self, tools: Any) -> Reply | None:
        if tools is None:
            return None
        names = set()
        for i, tool in enumerate(tools):
            if not isinstance(tool.get("input_schema"), dict) or "name" not in tool:
                return invalid_request(f"tools.{i}: name and input_schema are required")
            if tool["name"] in names:
                return invalid_request("tools: Tool names must be unique.")
            names.add(tool["name"])
        return None

    def _check_messages(self, messages: Any) -> Reply | None:
        if not isinstance(messages, list) or not messages:
            return invalid_request("messages: at least one message is required")
        if messages[0].get("role") != "user":
            return invalid_request('messages: first message must use the "user" role')
        images = sum(
            1
            for m in messages
            if isinstance(m.get("content"), list)
            for b in m["content"]
            if b.get("type") == "image"
        )
        limit = MAX_IMAGE_EDGE_MANY if images > 20 else MAX_IMAGE_EDGE
        pending: set[str] = set()  # tool_use ids the next user turn must answer
        for n, msg in enumerate(messages):
            role = msg.get("role")
            if role not in ("user", "assistant"):
                return invalid_request(f"messages.{n}.role: Input should be 'user' or 'assistant'")
            if n and messages[n - 1].get("role") == role:
                return invalid_request(
                    'messages: roles must alternate between "user" and "assistant"'
                )
            content = msg.get("content")
            blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
            if not isinstance(blocks, list):
                return invalid_request(f"messages.{n}.content: Input should be a valid list")
            answered: set[str] = set()
            for b, block in enumerate(blocks):
                where = f"messages.{n}.content.{b}"
                kind = block.get("type")
                if kind == "tool_use":
                    if role != "assistant":
                        return invalid_request(
                            f"{where}: tool_use blocks are only allowed in assistant messages"
                        )
                elif kind == "tool_result":
                    tid = block.get("tool_use_id")
                    if role != "user" or tid not in pending:
                        return invalid_request(
                            f"{where}: unexpected `tool_use_id` found in `tool_result` blocks: {tid}. "
                            "Each `tool_result` block must have a corresponding `tool_use` block in "
                            "the previous message."
                        )
                    answered.add(tid)
                elif kind == "image":
                    refused = self._check_image(block, where, limit)
                    if refused is not None:
                        return refused
                elif kind == "text":
                    if not isinstance(block.get("text"), str) or (
                        not block["text"] and role == "user"
                    ):
                        return invalid_request(
                            f"{where}.text: text content blocks must be non-empty"
                        )
                else:
                    return invalid_request(f"{where}.type: unknown content block type {kind!r}")
            if role == "user" and pending - answered:
                missing = ", ".join(sorted(pending - answered))
                return invalid_request(
                    f"messages.{n}: `tool_use` ids were found without `tool_result` blocks "
                    f"immediately after: {missing}. Each `tool_use` block must have a "
                    "corresponding `tool_result` block in the next message."
                )
            pending = (
                {blk["id"] for blk in blocks if blk.get("type") == "tool_use"}
                if role == "assistant"
                else set()
            )
        if messages[-1].get("role") == "assistant" and pending:
            return invalid_request("messages: the last assistant message has unanswered tool_use")
        return None

    def _check_image(self, block: dict[str, Any], where: str, limit: int) -> Reply | None:
        source = block.get("source") or {}
        if source.get("type") != "base64":
            return invalid_request(f"{where}.image.source: only base64 sources are served here")
        if source.get("media_type") not in IMAGE_TYPES:
            return invalid_request(
                f"{where}.image.source.base64.media_type: Input should be 'image/jpeg', "
                "'image/png', 'image/gif' or 'image/webp'"
            )
        try:
            data = base64.b64decode(source.get("data", ""), validate=True)
        except (binascii.Error, ValueError):
            return invalid_request(f"{where}.image.source.base64.data: invalid base64 data")
        if len(data) > MAX_IMAGE_BYTES:
            return invalid_request(
                f"{where}.image.source.base64: image exceeds 5 MB maximum: {len(data)} bytes > "
                f"{MAX_IMAGE_BYTES} bytes"
            )
        try:
            with Image.open(io.BytesIO(data)) as img:
                size = img.size
        except (OSError, ValueError):
            return invalid_request(f"{where}.image.source.base64.data: Could not process image")
        if max(size) > limit:
            return invalid_request(
                f"{where}.image.source.base64.data: image dimensions exceed max allowed size: "
                f"{limit} pixels"
            )
        with self._lock:
            self.image_edges.append(size)
        return None

    def default(self, req: Recorded) -> Reply:
        if req.route == "models":
            data = [
                {"type": "model", "id": m, "display_name": m, "created_at": "2026-11-01T00:00:00Z"}
                for m in MODELS
            ]
            return json_reply(
                {"data": data, "has_more": False, "first_id": MODELS[0], "last_id": MODELS[-1]}
            )
        return render(Turn("Hello from the fake Claude."), req)

    # ------------------------------------------------------------------ streaming
    def _serve(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        req = Recorded(
            method=handler.command,
            path=parts.path,
            query=dict(parse_qsl(parts.query)),
            headers={k.lower(): v for k, v in handler.headers.items()},
            body=body,
            route=self.route(handler.command, parts.path),
        )
        with self._lock:
            self.requests.append(req)
            queue = self._script[req.route]
            scripted = queue.popleft() if queue and req.route else None
        reply = self._reply(req, scripted)
        if reply.delay_s and self._stop.wait(reply.delay_s):
            return
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers.items():
                handler.send_header(name, value)
            if isinstance(reply, Streamed):
                handler.send_header("connection", "close")
                handler.end_headers()
                _stream(handler, reply.events, reply.gap_s, self._stop.wait)
                handler.close_connection = True
                return
            handler.send_header("content-length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (a stop or timeout test)


def _stream(
    handler: BaseHTTPRequestHandler,
    events: Sequence[bytes],
    gap_s: float,
    wait: Callable[[float], bool],
) -> None:
    deadline = time.monotonic() + 30.0  # bounded: a forgotten stream ends anyway
    for event in events:
        handler.wfile.write(event)
        handler.wfile.flush()
        if gap_s and (wait(gap_s) or time.monotonic() > deadline):
            return
