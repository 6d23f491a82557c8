"""The provider protocol: what every generation backend offers and how it is called.

A provider never touches the database or Qt. The scheduler hands it a
:class:`GenerationRequest` and a :class:`RunContext`; it returns a
:class:`GenerationOutput` (media bytes or a file in the context's temp dir, plus
metadata) or raises :class:`ProviderError`. The core stores the result.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

from workers.redaction import clip, redact


class Operation(StrEnum):
    GENERATE = "generate"
    DERIVE = "derive"
    REFINE = "refine"


class AudioType(StrEnum):
    """What an audio asset is; chosen from the asset's type."""

    SFX = "sfx"
    MUSIC = "music"
    SPEECH = "speech"
    DIALOGUE = "dialogue"


class ErrorKind(StrEnum):
    AUTH = "auth"
    RATE_LIMITED = "rate_limited"
    QUOTA = "quota"
    SAFETY_BLOCKED = "safety_blocked"
    INVALID_REQUEST = "invalid_request"
    TRANSIENT = "transient"
    PROVIDER_DOWN = "provider_down"
    MALFORMED = "malformed"
    CANCELLED = "cancelled"


RETRYABLE = frozenset({ErrorKind.RATE_LIMITED, ErrorKind.TRANSIENT, ErrorKind.PROVIDER_DOWN})

ERROR_WORDS: Mapping[ErrorKind, str] = {
    ErrorKind.AUTH: "The provider refused the API key. Add or replace the key in Preferences.",
    ErrorKind.RATE_LIMITED: "The provider is rate limiting us. The job will retry after a pause.",
    ErrorKind.QUOTA: "The account's quota is used up. Check the plan or billing, then retry.",
    ErrorKind.SAFETY_BLOCKED: "The provider blocked this request for safety. Change the prompt.",
    ErrorKind.INVALID_REQUEST: "The provider rejected the request as invalid.",
    ErrorKind.TRANSIENT: "A temporary network or server problem. The job will retry.",
    ErrorKind.PROVIDER_DOWN: "The provider is not answering. The job will retry later.",
    ErrorKind.MALFORMED: "The provider's answer could not be read.",
    ErrorKind.CANCELLED: "The job was cancelled.",
}


MAX_ERROR_MESSAGE = 1000  # characters, after redaction (a job's error text holds 2000)


class ProviderError(Exception):
    """A generation failed. ``message`` keeps the provider's own words where there are any,
    with every key (and fragment of one) redacted first and the length bounded after —
    wherever the error is made, so no caller can store or print a key from it."""

    def __init__(self, kind: ErrorKind, message: str, *, retry_after: float | None = None) -> None:
        message = clip(" ".join(str(message).split()), MAX_ERROR_MESSAGE) or kind.value
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in RETRYABLE

    @property
    def advice(self) -> str:
        return ERROR_WORDS[self.kind]


def check(condition: bool, message: str) -> None:
    """Raise an INVALID_REQUEST ProviderError unless ``condition``."""
    if not condition:
        raise ProviderError(ErrorKind.INVALID_REQUEST, message)


@dataclass(frozen=True, slots=True)
class ParamSpec:
    """One provider parameter beyond prompt/size/aspect/duration (``kind``: int, float,
    str, bool or choice)."""

    name: str
    kind: str
    default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    help: str = ""
    # Values to offer (e.g. the account's voice names); any other value of the kind is
    # still accepted, unlike ``choices``.
    suggestions: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class ModelSpec:
    id: str
    label: str
    media_kind: str  # image | audio | video
    operations: tuple[Operation, ...]
    max_references: int = 0
    sizes: tuple[str, ...] = ()
    default_size: str | None = None
    aspect_ratios: tuple[str, ...] = ()
    default_aspect_ratio: str | None = None
    min_duration_s: float | None = None
    max_duration_s: float | None = None
    default_duration_s: float | None = None
    audio_types: tuple[AudioType, ...] = ()
    params: tuple[ParamSpec, ...] = ()
    reference_kinds: tuple[str, ...] = ()  # media kinds accepted as references; () = own kind
    source: str = ""  # where the model's id and limits were read (a URL, or an SDK file)
    checked: str = ""  # the date (YYYY-MM-DD) they were last checked against it

    def accepts_reference(self, media_kind: str) -> bool:
        return media_kind in (self.reference_kinds or (self.media_kind,))


LIVE_LIST = "the provider's live model list"


@dataclass(frozen=True, slots=True)
class Retired:
    """A model id the provider shut down (or announced to), with what replaces it."""

    model: str
    replacement: str
    shutdown: str  # YYYY-MM-DD, the provider's date
    source: str
    checked: str
    confirmed: bool = True  # False: only a secondary source says so (the live list decides)

    def sentence(self, provider: str) -> str:
        instead = (
            f"use {self.replacement!r} instead"
            if self.replacement
            else "no current model of its kind is offered to this key"
        )
        if self.source == LIVE_LIST:
            return (
                f"{provider} model {self.model!r} is no longer offered to this key (the "
                f"provider's model list of {self.checked} does not have it); {instead}"
            )
        when = "was shut down" if self.confirmed else "was reportedly shut down"
        return (
            f"{provider} model {self.model!r} {when} by the provider on {self.shutdown}; {instead}"
        )


@dataclass(frozen=True, slots=True)
class Capabilities:
    provider: str
    label: str
    models: tuple[ModelSpec, ...]
    needs_key: bool = False
    retired: tuple[Retired, ...] = ()  # ids old recipes may hold; never offered for new requests

    def retirement(self, model_id: str) -> Retired | None:
        for r in self.retired:
            if r.model == model_id:
                return r
        return None

    def replacement(self, model_id: str) -> str | None:
        """The model to use instead of a retired or unlisted ``model_id`` (None when it is
        still offered, or nothing of its kind is)."""
        gone = self.retirement(model_id)
        return (gone.replacement or None) if gone is not None else None

    def hide_unlisted(self, listed: frozenset[str], checked: str) -> Capabilities:
        """These capabilities with only the models the provider's live list has: the
        others move to :attr:`retired`, named with a replacement of the same kind that
        is still listed (the first such, else the first model of the kind)."""
        keep = tuple(m for m in self.models if m.id in listed)
        if len(keep) == len(self.models):
            return self
        gone = []
        for m in self.models:
            if m.id in listed:
                continue
            same = [k.id for k in keep if k.media_kind == m.media_kind]
            gone.append(Retired(m.id, same[0] if same else "", "", LIVE_LIST, checked))
        return dataclasses.replace(self, models=keep, retired=(*gone, *self.retired))

    def model(self, model_id: str) -> ModelSpec:
        for m in self.models:
            if m.id == model_id:
                return m
        gone = self.retirement(model_id)
        if gone is not None and gone.confirmed:
            raise ProviderError(ErrorKind.INVALID_REQUEST, gone.sentence(self.provider))
        raise ProviderError(
            ErrorKind.INVALID_REQUEST,
            f"{self.provider} has no model {model_id!r} "
            f"(it has {', '.join(m.id for m in self.models)})",
        )

    def default_model(
        self, media_kind: str, audio_type: AudioType | None = None
    ) -> ModelSpec | None:
        for m in self.models:
            if m.media_kind == media_kind and (audio_type is None or audio_type in m.audio_types):
                return m
        return None


@dataclass(frozen=True, slots=True)
class SourceMedia:
    """A reference variant's media, readable by the provider."""

    variant_id: str
    path: Path
    mime: str
    media_kind: str
    width: int | None = None
    height: int | None = None
    duration_ms: int | None = None


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    operation: Operation
    media_kind: str
    prompt: str
    model: str
    audio_type: AudioType | None = None
    size: str | None = None
    aspect_ratio: str | None = None
    duration_s: float | None = None
    seed: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)
    references: tuple[SourceMedia, ...] = ()


@dataclass(frozen=True, slots=True)
class GenerationOutput:
    """Exactly one of ``data`` or ``path`` (a file inside the context's temp dir)."""

    mime: str
    ext: str
    data: bytes | None = None
    path: Path | None = None
    provider_metadata: Mapping[str, Any] = field(default_factory=dict)
    provenance: Mapping[str, Any] = field(default_factory=dict)
    units: float = 1.0
    unit: str = "item"
    # Further results of the same call (a Gemini answer with several images): each one
    # is kept, with its own media, for the caller to store as one more variant.
    extras: tuple[GenerationOutput, ...] = ()
    # The decoded picture (a PIL image) when the provider drew it itself: its previews
    # are made from it instead of decoding the file again (the local provider).
    picture: Any = field(default=None, compare=False, repr=False)


@dataclass(frozen=True, slots=True)
class CostEstimate:
    usd: float
    units: float
    unit: str
    note: str = ""


class RunContext(Protocol):
    """What a running job body may use."""

    @property
    def temp_dir(self) -> Path: ...

    def progress(self, fraction: float, message: str = "") -> None:
        """Report progress in [0, 1]."""

    def cancelled(self) -> bool:
        """True once the job was cancelled; the body should stop soon."""

    def check_cancelled(self) -> None:
        """Raise ProviderError(CANCELLED) if the job was cancelled."""

    def sleep(self, seconds: float) -> None:
        """Wait, returning early (and raising CANCELLED) if the job is cancelled."""


class Provider(Protocol):
    name: str

    def capabilities(self) -> Capabilities: ...

    def validate(self, request: GenerationRequest) -> None:
        """Raise ProviderError(INVALID_REQUEST) with a clear message, or return."""

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate: ...

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput: ...


def validate_common(caps: Capabilities, request: GenerationRequest) -> ModelSpec:
    """The checks every provider shares: model, kind, operation, references, size,
    aspect ratio, duration and declared parameters."""
    model = caps.model(request.model)
    check(
        model.media_kind == request.media_kind,
        f"{model.label} makes {model.media_kind}, not {request.media_kind}",
    )
    check(
        request.operation in model.operations,
        f"{model.label} can't {request.operation.value} "
        f"(it can {', '.join(o.value for o in model.operations)})",
    )
    if request.audio_type is not None and model.audio_types:
        check(
            request.audio_type in model.audio_types,
            f"{model.label} can't make {request.audio_type.value} audio",
        )
    n = len(request.references)
    check(
        n <= model.max_references,
        f"{model.label} takes at most {model.max_references} reference(s); {n} given",
    )
    for ref in request.references:
        check(
            model.accepts_reference(ref.media_kind),
            f"{model.label} can't take {ref.media_kind} as a reference",
        )
    if request.size is not None:
        check(
            request.size in model.sizes,
            f"size {request.size!r} is not offered by {model.label} "
            f"({', '.join(model.sizes) or 'no sizes'})",
        )
    if request.aspect_ratio is not None:
        check(
            request.aspect_ratio in model.aspect_ratios,
            f"aspect ratio {request.aspect_ratio!r} is not offered by {model.label} "
            f"({', '.join(model.aspect_ratios) or 'none'})",
        )
    if request.duration_s is not None:
        lo, hi = model.min_duration_s, model.max_duration_s
        check(lo is not None and hi is not None, f"{model.label} has no duration setting")
        assert lo is not None and hi is not None
        check(
            lo <= request.duration_s <= hi,
            f"{model.label} makes {lo:g}–{hi:g} s; {request.duration_s:g} s asked",
        )
    specs = {p.name: p for p in model.params}
    for key, value in request.params.items():
        spec = specs.get(key)
        check(spec is not None, f"{model.label} has no parameter {key!r}")
        assert spec is not None
        _check_param(spec, value)
    return model


def _check_param(spec: ParamSpec, value: Any) -> None:
    ok: bool
    if spec.kind == "bool":
        ok = isinstance(value, bool)
    elif spec.kind == "int":
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif spec.kind == "float":
        ok = isinstance(value, int | float) and not isinstance(value, bool)
    elif spec.kind == "choice":
        ok = value in spec.choices
        check(ok, f"{spec.name} must be one of {', '.join(spec.choices)}")
    else:
        ok = isinstance(value, str)
    check(ok, f"{spec.name} must be a {spec.kind}")
    if spec.kind in ("int", "float"):
        check(
            spec.minimum is None or value >= spec.minimum, f"{spec.name} must be ≥ {spec.minimum:g}"
        )
        check(
            spec.maximum is None or value <= spec.maximum, f"{spec.name} must be ≤ {spec.maximum:g}"
        )


ASPECT_RATIOS = ("1:1", "16:9", "9:16", "4:3", "3:4", "3:2", "2:3", "21:9")


def aspect_dimensions(aspect_ratio: str, long_side: int, multiple: int = 2) -> tuple[int, int]:
    """Width and height for an aspect ratio with the given longest side, each rounded
    down to ``multiple`` (video encoders want even sizes)."""
    w_s, h_s = aspect_ratio.split(":")
    w, h = float(w_s), float(h_s)
    width, height = (long_side, long_side * h / w) if w >= h else (long_side * w / h, long_side)
    return (
        max(multiple, int(width) // multiple * multiple),
        max(multiple, int(height) // multiple * multiple),
    )


class BasicContext:
    """A ready-made :class:`RunContext`: a temp dir, a cancel flag and a progress callback."""

    def __init__(
        self,
        temp_dir: Path,
        *,
        on_progress: Any = None,
        cancel_event: Any = None,
    ) -> None:
        import threading

        self._temp_dir = temp_dir
        self._made = False
        self._on_progress = on_progress
        self._cancel: threading.Event = cancel_event or threading.Event()

    @property
    def temp_dir(self) -> Path:
        """Created on first use (most providers return bytes and never need it)."""
        if not self._made:
            self._temp_dir.mkdir(parents=True, exist_ok=True)
            self._made = True
        return self._temp_dir

    def cleanup(self) -> None:
        if self._made:
            import shutil

            shutil.rmtree(self._temp_dir, ignore_errors=True)
            self._made = False

    def progress(self, fraction: float, message: str = "") -> None:
        if self._on_progress is not None:
            self._on_progress(min(1.0, max(0.0, fraction)), redact(message) if message else "")

    def cancel(self) -> None:
        self._cancel.set()

    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise ProviderError(ErrorKind.CANCELLED, "the job was cancelled")

    def sleep(self, seconds: float) -> None:
        if self._cancel.wait(max(0.0, seconds)):
            raise ProviderError(ErrorKind.CANCELLED, "the job was cancelled")
