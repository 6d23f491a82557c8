"""Shared pieces of the cloud provider tests: fake keys, a studio whose registry holds
the real providers pointed at the fakes, and running its queue with quick backoff."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import keyring
from keyring.backend import KeyringBackend
from keyring.errors import KeyringLocked, PasswordDeleteError

from studio.core import commands as c
from studio.core.space import Space
from studio.core.studio import Studio
from studio.jobs.executor import InlineExecutor
from studio.jobs.policy import RetryPolicy
from studio.jobs.scheduler import Scheduler, SchedulerConfig
from studio.store.records import JobRow
from tests.conftest import OWNER
from tests.fakes.media import png
from workers.base import Provider
from workers.local import LocalProvider
from workers.registry import ProviderRegistry

GOOGLE_KEY = "AIzaFakeGoogleKey-0123456789abcdefghijklm"
ELEVEN_KEY = "sk_" + "0123456789abcdef" * 3
QUICK = SchedulerConfig(retry=RetryPolicy(base_s=0.02, cap_s=0.1))


@contextmanager
def cloud_space(home: Path, *providers: Provider) -> Iterator[tuple[Studio, Space]]:
    """A studio (real clock) with ``local`` and the given providers, and one space."""
    registry = ProviderRegistry([LocalProvider(), *providers])
    with Studio(home, providers=registry) as studio:
        entry = studio.create_space("Cloud")
        with studio.open_space(entry.slug) as space:
            yield studio, space


def run_queue(studio: Studio, space: Space, timeout_s: float = 20.0) -> None:
    scheduler = Scheduler(space, InlineExecutor(), config=QUICK, usage=studio.library)
    try:
        assert scheduler.run_until_idle(timeout_s=timeout_s)
    finally:
        scheduler.close()


def options(provider: str, model: str | None = None, **kw: Any) -> c.GenerationOptions:
    return c.GenerationOptions(provider=provider, model=model, no_style=True, seed=7, **kw)


def generate(space: Space, prompt: str, kind: str, opts: c.GenerationOptions, **kw: Any) -> str:
    applied = space.apply(
        c.RequestGeneration(prompt, c.MediaKindName(kind), options=opts, **kw), OWNER
    )
    return str(applied.created["variant_id"])


def job_of(space: Space, variant_id: str) -> JobRow:
    return next(j for j in space.jobs(limit=1000) if j.variant_id == variant_id)


def image_variants(space: Space, tmp: Path, *sizes: tuple[int, int]) -> list[str]:
    """Completed image variants made by importing real PNG files."""
    from studio.core.imports import import_files

    paths = []
    for i, (w, h) in enumerate(sizes):
        path = tmp / f"ref{i}.png"
        path.write_bytes(png(w, h, i + 1))
        paths.append(path)
    report = import_files(space, paths, OWNER)
    assert not report.refused
    return [i.variant_id for i in report.imported]


def stored(space: Space, variant_id: str) -> dict[str, Any]:
    detail = space.variant_detail(variant_id)
    return {
        "status": detail.row.status,
        "mime": detail.row.mime,
        "width": detail.row.width,
        "height": detail.row.height,
        "duration_ms": detail.row.duration_ms,
        "thumb": detail.row.thumb_path,
        "poster": detail.row.poster_path,
        "error_code": detail.row.error_code,
        "error_message": detail.row.error_message,
        "recipe": detail.recipe,
        "provenance": detail.generation_provenance,
        "metadata": detail.provider_metadata,
    }


def body(req: Any) -> dict[str, Any]:
    return dict(json.loads(req.body))


class MemoryKeyring(KeyringBackend):
    """An in-memory keyring backend for tests (``keyring.set_keyring``)."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.values.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.values[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if (service, username) not in self.values:
            raise PasswordDeleteError("not found")
        del self.values[(service, username)]


class LockedKeyring(MemoryKeyring):
    """A keyring that refuses everything, like a locked or absent one."""

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the collection is locked")


@contextmanager
def using_keyring(backend: KeyringBackend) -> Iterator[KeyringBackend]:
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
