"""Which providers exist, and which one to use by default."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from workers.base import (
    AudioType,
    Capabilities,
    CostEstimate,
    ErrorKind,
    GenerationOutput,
    GenerationRequest,
    Provider,
    ProviderError,
    RunContext,
)

# The cloud providers in registration order (after ``local``): module, class.
CLOUD_PROVIDERS: Mapping[str, tuple[str, str]] = {
    "gemini": ("workers.gemini", "GeminiProvider"),
    "veo": ("workers.veo", "VeoProvider"),
    "elevenlabs": ("workers.elevenlabs", "ElevenLabsProvider"),
    "lyria": ("workers.lyria", "LyriaProvider"),
}


# Whose key each cloud provider uses, in the words Preferences ▸ Keys shows.
KEY_LABELS: Mapping[str, str] = {
    "gemini": "Gemini",
    "veo": "Gemini",
    "lyria": "Gemini",
    "elevenlabs": "ElevenLabs",
}


def needs_key_sentence(name: str) -> str:
    """What to do about a cloud provider without a key: one sentence."""
    label = KEY_LABELS.get(name, name)
    article = "an" if label[:1].lower() in "aeiou" else "a"
    return (
        f"{name} needs an API key: add {article} {label} key in Preferences ▸ Keys "
        f"(or run `studio keys set {'gemini' if label == 'Gemini' else name}`)"
    )


class KeySource(Protocol):
    """Where API keys come from (``studio.keys.KeyStore``); never logged."""

    def get(self, provider: str) -> str | None: ...


class ProviderRegistry:
    def __init__(self, providers: Iterable[Provider] = ()) -> None:
        self._providers: dict[str, Provider] = {}
        for p in providers:
            self.add(p)

    def add(self, provider: Provider) -> None:
        self._providers[provider.name] = provider

    def names(self) -> list[str]:
        return list(self._providers)

    def replace(self, provider: Provider) -> None:
        """Put ``provider`` in the place of the one of the same name."""
        self._providers[provider.name] = provider

    def all(self) -> list[Provider]:
        return list(self._providers.values())

    def get(self, name: str) -> Provider:
        try:
            return self._providers[name]
        except KeyError:
            if name in CLOUD_PROVIDERS:
                raise ProviderError(ErrorKind.AUTH, needs_key_sentence(name)) from None
            known = ", ".join(self._providers) or "none"
            raise ProviderError(
                ErrorKind.INVALID_REQUEST, f"there is no provider {name!r} (known: {known})"
            ) from None

    def default_for(
        self, media_kind: str, audio_type: AudioType | None = None, preferred: str | None = None
    ) -> tuple[Provider, str]:
        """The provider and model to use: ``preferred`` when it can, else the first that can
        (``local`` is registered first and can do everything)."""
        order = list(self._providers.values())
        if preferred in self._providers:
            order.insert(0, self._providers[preferred])
        for p in order:
            model = p.capabilities().default_model(media_kind, audio_type)
            if model is not None:
                return p, model.id
        raise ProviderError(ErrorKind.INVALID_REQUEST, f"no provider can make {media_kind} here")


class Listed:
    """A provider seen through its live model list: the models the service no longer lists
    are hidden from :meth:`capabilities` and refused (naming the replacement) for new
    requests; everything else is the provider's own."""

    def __init__(self, inner: Provider, caps: Capabilities) -> None:
        self.inner = inner
        self.name = inner.name
        self._caps = caps

    def __repr__(self) -> str:
        return f"Listed({self.inner!r})"

    def capabilities(self) -> Capabilities:
        return self._caps

    def validate(self, request: GenerationRequest) -> None:
        self._caps.model(request.model)  # raises for a hidden model, naming its replacement
        self.inner.validate(request)

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate:
        return self.inner.estimate_cost(request)

    def run(self, request: GenerationRequest, context: RunContext) -> GenerationOutput:
        self._caps.model(request.model)
        return self.inner.run(request, context)


def listed_capabilities(
    caps: Capabilities, family: tuple[str, ...], listed: Iterable[str], checked: str
) -> Capabilities:
    """``caps`` with the models a live list leaves out hidden — when the list covers this
    provider at all (holds at least one id of its ``family``); else ``caps`` as it is."""
    ids = frozenset(listed)
    if not family or not any(f in i for i in ids for f in family):
        return caps
    return caps.hide_unlisted(ids, checked)


def with_listing(provider: Provider, listed: Iterable[str], checked: str) -> Provider:
    """``provider`` filtered by its live model list (itself when nothing is hidden)."""
    family: tuple[str, ...] = getattr(provider, "LIST_FAMILY", ())
    caps = provider.capabilities()
    shown = listed_capabilities(caps, family, listed, checked)
    return provider if shown is caps else Listed(provider, shown)


def cloud_capabilities(name: str) -> Capabilities:
    """A cloud provider's capabilities without a key (and without importing its SDK)."""
    module, _cls = CLOUD_PROVIDERS[name]
    caps: Capabilities = importlib.import_module(module).CAPABILITIES
    return caps


def cloud_provider(name: str, api_key: str, base_url: str | None = None) -> Provider:
    """A keyed cloud provider (its SDK is imported on its first run)."""
    module, cls = CLOUD_PROVIDERS[name]
    provider: Provider = getattr(importlib.import_module(module), cls)(api_key, base_url=base_url)
    return provider


def default_registry(
    *,
    local_latency_s: float = 0.0,
    keys: KeySource | None = None,
    base_urls: Mapping[str, str] | None = None,
) -> ProviderRegistry:
    """The built-in providers: the offline ``local`` one first, then each cloud provider
    whose key ``keys`` has (gemini, veo, elevenlabs, lyria), at its base URL when one is
    configured."""
    from workers.local import LocalProvider

    providers: list[Provider] = [LocalProvider(latency_s=local_latency_s)]
    if keys is not None:
        for name in CLOUD_PROVIDERS:
            key = keys.get(name)
            if key:
                providers.append(cloud_provider(name, key, (base_urls or {}).get(name)))
    return ProviderRegistry(providers)
