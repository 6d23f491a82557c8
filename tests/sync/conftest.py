"""Sharing tests: real TLS websockets on 127.0.0.1 (port 0), every host and process
stopped by the test that started it."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``slow`` tests here (long randomized runs) run only when asked for: with ``-m
    slow`` or ``STUDIO_SLOW=1``; the default run keeps their short variants."""
    expr = config.option.markexpr or ""
    if ("slow" in expr and "not slow" not in expr) or os.environ.get("STUDIO_SLOW"):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="slow: run with -m slow or STUDIO_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow") and Path(str(item.path)).is_relative_to(here):
            item.add_marker(skip)
