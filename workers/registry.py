"""Which providers exist, and which one to use by default."""

from __future__ import annotations

from collections.abc import Iterable

from workers.base import AudioType, ErrorKind, Provider, ProviderError


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


def default_registry(*, local_latency_s: float = 0.0) -> ProviderRegistry:
    """The built-in providers (the offline ``local`` one; cloud ones join when keyed)."""
    from workers.local import LocalProvider

    return ProviderRegistry([LocalProvider(latency_s=local_latency_s)])
