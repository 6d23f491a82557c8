"""Packaging tests. Those marked ``bundle`` build or install the app (a wheel in a
throwaway venv, the PyInstaller bundle, the tarball's installer): they run only with
``-m bundle`` or ``STUDIO_BUNDLE=1`` (``make bundle-test``), never in ``make test``."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if "bundle" in (config.option.markexpr or "") or os.environ.get("STUDIO_BUNDLE"):
        return
    here = Path(__file__).parent
    skip = pytest.mark.skip(reason="bundle: run with make bundle-test (-m bundle)")
    for item in items:
        if item.get_closest_marker("bundle") and Path(str(item.path)).is_relative_to(here):
            item.add_marker(skip)
