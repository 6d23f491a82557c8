"""Who signed a file's C2PA manifest, read offline with ``c2pa-python``.

c2pa-python 0.38.1 (PyPI, checked 2026-12-01): a 16 MB manylinux wheel (55 MB
installed, a Rust library), reads and validates a manifest with no network when
remote-manifest and OCSP fetches are off (tried here with the network cut). The issuer
is the ``O`` of the signing certificate; with no trust list configured (none is fetched)
a good signature is "valid", not "trusted": anyone can write any issuer name, so the
text says so. When the library is missing or cannot read the manifest, the answer is
plain "present" (the manifest is still kept byte for byte on export).
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

__all__ = ["c2pa_summary"]

# c2pa-rs settings (names as in the library's Settings; unknown names are ignored
# silently, so these were checked against the 0.38.1 library): never fetch anything.
_OFFLINE = {"verify": {"remote_manifest_fetch": False, "ocsp_fetch": False}}
MAX_ISSUER = 120


def _manifest_store(path: Path, mime: str) -> dict[str, Any] | None:
    try:
        import c2pa
    except Exception:  # not installed (an optional reader), or its library fails to load
        return None
    try:
        context = c2pa.Context.from_dict(_OFFLINE)
        with open(path, "rb") as f, c2pa.Reader(mime, f, context=context) as reader:
            store = json.loads(reader.json())
    except Exception:  # a hostile or unusual manifest costs the detail, never the import
        log.debug("reading the C2PA manifest of %s failed", path, exc_info=True)
        return None
    return store if isinstance(store, dict) else None


def c2pa_summary(path: Path, mime: str) -> str:
    """``present, issuer … (signature …)`` for the file at ``path``, which carries a C2PA
    manifest; ``present`` when no more can be read. Never raises."""
    store = _manifest_store(path, mime) or {}
    manifests = store.get("manifests")
    active = (
        manifests.get(store.get("active_manifest", "")) if isinstance(manifests, dict) else None
    )
    info = active.get("signature_info") if isinstance(active, dict) else None
    if not isinstance(info, dict):
        return "present"
    issuer = info.get("issuer") or info.get("common_name")
    if not isinstance(issuer, str) or not issuer.strip():
        return "present"
    issuer = " ".join(issuer.split())[:MAX_ISSUER]
    state = store.get("validation_state")
    trust = {
        "Trusted": "signature valid, issuer trusted",
        "Valid": "signature valid, issuer not checked against a trust list",
        "Invalid": "signature or content does not verify",
    }.get(state if isinstance(state, str) else "", "signature not checked")
    return f"present, issuer {issuer} ({trust})"
