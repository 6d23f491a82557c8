"""Fixtures shared by the cloud provider tests."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.google import GoogleFake
from tests.workers.cloud_helpers import GOOGLE_KEY


@pytest.fixture
def google() -> Iterator[GoogleFake]:
    """The Gemini / Veo / Lyria fake server on 127.0.0.1."""
    with GoogleFake(GOOGLE_KEY) as fake:
        yield fake


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``slow`` tests here (every offset, every shape) run only when asked for: with
    ``-m slow`` or ``STUDIO_SLOW=1``; the default run keeps their short variants."""
    if "slow" in (config.option.markexpr or "") or os.environ.get("STUDIO_SLOW"):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="slow: run with -m slow or STUDIO_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow") and Path(str(item.path)).is_relative_to(here):
            item.add_marker(skip)
