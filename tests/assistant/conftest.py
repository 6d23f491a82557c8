"""The chat dock's tests build widgets: collect their garbage on the main thread (as
tests/ui/conftest.py does, for the same reason)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_main_thread() -> Iterator[None]:
    yield
    gc.collect()
    gc.freeze()  # what outlived the test is not walked again (tests/ui/conftest.py)
