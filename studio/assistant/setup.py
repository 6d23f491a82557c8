"""The assistant's client from the library's settings and the key store."""

from __future__ import annotations

from studio.assistant.client import ClaudeClient
from studio.assistant.errors import NoKeyError
from studio.core import settings
from studio.keys import KEY_FILE_NAME, KeyStore
from studio.store.library import Library


def client_for(library: Library, keys: KeyStore | None = None) -> ClaudeClient:
    """A client keyed from the key store (``anthropic``), at the base URL set with
    ``studio settings providers.anthropic.base_url URL``; :class:`NoKeyError` without a
    key."""
    store = keys or KeyStore(key_file=library.path.parent / KEY_FILE_NAME)
    key = store.get("anthropic")
    if not key:
        raise NoKeyError()
    return ClaudeClient(key, base_url=settings.base_url(library, "anthropic"))
