"""Which providers exist, and which one to use by default."""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Protocol

from workers.base import AudioType, Capabilities, ErrorKind, Provider, ProviderError

# The cloud providers in registration order (after ``local``): module, class.
CLOUD_PROVIDERS: Mapping[str, tuple[str, str]] = {
    "gemini": ("workers.gemini", "GeminiProvider"),
    "veo": ("workers.veo", "VeoProvider"),
    "elevenlabs": ("workers.elevenlabs", "ElevenLabsProvider"),
    "lyria": ("workers.lyria", "LyriaProvider"),
}


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

    def get(self, name: str) -> Provider:
        try:
            return self._providers[name]
        except KeyError:
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
