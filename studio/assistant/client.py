"""Claude through the official SDK: one streamed turn at a time, retries off (the caller
decides when to try again), every failure mapped to one clear :class:`StudioError`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from studio.assistant import errors as e
from studio.assistant.models import DEFAULT_MODEL, MAX_TOKENS, TIMEOUT_S
from studio.core.limits import shown
from workers.redaction import redact, register

if TYPE_CHECKING:  # the SDK takes seconds to import: only once a chat starts
    import anthropic

DEFAULT_BASE_URL = "https://api.anthropic.com"


@dataclass(frozen=True, slots=True)
class TurnResult:
    """One assistant turn: its content blocks as JSON (text, tool_use), why it ended
    (``stopped``: the person stopped it; only the text so far is kept), and its usage."""

    blocks: tuple[dict[str, Any], ...]
    stop_reason: str
    usage: Mapping[str, int] = field(default_factory=dict)
    model: str = ""

    @property
    def text(self) -> str:
        return "".join(b["text"] for b in self.blocks if b.get("type") == "text")

    @property
    def tool_uses(self) -> tuple[dict[str, Any], ...]:
        return tuple(b for b in self.blocks if b.get("type") == "tool_use")


class ClaudeClient:
    """A Messages API client. ``stop`` (an event) ends a stream early, between events."""

    def __init__(
        self,
        api_key: str,
        *,
        base_url: str | None = None,
        model: str = DEFAULT_MODEL,
        timeout_s: float = TIMEOUT_S,
    ) -> None:
        import anthropic

        register(api_key)  # never in a log line, error or file
        self.model = model
        self.base_url = base_url or DEFAULT_BASE_URL
        self.timeout_s = timeout_s
        self._sdk = anthropic.Anthropic(
            api_key=api_key, base_url=self.base_url, max_retries=0, timeout=timeout_s
        )

    def close(self) -> None:
        self._sdk.close()

    def model_ids(self) -> list[str]:
        """The model ids the key may use (``GET /v1/models``), newest first."""
        import anthropic

        try:
            return [m.id for m in self._sdk.models.list(limit=100)]
        except anthropic.APIError as exc:
            raise self._mapped(exc) from None

    def turn(
        self,
        *,
        system: Sequence[Mapping[str, Any]],
        tools: Sequence[Mapping[str, Any]],
        messages: Sequence[Mapping[str, Any]],
        on_text: Callable[[str], None] | None = None,
        stop: threading.Event | None = None,
        model: str | None = None,
        max_tokens: int = MAX_TOKENS,
    ) -> TurnResult:
        """Stream one assistant turn, calling ``on_text`` with each piece of text."""
        import anthropic

        kwargs: dict[str, Any] = {
            "model": model or self.model,
            "max_tokens": max_tokens,
            "system": list(system),
            "messages": list(messages),
        }
        if tools:
            kwargs["tools"] = list(tools)
        try:
            with self._sdk.messages.stream(**kwargs) as stream:
                for event in stream:
                    if stop is not None and stop.is_set():
                        snap = stream.current_message_snapshot
                        text = "".join(b.text for b in snap.content if b.type == "text")
                        kept: tuple[dict[str, Any], ...] = (
                            ({"type": "text", "text": text},) if text else ()
                        )
                        return TurnResult(kept, "stopped", {}, snap.model)
                    if event.type == "text" and on_text is not None:
                        on_text(event.text)
                final = stream.get_final_message()
        except anthropic.APIError as exc:
            raise self._mapped(exc) from None
        blocks = tuple(_block_json(b) for b in final.content)
        usage = {
            k: v
            for k, v in final.usage.model_dump().items()
            if isinstance(v, int) and not isinstance(v, bool)
        }
        return TurnResult(
            tuple(b for b in blocks if b), final.stop_reason or "end_turn", usage, final.model
        )

    def _mapped(self, exc: anthropic.APIError) -> Exception:
        return map_error(exc, self.base_url, self.timeout_s)


def _block_json(block: Any) -> dict[str, Any]:
    if block.type == "text":
        return {"type": "text", "text": block.text}
    if block.type == "tool_use":
        return {"type": "tool_use", "id": block.id, "name": block.name, "input": block.input}
    return {}


def _body_error(exc: anthropic.APIError) -> tuple[str, str]:
    body = exc.body
    if isinstance(body, Mapping) and isinstance(body.get("error"), Mapping):
        err = body["error"]
        return str(err.get("type", "")), str(err.get("message", ""))
    return "", ""


def map_error(exc: anthropic.APIError, base_url: str, timeout_s: float) -> Exception:
    """The one-sentence error a person sees for what the SDK raised."""
    import anthropic

    kind, message = _body_error(exc)
    said = shown(redact(message), 300)
    if isinstance(exc, anthropic.APITimeoutError):
        return e.OfflineError(f"Claude did not answer within {timeout_s:g} seconds; try again")
    if isinstance(exc, anthropic.APIConnectionError):
        host = urlsplit(base_url).netloc or base_url
        return e.OfflineError(f"could not reach Claude at {host}: are you offline?")
    status = getattr(exc, "status_code", None)
    if isinstance(exc, anthropic.AuthenticationError) or kind == "authentication_error":
        return e.BadKeyError(
            "Anthropic refused the API key; check it with `studio keys set anthropic`"
        )
    if isinstance(exc, anthropic.RateLimitError) or kind == "rate_limit_error":
        after = _retry_after(exc)
        when = f"in {after:g} seconds" if after is not None else "in a minute"
        return e.RateLimitedError(f"Claude's rate limit is reached; try again {when}", after)
    if kind == "overloaded_error" or status == 529:
        return e.AssistantBusyError("Claude is busy (overloaded); try again in a minute")
    if isinstance(exc, anthropic.BadRequestError) or kind == "invalid_request_error":
        return e.AssistantRequestError(f"Claude refused the request: {said}")
    if isinstance(exc, anthropic.InternalServerError):
        return e.AssistantBusyError(
            f"Claude had a server error (HTTP {status}); try again in a minute"
        )
    return e.AssistantError(f"Claude answered with an error (HTTP {status}): {said}")


def _retry_after(exc: anthropic.APIError) -> float | None:
    response = getattr(exc, "response", None)
    raw = None if response is None else response.headers.get("retry-after")
    try:
        value = float(raw) if raw is not None else None
    except ValueError:
        return None
    return value if value is not None and 0 <= value < 86_400 else None
