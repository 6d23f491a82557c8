"""The composition root for generation providers: the real registry, keyed from the
keyring, for the CLI and the app to inject into :class:`studio.core.studio.Studio`.

This is the one place outside ``workers`` that knows the provider modules; the core sees
only ``studio.core.providers.ProviderCatalog``.
"""

from __future__ import annotations

from studio.core import settings
from studio.keys import KeyStore
from studio.store.library import Library
from workers.registry import CLOUD_PROVIDERS, ProviderRegistry, default_registry


def build_providers(library: Library) -> ProviderRegistry:
    """``local`` plus every cloud provider with a key, with the library's provider settings
    (a ``studio.core.providers.ProviderFactory``)."""
    base_urls = {name: url for name in CLOUD_PROVIDERS if (url := settings.base_url(library, name))}
    return default_registry(
        local_latency_s=settings.local_latency_s(library),
        keys=KeyStore(),
        base_urls=base_urls,
    )
