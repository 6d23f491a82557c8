"""What the core needs of generation providers, as a small protocol it is handed.

The core plans and validates generation requests and estimates their cost; it never runs a
provider, builds the registry, reads API keys or imports a provider module. The composition
roots (``studio.providers_setup``, used by the CLI and the app) build the real registry
(``workers.registry``, keyed through ``studio.keys``) and inject it into :class:`Studio`.

The value types (``Capabilities``, ``GenerationRequest``, ``CostEstimate``, ``AudioType``,
``ProviderError`` …) come from ``workers.base``: plain frozen dataclasses and enums that are
the provider contract itself, with no provider code, SDK or key behind them. ``workers.base``
is the only ``workers`` module the core may import (checked by ``tests/test_layering.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from studio.store.library import Library
from workers.base import (
    AudioType,
    Capabilities,
    CostEstimate,
    ErrorKind,
    GenerationRequest,
    ProviderError,
)


class ProviderView(Protocol):
    """One provider as the core sees it: what it can make, and checking and pricing a
    request (it raises ``workers.base.ProviderError`` for a request it refuses)."""

    @property
    def name(self) -> str: ...

    def capabilities(self) -> Capabilities: ...

    def validate(self, request: GenerationRequest) -> None: ...

    def estimate_cost(self, request: GenerationRequest) -> CostEstimate: ...


class ProviderCatalog(Protocol):
    """The providers known here (``workers.registry.ProviderRegistry`` satisfies it)."""

    def names(self) -> list[str]: ...

    def get(self, name: str) -> ProviderView:
        """The named provider; ``ProviderError`` when there is none."""
        ...

    def default_for(
        self, media_kind: str, audio_type: AudioType | None = None, preferred: str | None = None
    ) -> tuple[ProviderView, str]:
        """The provider and model id to use for a kind of media."""
        ...


ProviderFactory = Callable[[Library], ProviderCatalog]
"""Builds the catalog from the studio's settings (called on first use and after
``Studio.reload_providers``)."""


class NoProviders:
    """The catalog of a studio given no providers: it knows none, so generation requests
    are refused with one clear sentence."""

    def names(self) -> list[str]:
        return []

    def get(self, name: str) -> ProviderView:
        raise ProviderError(
            ErrorKind.INVALID_REQUEST, f"there is no provider {name!r} (known: none)"
        )

    def default_for(
        self, media_kind: str, audio_type: AudioType | None = None, preferred: str | None = None
    ) -> tuple[ProviderView, str]:
        raise ProviderError(ErrorKind.INVALID_REQUEST, f"no provider can make {media_kind} here")
