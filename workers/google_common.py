"""The Google providers' shared parts (gemini, veo, lyria): building a ``google-genai``
client, and mapping its errors — and Google's error JSON — onto the taxonomy.

The SDK is imported inside the functions, so importing this module stays cheap.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from workers.base import Capabilities, ErrorKind, ProviderError
from workers.cloud import error, parse_retry_after

API_VERSION = "v1beta"

_SAFETY = re.compile(
    r"\bsafety\b|\bblocked\b|prohibited|responsible ai|usage guidelines|content polic",
    re.IGNORECASE,
)
# A 429 is a dead quota only with a marker of one: a per-day quota violation, or billing /
# prepaid credit words. Google's common rate-limit body says only "Resource has been
# exhausted (e.g. check quota)": that is a rate limit (retried), not a used-up quota.
_BILLING = re.compile(
    r"billing|prepa(?:id|yment)|credits? (?:are |is )?(?:depleted|exhausted)|spend(?:ing)? cap",
    re.IGNORECASE,
)
_BILLING_REASONS = frozenset({"BILLING_DISABLED", "BILLING_NOT_ACTIVE", "CREDITS_EXHAUSTED"})
_MODEL_GONE = re.compile(
    r"models/|ListModels|no longer available|is not found|not supported for", re.IGNORECASE
)
_BAD_KEY = re.compile(r"api[ _]?key", re.IGNORECASE)
# google.rpc.Code → the HTTP status Google pairs it with (operation errors carry rpc codes).
RPC_TO_HTTP = {1: 499, 2: 500, 3: 400, 4: 504, 5: 404, 6: 409, 7: 403, 8: 429, 9: 400, 10: 409}
RPC_TO_HTTP.update({11: 400, 12: 501, 13: 500, 14: 503, 15: 500, 16: 401})


def make_client(api_key: str, base_url: str | None, timeout_s: float) -> Any:
    """A ``google.genai.Client`` for the Gemini Developer API: key in the
    ``x-goog-api-key`` header, the given base URL (a gateway, or a test fake), one
    attempt per call (the job scheduler owns retries) and a timeout per request."""
    from google import genai
    from google.genai import types

    options = types.HttpOptions(
        api_version=API_VERSION,
        timeout=max(1, int(timeout_s * 1000)),
        retry_options=types.HttpRetryOptions(attempts=1),
    )
    if base_url:
        options.base_url = base_url.rstrip("/") + "/"
    # vertexai=False: GOOGLE_GENAI_USE_VERTEXAI in the environment must not switch APIs.
    return genai.Client(vertexai=False, api_key=api_key, http_options=options)


MAX_LISTED_MODELS = 2000  # a bound on the pages read; the Gemini API lists a few hundred
LIST_TIMEOUT_S = 10.0  # a model list is small: give up soon rather than hold up the app


def list_model_ids(client: Any) -> list[str]:
    """The model ids the key may use: ``models.list`` (``GET /v1beta/models``, every page
    through the SDK's pager, bounded), ``models/`` prefix dropped."""
    ids: list[str] = []
    for i, model in enumerate(client.models.list(config={"page_size": 1000})):
        if i >= MAX_LISTED_MODELS:
            break
        name = str(getattr(model, "name", "") or "")
        if name:
            ids.append(name.removeprefix("models/"))
    return ids


def _error_body(details: Any) -> Mapping[str, Any]:
    if isinstance(details, Mapping):
        inner = details.get("error", details)
        return inner if isinstance(inner, Mapping) else {}
    return {}


def _detail_items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    items = body.get("details")
    return [d for d in items if isinstance(d, Mapping)] if isinstance(items, list) else []


def _retry_delay(items: list[Mapping[str, Any]]) -> float | None:
    """``google.rpc.RetryInfo.retryDelay`` such as ``"7s"`` or ``"0.250s"``."""
    for item in items:
        delay = item.get("retryDelay")
        if isinstance(delay, str) and delay.endswith("s"):
            try:
                return max(0.0, float(delay[:-1]))
            except ValueError:
                return None
    return None


def _daily_quota(items: list[Mapping[str, Any]]) -> bool:
    for item in items:
        for violation in item.get("violations") or ():
            if isinstance(violation, Mapping) and "PerDay" in str(violation.get("quotaId", "")):
                return True
    return False


def _reasons(items: list[Mapping[str, Any]]) -> set[str]:
    return {str(item["reason"]) for item in items if item.get("reason")}


def from_status(
    provider: str,
    code: int | None,
    status: str | None,
    message: str | None,
    details: Any = None,
    headers: Mapping[str, str] | None = None,
    model: ModelContext | None = None,
) -> ProviderError:
    """A Google error (HTTP status, ``status`` word, message, JSON) as a ProviderError.
    ``model`` (the capabilities and the model id asked for) turns a 404 about the model
    into a sentence naming its replacement."""
    body = _error_body(details)
    items = _detail_items(body)
    code = int(code or body.get("code") or 0)
    status = status or body.get("status")
    message = message or body.get("message") or ""
    words = f"{provider}: {message}" if message else f"{provider}: {status or code}"
    head = f"{code} {status}".strip() if status else str(code)
    text = f"{words} ({head})" if code else words
    header = None
    if headers is not None:
        header = headers.get("retry-after") or headers.get("Retry-After")
    retry_after = parse_retry_after(header)
    if retry_after is None:
        retry_after = _retry_delay(items)
    bad_key = "API_KEY_INVALID" in _reasons(items) or (
        code == 400 and _BAD_KEY.search(message) is not None and "valid" in message.lower()
    )
    if code in (401, 403) or bad_key:
        return error(ErrorKind.AUTH, text)
    if code == 429 or status == "RESOURCE_EXHAUSTED":
        if _daily_quota(items):
            return error(ErrorKind.QUOTA, f"{text}: the daily quota is used up")
        if retry_after is not None:
            return error(ErrorKind.RATE_LIMITED, text, retry_after)
        if _reasons(items) & _BILLING_REASONS or _BILLING.search(message):
            return error(ErrorKind.QUOTA, f"{text}: the account's billing or credit is used up")
        return error(ErrorKind.RATE_LIMITED, text)
    if code == 404 and model is not None and _MODEL_GONE.search(message):
        return error(ErrorKind.INVALID_REQUEST, f"{model_gone(provider, model)} ({text})")
    if code in (408, 499):
        return error(ErrorKind.TRANSIENT, text)
    if code >= 500:
        return error(ErrorKind.PROVIDER_DOWN, text, retry_after)
    if _SAFETY.search(message):
        return error(ErrorKind.SAFETY_BLOCKED, text)
    return error(ErrorKind.INVALID_REQUEST, text)


@dataclass(frozen=True, slots=True)
class ModelContext:
    """What a 404 needs to name a replacement: the provider's capabilities and the id."""

    caps: Capabilities
    model: str


def model_gone(provider: str, ctx: ModelContext) -> str:
    """The sentence for a model the service answers 404 for."""
    gone = ctx.caps.retirement(ctx.model)
    if gone is not None:
        return gone.sentence(provider)
    known = [m for m in ctx.caps.models if m.id != ctx.model]
    mine = next((m for m in ctx.caps.models if m.id == ctx.model), None)
    same = [m.id for m in known if mine is None or m.media_kind == mine.media_kind]
    instead = f"; use {same[0]!r} instead" if same else ""
    return (
        f"{provider} model {ctx.model!r} is retired or unknown to the service "
        f"(it answered 404){instead}"
    )


def _headers(response: Any) -> Mapping[str, str] | None:
    headers = getattr(response, "headers", None)
    return headers if isinstance(headers, Mapping) or hasattr(headers, "get") else None


def map_google_error(
    exc: BaseException, provider: str, model: ModelContext | None = None
) -> ProviderError | None:
    """Errors of ``google-genai`` (its classic API and its Interactions client)."""
    from google.genai import errors as genai_errors

    if isinstance(exc, genai_errors.APIError):
        return from_status(
            provider,
            exc.code,
            exc.status,
            exc.message,
            exc.details,
            _headers(exc.response),
            model,
        )
    names = {cls.__name__ for cls in type(exc).__mro__}
    if "APIResponseValidationError" in names or "UnknownApiResponseError" in names:
        return error(ErrorKind.MALFORMED, f"{provider}'s answer could not be read ({exc})")
    if "APIStatusError" in names:  # the Interactions client (google.genai._gaos)
        body = getattr(exc, "body", None)
        if isinstance(body, str | bytes):
            try:
                body = json.loads(body)
            except ValueError:
                body = {"message": body if isinstance(body, str) else body.decode(errors="replace")}
        inner = _error_body(body)
        return from_status(
            provider,
            getattr(exc, "status_code", None),
            inner.get("status"),
            inner.get("message") or str(getattr(exc, "message", "") or ""),
            body,
            _headers(getattr(exc, "response", None)),
            model,
        )
    if isinstance(exc, json.JSONDecodeError) or "ValidationError" in names:
        return error(ErrorKind.MALFORMED, f"{provider}'s answer is not valid JSON ({exc})")
    return None


def operation_error(provider: str, err: Mapping[str, Any]) -> ProviderError:
    """A long-running operation's ``error`` (a ``google.rpc.Status``)."""
    rpc = err.get("code")
    http = RPC_TO_HTTP.get(int(rpc), 500) if isinstance(rpc, int) else 500
    return from_status(provider, http, None, str(err.get("message") or ""), {"error": err})


# ------------------------------------------------------------------ the Interactions API

INTERACTION_SAFETY = ("safety", "blocked", "prohibited", "policy", "recitation")

# What each Interactions status (google-genai 2.34.0, _gaos/types/interactions/
# interaction.py: InteractionStatus) means for a job that wants one finished file;
# ``{p}`` is the provider, ``{what}`` the thing made ("song", "video").
_STATUS_WORDS: dict[str, tuple[ErrorKind, str]] = {
    "requires_continuation": (
        ErrorKind.TRANSIENT,
        "{p} paused before the {what} was finished (requires_continuation); "
        "the job will start it again",
    ),
    "incomplete": (
        ErrorKind.MALFORMED,
        "{p} ended before any {media} was made (incomplete); retry, or shorten the prompt",
    ),
    "budget_exceeded": (
        ErrorKind.QUOTA,
        "{p} stopped: the request's budget was used up (budget_exceeded); "
        "check the plan or billing",
    ),
    "cancelled": (ErrorKind.TRANSIENT, "the service cancelled the {what} (cancelled)"),
    "in_progress": (ErrorKind.TRANSIENT, "{p} had not finished the {what} (in_progress)"),
    "queued": (ErrorKind.TRANSIENT, "{p} had not started the {what} yet (queued)"),
    "requires_action": (
        ErrorKind.INVALID_REQUEST,
        "{p} asked for an action this app does not take (requires_action)",
    ),
}


def interaction_problem(
    provider: str, answer: Any, *, what: str, media: str, has_output: bool
) -> ProviderError | None:
    """The error an Interactions answer stands for, or None when it holds a usable
    result (``incomplete`` with output counts as a result: it is kept)."""
    status = str(answer.status or "")
    problems = "; ".join(
        f"{e.code or 'error'}: {e.message or ''}".strip() for e in answer.errors or ()
    )
    unsafe = any(w in problems.lower() for w in INTERACTION_SAFETY)
    if status == "failed":
        kind = ErrorKind.SAFETY_BLOCKED if unsafe else ErrorKind.PROVIDER_DOWN
        return error(kind, f"{provider} failed: {problems or 'no reason given'}")
    if status in _STATUS_WORDS and not (status == "incomplete" and has_output):
        kind, words = _STATUS_WORDS[status]
        text = words.format(p=provider, what=what, media=media)
        return error(kind, text + (f": {problems}" if problems else ""))
    if has_output:
        return None
    if problems and unsafe:
        return error(ErrorKind.SAFETY_BLOCKED, f"{provider} returned no {media} ({problems})")
    said = f": {answer.output_text}" if answer.output_text else ""
    return error(
        ErrorKind.INVALID_REQUEST,
        f"{provider} answered with text only, no {media}{said}; ask for it more directly",
    )
