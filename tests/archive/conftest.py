"""Archive tests: the big ones run only when asked for."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """``slow`` tests here (a GiB of media) run only with ``-m slow`` or ``STUDIO_SLOW=1``;
    the default run keeps their short variants."""
    if "slow" in (config.option.markexpr or "") or os.environ.get("STUDIO_SLOW"):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="slow: run with -m slow or STUDIO_SLOW=1")
    for item in items:
        if item.get_closest_marker("slow") and Path(str(item.path)).is_relative_to(here):
            item.add_marker(skip)
