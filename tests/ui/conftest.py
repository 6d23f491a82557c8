"""Shared set-up of the UI tests."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _collect_qt_garbage_on_the_main_thread() -> Iterator[None]:
    """Collect each test's cyclic garbage here, on the main thread.

    A widget left in a reference cycle is otherwise freed by whichever thread next
    triggers the cyclic collector — in a later test that may be a job thread or a
    thread-pool worker — and a Qt object destroyed off its thread can crash the
    process (seen once: a segfault while a worker thread imported google-genai).
    """
    yield
    gc.collect()
