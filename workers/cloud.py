"""What every cloud provider shares: the keyed base class (which registers its key for
redaction, :mod:`workers.redaction`), transport-error mapping, ``Retry-After`` and
reference-image preparation.

Nothing here imports an SDK; each provider imports its own on first use.
"""

from __future__ import annotations

import dataclasses
import email.utils
import io
import logging
import threading
import time
import traceback
from collections.abc import Callable, Iterable
from typing import Any, ClassVar, TypeVar

from workers.base import (
    Capabilities,
    CostEstimate,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    Operation,
    ProviderError,
    RunContext,
    SourceMedia,
    check,
    validate_common,
)
from workers.redaction import REDACTED as REDACTED  # re-exported for callers
from workers.redaction import SECRETS as SECRETS
from workers.redaction import redact as redact
from workers.redaction import redact_tree as redact_tree
from workers.redaction import register

log = logging.getLogger(__name__)
T = TypeVar("T")

MAX_PROMPT = 20_000


def error(kind: ErrorKind, message: str, retry_after: float | None = None) -> ProviderError:
    """A ProviderError (its constructor redacts the message, then bounds its length)."""
    return ProviderError(kind, message, retry_after=retry_after)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def _class_names(exc: BaseException) -> set[str]:
    return {cls.__name__ for cls in type(exc).__mro__}


def transport_error(exc: BaseException, provider: str) -> ProviderError | None:
    """Timeouts and connection failures of httpx (or its fork httpx2): the request may
    not have reached the provider. Matched by class name so either library works."""
    names = _class_names(exc)
    if names & {"TimeoutException", "APITimeoutError", "TimeoutError"}:
        return error(ErrorKind.TRANSIENT, f"{provider} did not answer in time ({exc or 'timeout'})")
    if names & {"ConnectError", "NetworkError", "TransportError", "APIConnectionError"}:
        return error(ErrorKind.PROVIDER_DOWN, f"could not reach {provider} ({exc})")
    return None


def unexpected(exc: BaseException, provider: str) -> ProviderError:
    """An exception no mapping knows: most often an answer the SDK could not parse."""
    tb = "".join(traceback.format_exception(exc))
    log.debug("%s: unexpected %s\n%s", provider, type(exc).__name__, redact(tb))
    if isinstance(exc, ValueError | KeyError | TypeError | AttributeError | IndexError):
        return error(ErrorKind.MALFORMED, f"{provider}'s answer could not be read ({exc})")
    return error(ErrorKind.PROVIDER_DOWN, f"{provider} failed: {type(exc).__name__}: {exc}")


# ------------------------------------------------------------------ references

INLINE_IMAGE_MIMES = ("image/png", "image/jpeg", "image/webp")
MAX_INLINE_IMAGE_BYTES = 7 * 1024 * 1024
MAX_INLINE_SIDE = 3072


def image_payload(ref: SourceMedia) -> tuple[bytes, str]:
    """A reference image as bytes a provider takes inline: PNG, JPEG or WebP as they
    are; other formats, and very large files, re-encoded (PNG, or JPEG when large)."""
    data = ref.path.read_bytes()
    if ref.mime in INLINE_IMAGE_MIMES and len(data) <= MAX_INLINE_IMAGE_BYTES:
        return data, ref.mime
    from PIL import Image

    with Image.open(io.BytesIO(data)) as im:
        im.load()
        frame = im.convert("RGBA" if "A" in im.getbands() else "RGB")
    if max(frame.size) > MAX_INLINE_SIDE:
        frame.thumbnail((MAX_INLINE_SIDE, MAX_INLINE_SIDE))
    out = io.BytesIO()
    frame.save(out, "PNG", optimize=False)
    if out.tell() <= MAX_INLINE_IMAGE_BYTES:
        return out.getvalue(), "image/png"
    out = io.BytesIO()
    frame.convert("RGB").save(out, "JPEG", quality=90)
    return out.getvalue(), "image/jpeg"


EXT_BY_MIME = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "audio/mpeg": "mp3",
    "audio/mp3": "mp3",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/ogg": "ogg",
    "video/mp4": "mp4",
}


def ext_for(mime: str | None, default: str) -> str:
    return EXT_BY_MIME.get((mime or "").split(";")[0].strip().lower(), default)


def drop_none(mapping: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in mapping.items() if v is not None}


# ------------------------------------------------------------------ the base class


class CloudProvider:
    """A provider called with an API key over HTTPS (or a configured base URL).

    Subclasses set ``name`` and ``CAPS``, and implement :meth:`_call` and
    :meth:`_map_error`. :meth:`run` validates, calls, and turns every failure into a
    :class:`ProviderError` whose message never holds the key.
    """

    name: ClassVar[str] = ""
    CAPS: ClassVar[Capabilities]
    DEFAULT_TIMEOUT_S: ClassVar[float] = 120.0
    # Which ids of the provider's live model list are this provider's kind of model
    # (substrings). Empty: the provider has no live model list here. A list that holds
    # none of them does not cover this provider (e.g. a service that lists some models
    # only elsewhere), and then hides nothing.
    LIST_FAMILY: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self, api_key: str, *, base_url: str | None = None, timeout_s: float | None = None
    ) -> None:
        if not api_key or not api_key.strip():
            raise ValueError(f"{self.name} needs an API key")
        self._api_key = api_key.strip()
        self.base_url = base_url.rstrip("/") if base_url else None
        self.timeout_s = float(timeout_s or self.DEFAULT_TIMEOUT_S)
        self._client_lock = threading.Lock()
        self._client_obj: Any = None
        register(self._api_key)

    def __repr__(self) -> str:  # never the key
        return f"{type(self).__name__}(base_url={self.base_url!r})"

    def capabilities(self) -> Capabilities:
        return self.CAPS

    def validate(self, request: GenerationRequest) -> None:
        validate_common(self.CAPS, request)
        check(bool(request.prompt.strip()), "a prompt is needed")
        check(len(request.prompt) <= MAX_PROMPT, f"the prompt is over {MAX_PROMPT} characters")
        if request.operation is not Operation.GENERATE:
            check(
                len(request.references) >= 1,
                f"{request.operation.value} needs at least one reference",
            )
        self._validate(request)

    def _validate(self, request: GenerationRequest) -> None:
        """Model-specific checks beyond :func:`validate_common`."""

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        raise NotImplementedError

    def client(self) -> Any:
        """The SDK client, built once (SDK imported here, not at module import)."""
        with self._client_lock:
            if self._client_obj is None:
                self._client_obj = self._make_client()
            return self._client_obj

    def _make_client(self) -> Any:
        raise NotImplementedError

    def listed_models(self) -> list[str]:
        """The model ids the service offers this key now (a network call)."""
        raise NotImplementedError(f"{self.name} has no live model list")

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        self.validate(request)
        context.check_cancelled()
        try:
            output = self._call(request, context)
        except ProviderError as exc:
            if exc.kind is ErrorKind.CANCELLED:
                raise
            raise error(exc.kind, exc.message, exc.retry_after) from None
        except Exception as exc:
            mapped = self._map_error(exc, request) or transport_error(exc, self.name)
            raise (mapped or unexpected(exc, self.name)) from None
        return dataclasses.replace(
            output,
            mime=redact(output.mime),  # the gateway's claim; the stored mime is probed
            provider_metadata=redact_tree(dict(output.provider_metadata)),
            provenance=redact_tree(dict(output.provenance)),
        )

    def _call(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        raise NotImplementedError

    def _map_error(self, exc: Exception, request: GenerationRequest | None) -> ProviderError | None:
        raise NotImplementedError

    def call_mapped(self, what: str, fn: Callable[[], T]) -> T:
        """Run ``fn`` (a call through the SDK that is not a generation: a model or voice
        list) and turn every failure into a ProviderError that names ``what``."""
        try:
            return fn()
        except ProviderError:
            raise
        except Exception as exc:
            mapped = self._map_error(exc, None) or transport_error(exc, self.name)
            mapped = mapped or unexpected(exc, self.name)
            raise error(mapped.kind, f"{what}: {mapped.message}", mapped.retry_after) from None


def first(items: Iterable[Any]) -> Any:
    for item in items:
        return item
    return None
