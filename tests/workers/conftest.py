"""Fixtures shared by the cloud provider tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.google import GoogleFake
from tests.workers.cloud_helpers import GOOGLE_KEY


@pytest.fixture
def google() -> Iterator[GoogleFake]:
    """The Gemini / Veo / Lyria fake server on 127.0.0.1."""
    with GoogleFake(GOOGLE_KEY) as fake:
        yield fake
