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

import logging
import threading
import time
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


log = logging.getLogger(__name__)

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


class BrokenCatalog(NoProviders):
    """What a :class:`PendingCatalog` settles on when building failed on its thread
    every time: no providers, and each request refused with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def get(self, name: str) -> ProviderView:
        raise ProviderError(ErrorKind.INVALID_REQUEST, self.reason)

    def default_for(
        self, media_kind: str, audio_type: AudioType | None = None, preferred: str | None = None
    ) -> tuple[ProviderView, str]:
        raise ProviderError(ErrorKind.INVALID_REQUEST, self.reason)


BUILD_RETRIES_S = (1.0, 3.0)
"""How long the catalog's thread waits before building again after a failure."""


class PendingCatalog:
    """A catalog that is built later: the app builds its registry (which asks the keyring
    for every key) on a thread after its first frame. Asking it anything waits until it
    is built, or builds it on the asking thread if nobody has started; :meth:`when_ready`
    callbacks run on the thread that built it (the session starts its job scheduler so)."""

    def __init__(self, build: Callable[[], ProviderCatalog]) -> None:
        self._build = build
        self._building = threading.Lock()  # held while building: a second asker waits
        self._lock = threading.Lock()  # the state below (never held while building)
        self._catalog: ProviderCatalog | None = None
        self._callbacks: list[Callable[[ProviderCatalog], None]] = []
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Build it on a thread of its own (once)."""
        with self._lock:
            if self._thread is not None or self._catalog is not None:
                return
            self._thread = threading.Thread(
                target=self._build_logged, name="providers", daemon=True
            )
        self._thread.start()

    def started(self) -> bool:
        """Built, or being built on its thread."""
        return self._thread is not None or self._catalog is not None

    def _build_logged(self) -> None:
        for wait in (*BUILD_RETRIES_S, None):
            try:
                self.result()
                return
            except Exception as exc:  # a locked keyring, say: try again a little later
                log.exception("could not build the provider catalog")
                if wait is None:
                    # nobody may ever ask (the session's scheduler and the window's
                    # deferred panels wait on the callbacks): settle on a catalog that
                    # says why, so the app comes up and a request gets that sentence
                    self._settle(BrokenCatalog(f"the providers could not be loaded: {exc}"))
                    return
                time.sleep(wait)

    def _settle(self, catalog: ProviderCatalog) -> None:
        with self._building:
            callbacks = self._publish(catalog)
        for fn in callbacks:
            fn(catalog)

    def _publish(self, catalog: ProviderCatalog) -> list[Callable[[ProviderCatalog], None]]:
        """(``_building`` held) ``catalog`` is the one, unless one already is; returns
        the callbacks to run (outside the locks)."""
        with self._lock:
            if self._catalog is not None:
                return []
            self._catalog = catalog
            callbacks, self._callbacks = self._callbacks, []
        return callbacks

    def ready(self) -> bool:
        return self._catalog is not None

    def result(self) -> ProviderCatalog:
        """The catalog, built now on this thread or waited for."""
        catalog = self._catalog
        if catalog is not None:
            return catalog
        callbacks: list[Callable[[ProviderCatalog], None]] = []
        with self._building:
            catalog = self._catalog
            if catalog is None:
                catalog = self._build()
                callbacks = self._publish(catalog)
        for fn in callbacks:
            fn(catalog)
        return catalog

    def when_ready(self, fn: Callable[[ProviderCatalog], None]) -> None:
        """Call ``fn(catalog)`` once it is built: now if it is."""
        with self._lock:
            catalog = self._catalog
            if catalog is None:
                self._callbacks.append(fn)
                return
        fn(catalog)

    # the catalog's protocol, once it is there
    def names(self) -> list[str]:
        return self.result().names()

    def get(self, name: str) -> ProviderView:
        return self.result().get(name)

    def default_for(
        self, media_kind: str, audio_type: AudioType | None = None, preferred: str | None = None
    ) -> tuple[ProviderView, str]:
        return self.result().default_for(media_kind, audio_type, preferred)


def runnable(catalog: ProviderCatalog | None) -> ProviderCatalog | None:
    """The catalog itself behind a :class:`PendingCatalog` (waited for), else ``catalog``."""
    return catalog.result() if isinstance(catalog, PendingCatalog) else catalog
