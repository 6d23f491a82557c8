"""The studio: the data root, its library of spaces, and opening them."""

from __future__ import annotations

import os
import shutil
import sqlite3
from pathlib import Path

from studio.clock import Clock, IdGenerator, TimeSortedIds, slugify, system_clock, unique_slug
from studio.core import settings
from studio.core.errors import NotFoundError, StorageError
from studio.core.handlers.common import clean_text
from studio.core.space import Space
from studio.paths import StudioPaths, default_home
from studio.store.db import SchemaError
from studio.store.library import Library, SpaceEntry
from workers.registry import ProviderRegistry

LOCAL_LATENCY_KEY = settings.LOCAL_LATENCY
"""Simulated latency of the offline provider, so a demo shows jobs at work."""


class Studio:
    def __init__(
        self,
        home: Path | None = None,
        *,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        providers: ProviderRegistry | None = None,
    ) -> None:
        self.paths = StudioPaths(home if home is not None else default_home())
        self._providers = providers
        self.clock = clock
        self.ids: IdGenerator = ids or TimeSortedIds(clock)
        try:
            self.paths.ensure()
            self.library = Library(self.paths.library_db, now_ms=clock())
        except (OSError, sqlite3.Error, SchemaError) as exc:
            raise StorageError(
                f"could not open the studio folder {self.paths.home}: {exc}"
            ) from exc

    def close(self) -> None:
        self.library.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ spaces
    def spaces(self) -> list[SpaceEntry]:
        return self.library.spaces()

    def resolve(self, ref: str) -> SpaceEntry:
        entry = self.library.find(ref)
        if entry is None:
            raise NotFoundError(f"there is no space {ref!r} (see `studio space list`)")
        return entry

    def create_space(self, name: str) -> SpaceEntry:
        name = clean_text(name, "space name")
        slug = unique_slug(
            slugify(name, fallback="space"),
            lambda s: (
                self.library.slug_taken(s)
                or self.paths.space_db(s).exists()
                or self.paths.space_media(s).exists()
            ),
        )
        entry = SpaceEntry(
            id=self.ids(),
            slug=slug,
            name=name,
            file=str(self.paths.space_db(slug).relative_to(self.paths.home)),
            created_at=self.clock(),
            last_opened_at=None,
        )
        space = Space.open(
            self.paths.space_db(slug),
            self.paths.space_media(slug),
            space_id=entry.id,
            slug=slug,
            clock=self.clock,
            ids=self.ids,
        )
        space.close()
        self.library.add(entry)
        return entry

    def rename_space(self, ref: str, name: str) -> SpaceEntry:
        entry = self.resolve(ref)
        name = clean_text(name, "space name")
        self.library.rename(entry.id, name)
        return entry._replace(name=name)

    def delete_space(self, ref: str) -> Path:
        """Move the space file and its media to ``trash/`` (recoverable by hand); return
        the trash folder."""
        entry = self.resolve(ref)
        stamp = self.clock()
        dest = self.paths.trash_dir / f"{entry.slug}-{stamp}"
        dest.mkdir(parents=True, exist_ok=False)
        db = self.paths.home / entry.file
        for suffix in ("", "-wal", "-shm", ".lock", ".holders"):
            src = Path(f"{db}{suffix}")
            if src.exists():
                os.replace(src, dest / src.name)
        media = self.paths.space_media(entry.slug)
        if media.exists():
            shutil.move(str(media), str(dest / "media"))
        self.library.remove(entry.id)
        self.library.forget_space(entry.id)
        return dest

    @property
    def providers(self) -> ProviderRegistry:
        """The generation providers (built on first use: ``local`` plus keyed cloud ones)."""
        if self._providers is None:
            from studio.keys import KeyStore
            from workers.registry import CLOUD_PROVIDERS, default_registry

            base_urls = {
                name: url
                for name in CLOUD_PROVIDERS
                if (url := settings.base_url(self.library, name))
            }
            self._providers = default_registry(
                local_latency_s=settings.local_latency_s(self.library),
                keys=KeyStore(),
                base_urls=base_urls,
            )
        return self._providers

    def reload_providers(self) -> None:
        """Rebuild the registry on next use (after keys or provider settings changed);
        spaces opened afterwards get the new one."""
        self._providers = None

    def open_space(self, ref: str) -> Space:
        entry = self.resolve(ref)
        space = Space.open(
            self.paths.home / entry.file,
            self.paths.space_media(entry.slug),
            space_id=entry.id,
            slug=entry.slug,
            clock=self.clock,
            ids=self.ids,
            providers=self.providers,
        )
        self.library.touch(entry.id, self.clock())
        from studio.core.leftovers import sweep_leftovers_at_open

        sweep_leftovers_at_open(space)  # what killed imports and jobs left behind
        return space
