"""The manifest of a ``.forgespace`` archive (see :mod:`studio.store.archive`): its
format, what it holds, and the parsing that trusts none of it."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from studio.core.errors import StorageError
from studio.store.schema import SPACE_MIGRATIONS

FORMAT = "forge-studio-space"
FORMAT_VERSION = 1
"""Raised when the layout or the manifest changes so that an older reader would misread it."""
SUFFIX = ".forgespace"
MANIFEST = "manifest.json"
DATABASE = "space.db"
MEDIA_PREFIX = "media/"
CHUNK = 1024 * 1024

MAX_MANIFEST_BYTES = 64 * 1024 * 1024
MAX_ENTRIES = 1_000_000
MAX_RATIO = 100
"""A compressed entry may expand at most this much (we never compress: a bomb would)."""
RATIO_FLOOR = 1024 * 1024
"""Entries smaller than this are too small to be a bomb whatever their ratio."""
FREE_MARGIN = 64 * 1024 * 1024
"""Free space kept on the disk beyond what an import needs."""

COUNTED_TABLES = (
    "assets",
    "variants",
    "lineage",
    "collections",
    "collection_items",
    "frames",
    "style_presets",
    "jobs",
    "changes",
    "history",
)
"""Tables whose row counts the manifest records and an import checks."""

_SHA = re.compile(r"[0-9a-f]{64}")
MEDIA_NAME = re.compile(r"media/([0-9a-f]{64})")

Progress = Callable[[int, int], None]
"""``progress(done_bytes, total_bytes)``, called as bytes are copied."""


class ArchiveError(StorageError):
    """An archive that cannot be written, or is refused (one sentence; nothing written)."""


def no_progress(done: int, total: int) -> None:
    pass


# --------------------------------------------------------------------------- manifest


@dataclass(frozen=True, slots=True)
class ArchivedFile:
    path: str
    """Relative to the space's media folder (``<asset-slug>/<variant-id>/original.png``)."""
    sha256: str
    size: int


@dataclass(frozen=True, slots=True)
class Manifest:
    format_version: int
    protocol_version: int
    schema_version: int
    created_at: int
    space_id: str
    space_slug: str
    space_name: str
    counts: Mapping[str, int]
    database_sha256: str
    database_size: int
    files: tuple[ArchivedFile, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": self.format_version,
            "protocol_version": self.protocol_version,
            "schema_version": self.schema_version,
            "created_at": self.created_at,
            "space": {"id": self.space_id, "slug": self.space_slug, "name": self.space_name},
            "counts": dict(self.counts),
            "database": {
                "path": DATABASE,
                "sha256": self.database_sha256,
                "size": self.database_size,
            },
            "files": [{"path": f.path, "sha256": f.sha256, "size": f.size} for f in self.files],
        }

    @property
    def media_bytes(self) -> int:
        return sum(b.size for b in self.blobs().values())

    def blobs(self) -> dict[str, ArchivedFile]:
        """The first file of each distinct content, by SHA-256."""
        out: dict[str, ArchivedFile] = {}
        for f in self.files:
            out.setdefault(f.sha256, f)
        return out


def safe_media_path(text: object) -> str | None:
    """``text`` as a relative POSIX path inside the media folder, or None if it is not one
    (absolute, ``..``, backslashes, drive letters, hidden or empty parts, control chars)."""
    if not isinstance(text, str) or not text or len(text) > 1024:
        return None
    if "\\" in text or ":" in text or any(ord(ch) < 32 or ord(ch) == 127 for ch in text):
        return None
    path = PurePosixPath(text)
    if path.is_absolute() or str(path) != text:
        return None
    if any(part in ("", ".", "..") or part.startswith(".") for part in path.parts):
        return None
    return text


def parse_manifest(data: bytes, label: str) -> Manifest:
    """The manifest, checked field by field; a newer format is refused."""

    def bad(why: str) -> ArchiveError:
        return ArchiveError(f"{label} has a damaged manifest ({why})")

    try:
        obj = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise bad("it is not valid JSON") from exc
    if not isinstance(obj, dict) or obj.get("format") != FORMAT:
        raise ArchiveError(f"{label} is not a Forge Studio space archive")

    def whole(value: Any, what: str, hi: int = 2**63 - 1) -> int:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= hi:
            raise bad(f"{what} is not a whole number")
        return value

    def text(value: Any, what: str) -> str:
        if not isinstance(value, str) or len(value) > 4096:
            raise bad(f"{what} is not text")
        return value

    version = whole(obj.get("format_version"), "format_version")
    if version > FORMAT_VERSION:
        raise ArchiveError(
            f"{label} was written by a newer Forge Studio (archive format {version}; this one "
            f"reads up to {FORMAT_VERSION}): update Forge Studio to import it"
        )
    if version < 1:
        raise bad("format_version is 0")
    schema = whole(obj.get("schema_version"), "schema_version")
    if schema > SPACE_MIGRATIONS[-1].version:
        raise ArchiveError(
            f"{label} holds a space from a newer Forge Studio (schema {schema}; this one knows "
            f"up to {SPACE_MIGRATIONS[-1].version}): update Forge Studio to import it"
        )
    space = obj.get("space")
    counts = obj.get("counts")
    database = obj.get("database")
    files = obj.get("files")
    if not isinstance(space, dict) or not isinstance(counts, dict):
        raise bad("space or counts missing")
    if not isinstance(database, dict) or not isinstance(files, list):
        raise bad("database or files missing")
    if sorted(counts) != sorted(COUNTED_TABLES):
        raise bad("counts name other tables")
    parsed: list[ArchivedFile] = []
    seen: set[str] = set()
    for i, item in enumerate(files):
        if not isinstance(item, dict):
            raise bad(f"files[{i}] is not an object")
        path = safe_media_path(item.get("path"))
        if path is None:
            raise ArchiveError(
                f"{label} is refused: its manifest names a file outside the space's media "
                f"folder ({str(item.get('path'))[:80]!r})"
            )
        if path in seen:
            raise bad(f"{path} is listed twice")
        seen.add(path)
        sha = item.get("sha256")
        if not isinstance(sha, str) or not _SHA.fullmatch(sha):
            raise bad(f"files[{i}].sha256 is not a SHA-256")
        parsed.append(ArchivedFile(path, sha, whole(item.get("size"), f"files[{i}].size")))
    db_sha = database.get("sha256")
    if (
        not isinstance(db_sha, str)
        or not _SHA.fullmatch(db_sha)
        or database.get("path") != DATABASE
    ):
        raise bad("database entry")
    sizes: dict[str, int] = {}
    for f in parsed:
        if sizes.setdefault(f.sha256, f.size) != f.size:
            raise bad(f"two sizes for one SHA-256 ({f.path})")
    return Manifest(
        format_version=version,
        protocol_version=whole(obj.get("protocol_version"), "protocol_version"),
        schema_version=schema,
        created_at=whole(obj.get("created_at"), "created_at"),
        space_id=text(space.get("id"), "space.id"),
        space_slug=text(space.get("slug"), "space.slug"),
        space_name=text(space.get("name"), "space.name"),
        counts={k: whole(counts[k], f"counts.{k}") for k in COUNTED_TABLES},
        database_sha256=db_sha,
        database_size=whole(database.get("size"), "database.size"),
        files=tuple(parsed),
    )
