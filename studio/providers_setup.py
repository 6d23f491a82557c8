"""The composition root for generation providers: the real registry, keyed from the
keyring, for the CLI and the app to inject into :class:`studio.core.studio.Studio`.

This is the one place outside ``workers`` that knows the provider modules; the core sees
only ``studio.core.providers.ProviderCatalog``.

Live model lists: each Google provider's ``models.list`` answer is cached in
``library.db`` for a day (:data:`LIST_MAX_AGE_MS`). Building the registry uses the cached
list, fetching a new one first when it is missing or older than a day (one fetch per
key and base URL: gemini, veo and lyria share it); a failed fetch keeps the old list and
is logged. ``studio providers --refresh`` fetches every list now.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from studio.clock import system_clock
from studio.core import settings
from studio.keys import KEY_FILE_NAME, KEY_FOR, KeyStore
from studio.store.library import Library, ListItem, ProviderList
from workers.base import ProviderError
from workers.registry import CLOUD_PROVIDERS, ProviderRegistry, default_registry, with_listing

log = logging.getLogger(__name__)

LIST_MAX_AGE_MS = 24 * 3600 * 1000
MODEL = "model"
VOICE = "voice"


@dataclass(frozen=True, slots=True)
class ListOutcome:
    """What refreshing one provider's list did: its size, or the error that kept the old."""

    provider: str
    fetched: int | None
    problem: str | None = None


def build_providers(library: Library) -> ProviderRegistry:
    """``local`` plus every cloud provider with a key, with the library's provider settings
    (a ``studio.core.providers.ProviderFactory``), each seen through its live model list."""
    registry = _registry(library)
    apply_model_lists(library, registry, refresh=False)
    apply_voice_list(library, registry, refresh=False)
    return registry


def build_cached_providers(library: Library) -> ProviderRegistry:
    """:func:`build_providers` from the cached lists only: never waits on the network (the
    app builds its registry on the UI thread and refreshes stale lists off it, with
    :func:`refresh_stale_lists`)."""
    registry = _registry(library)
    apply_model_lists(library, registry, refresh=False, fetch=False)
    apply_voice_list(library, registry, refresh=False, fetch=False)
    return registry


def refresh_stale_lists(library: Library) -> bool:
    """Fetch the lists that are missing or over a day old (safe on any thread: the library
    serialises its connection); True when a stored list changed."""
    registry = _registry(library)
    before = _stored_lists(library, registry)
    apply_model_lists(library, registry, refresh=False)
    apply_voice_list(library, registry, refresh=False)
    return _stored_lists(library, registry) != before


def _stored_lists(library: Library, registry: ProviderRegistry) -> dict[str, object]:
    return {
        f"{p.name}/{kind}": None if got is None else got.items
        for p in registry.all()
        for kind in (MODEL, VOICE)
        for got in (library.provider_list(p.name, kind),)
    }


def _registry(library: Library) -> ProviderRegistry:
    base_urls = {name: url for name in CLOUD_PROVIDERS if (url := settings.base_url(library, name))}
    return default_registry(
        local_latency_s=settings.local_latency_s(library),
        keys=KeyStore(key_file=library.path.parent / KEY_FILE_NAME),
        base_urls=base_urls,
    )


def refresh_model_lists(library: Library) -> list[ListOutcome]:
    """Fetch every keyed provider's live model list now (``studio providers --refresh``)."""
    return apply_model_lists(library, _registry(library), refresh=True)


def day(ms: int) -> str:
    return datetime.datetime.fromtimestamp(ms / 1000, datetime.UTC).strftime("%Y-%m-%d")


def apply_model_lists(
    library: Library,
    registry: ProviderRegistry,
    *,
    refresh: bool,
    fetch: bool = True,
    clock: Callable[[], int] = system_clock,
) -> list[ListOutcome]:
    """Fetch the lists that are missing, stale (or all, with ``refresh``), store them, and
    put each listed provider in the registry as seen through its list."""
    now = clock()
    outcomes: list[ListOutcome] = []
    fetched: dict[tuple[str, str], list[str] | ProviderError] = {}
    for provider in registry.all():
        lister = getattr(provider, "listed_models", None)
        if not getattr(provider, "LIST_FAMILY", ()) or lister is None:
            continue
        cached = library.provider_list(provider.name, MODEL)
        stale = cached is None or now - cached.fetched_at > LIST_MAX_AGE_MS
        if fetch and (refresh or stale):
            shared = (str(getattr(provider, "base_url", None)), KEY_FOR.get(provider.name, ""))
            got = fetched.get(shared)
            if got is None:
                try:
                    got = list(lister())
                except ProviderError as exc:
                    got = exc
                fetched[shared] = got
            if isinstance(got, ProviderError):
                log.warning("%s: could not fetch the model list: %s", provider.name, got.message)
                outcomes.append(ListOutcome(provider.name, None, got.message))
            else:
                items = tuple(ListItem(i) for i in sorted(set(got)))
                cached = ProviderList(provider.name, MODEL, now, items)
                library.store_provider_list(cached)
                outcomes.append(ListOutcome(provider.name, len(items)))
        if cached is not None:
            listed = (i.item_id for i in cached.items)
            registry.replace(with_listing(provider, listed, day(cached.fetched_at)))
    return outcomes


def cached_items(library: Library, provider: str, kind: str) -> Iterable[ListItem]:
    entry = library.provider_list(provider, kind)
    return () if entry is None else entry.items


def apply_voice_list(
    library: Library,
    registry: ProviderRegistry,
    *,
    refresh: bool,
    fetch: bool = True,
    clock: Callable[[], int] = system_clock,
) -> ProviderList | None:
    """The ElevenLabs account's voices (fetched when missing, over a day old, or with
    ``refresh``; a failed fetch keeps the old list), offered by name for ``voice_id``."""
    if "elevenlabs" not in registry.names():
        return None
    provider = registry.get("elevenlabs")
    voices = getattr(provider, "voices", None)
    offer = getattr(provider, "offer_voices", None)
    if voices is None or offer is None:
        return None
    now = clock()
    cached = library.provider_list("elevenlabs", VOICE)
    if fetch and (refresh or cached is None or now - cached.fetched_at > LIST_MAX_AGE_MS):
        try:
            got = voices()
        except ProviderError as exc:
            if refresh:
                raise
            log.warning("elevenlabs: could not fetch the voice list: %s", exc.message)
        else:
            items = tuple(ListItem(v.voice_id, v.name, v.category) for v in got)
            cached = ProviderList("elevenlabs", VOICE, now, items)
            library.store_provider_list(cached)
    if cached is not None:
        offer(sorted({i.label for i in cached.items if i.label}, key=str.casefold))
    return cached
