"""Reports that cross from an xdist worker to the controller must be valid UTF-8.

execnet refuses a string it cannot encode, and a refused report ends the whole run with
an internal error. Tests that feed hostile names and texts (lone surrogates like
``\\udcff`` from undecodable file names) leave such text in captured output, log lines
and failure messages, so the serialised report escapes it instead of losing the run.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest


def safe_text(value: Any) -> Any:
    """``value`` with every string made UTF-8 encodable (``\\udcff`` stays readable as
    the six characters ``\\udcff``); containers are walked, other values kept."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return value.encode("utf-8", "backslashreplace").decode("utf-8")
        return value
    if isinstance(value, dict):
        return {safe_text(k): safe_text(v) for k, v in value.items()}
    if isinstance(value, list):
        return [safe_text(v) for v in value]
    if isinstance(value, tuple):
        return tuple(safe_text(v) for v in value)
    return value


@pytest.hookimpl(wrapper=True)
def pytest_report_to_serializable(
    config: pytest.Config, report: pytest.CollectReport | pytest.TestReport
) -> Generator[None, object, object]:
    data = yield
    return safe_text(data)
