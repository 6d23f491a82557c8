"""The assistant's client from the library's settings and the key store, with its model
picked from the key's live model list (cached a day in ``library.db``)."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from studio.assistant.client import ClaudeClient
from studio.assistant.errors import NoKeyError
from studio.assistant.models import DEFAULT_MODEL
from studio.clock import system_clock
from studio.core import settings
from studio.core.errors import StudioError
from studio.keys import KEY_FILE_NAME, KeyStore
from studio.store.library import Library, ListItem, ProviderList

log = logging.getLogger(__name__)

PROVIDER = "anthropic"
LIST_MAX_AGE_MS = 24 * 3600 * 1000
FAMILIES = ("sonnet", "opus", "haiku")
"""Preference when the default model is not offered: the newest of each, in order."""


def pick_model(offered: Sequence[str], default: str = DEFAULT_MODEL) -> str:
    """The default when the live list offers it (or no list is known), else the first
    offered model of the preferred families, else the first offered."""
    if not offered or default in offered:
        return default
    for family in FAMILIES:
        for mid in offered:
            if family in mid:
                return mid
    return offered[0]


def has_key(library: Library, keys: KeyStore | None = None) -> bool:
    """Is an Anthropic key set? (No network: safe on the UI thread.)"""
    store = keys or KeyStore(key_file=library.path.parent / KEY_FILE_NAME)
    return bool(store.get(PROVIDER))


def client_for(
    library: Library, keys: KeyStore | None = None, *, refresh: bool = False
) -> ClaudeClient:
    """A client keyed from the key store (``anthropic``), at the base URL set with
    ``studio settings providers.anthropic.base_url URL``; :class:`NoKeyError` without a
    key. Its model: see :func:`pick_model` (the list is fetched when over a day old; a
    failed fetch keeps the old list and is logged)."""
    store = keys or KeyStore(key_file=library.path.parent / KEY_FILE_NAME)
    key = store.get(PROVIDER)
    if not key:
        raise NoKeyError()
    client = ClaudeClient(key, base_url=settings.base_url(library, PROVIDER))
    cached = library.provider_list(PROVIDER, "model")
    now = system_clock()
    if refresh or cached is None or now - cached.fetched_at > LIST_MAX_AGE_MS:
        try:
            ids = client.model_ids()
        except StudioError as exc:
            log.info("the Anthropic model list could not be fetched: %s", exc.message)
        else:
            cached = ProviderList(PROVIDER, "model", now, tuple(ListItem(i) for i in ids))
            library.store_provider_list(cached)
    offered = [] if cached is None else [item.item_id for item in cached.items]
    client.model = pick_model(offered)
    return client
