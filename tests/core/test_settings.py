"""Settings have a type and range: bad values are refused when set, and a bad value that
got into ``library.db`` anyway is reported once and replaced by the default — never fatal."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.core import settings
from studio.core.errors import ValidationError
from studio.core.studio import Studio
from studio.jobs.config import scheduler_config
from studio.jobs.policy import RateWindow
from studio.providers_setup import build_providers

ROOT = Path(__file__).resolve().parents[2]

BAD = {
    "jobs.local.concurrency": ["0", "-3", "65", "two", "1e400", "9" * 5000, "", "nan"],
    "jobs.local.per_minute": ["0", "-1", "10001", "1.5", "inf"],
    "providers.local.latency_s": ["abc", "-1", "61", "nan", "inf", "1e400", "9" * 5000],
    "providers.gemini.base_url": ["ftp://x", "localhost", "http://", "http://a b", "http://u:p@h"],
    "providers.default.image": ["", "Local Provider", "x" * 100],
    "ui.view.space-1": ["{", "[]", "[" * 100_000],
    "ui.window.geometry": ["not base64!"],
    "ui.last_space": ["", "a b", "x" * 100],
}
GOOD = {
    "jobs.local.concurrency": ("3", 3),
    "jobs.gemini.per_minute": ("60", 60),
    "providers.local.latency_s": ("0.25", 0.25),
    "providers.gemini.base_url": ("http://127.0.0.1:9999", "http://127.0.0.1:9999"),
    "providers.default.sfx": ("elevenlabs", "elevenlabs"),
    "ui.view.space-1": ('{"zoom": 1.5}', '{"zoom": 1.5}'),
}


@pytest.fixture
def lib(tmp_path: Path) -> Studio:
    with Studio(tmp_path / "home", providers=build_providers) as s:
        yield s  # type: ignore[misc]


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in BAD.items() for v in vs])
def test_bad_values_are_refused_when_set(lib: Studio, key: str, value: str) -> None:
    with pytest.raises(ValidationError) as err:
        settings.put(lib.library, key, value)
    assert key in err.value.message and "\n" not in err.value.message
    assert lib.library.setting(key) is None


@pytest.mark.parametrize(
    "key", ["foo", "jobs.local", "jobs..concurrency", "x" * 10_000, "ui.\udcff"]
)
def test_unknown_keys_are_refused(lib: Studio, key: str) -> None:
    with pytest.raises(ValidationError):
        settings.put(lib.library, key, "1")


@pytest.mark.parametrize("key", sorted(GOOD))
def test_good_values_round_trip_typed(lib: Studio, key: str) -> None:
    text, typed = GOOD[key]
    settings.put(lib.library, key, text)
    assert settings.get(lib.library, key) == typed


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, vs in BAD.items() for v in vs])
def test_a_bad_stored_value_is_reported_once_and_the_default_used(
    lib: Studio, key: str, value: str, caplog: pytest.LogCaptureFixture
) -> None:
    _write_raw(lib, key, value)
    default = settings.get(_Empty(), key)
    settings._REPORTED.discard((key, value))  # as in a fresh process
    with caplog.at_level(logging.WARNING, logger="studio.core.settings"):
        assert settings.get(lib.library, key) == default
        assert settings.get(lib.library, key) == default
    reports = [r.getMessage() for r in caplog.records if key in r.getMessage()]
    assert len(reports) == 1 and "is ignored" in reports[0] and "\n" not in reports[0]


def test_bad_limits_never_reach_the_scheduler(lib: Studio) -> None:
    for key, value in [("jobs.local.concurrency", "-4"), ("jobs.local.per_minute", "0")]:
        _write_raw(lib, key, value)
    limits = scheduler_config(lib.library, ["local"]).limits["local"]
    assert limits.concurrency == 2 and limits.per_minute is None
    window = RateWindow(limits.per_minute)
    assert window.next_allowed(1000) == 1000  # a rate of 0 made this raise IndexError
    _write_raw(lib, "providers.local.latency_s", "not a number")
    assert "local" in lib.providers.names()


def test_a_bad_stored_value_does_not_break_space_commands_or_the_worker(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("S")
        for key, value in [
            ("providers.local.latency_s", "abc"),
            ("jobs.local.per_minute", "0"),
            ("jobs.local.concurrency", "lots"),
            ("providers.gemini.base_url", "ftp://nowhere"),
        ]:
            _write_raw(studio, key, value)
    cli = [sys.executable, "-m", "studio", "--home", str(home)]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.run(
        [*cli, "generate", "s", "a small cat", "--wait"],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    assert "completed" in proc.stdout and "Traceback" not in proc.stderr
    warned = [line for line in proc.stderr.splitlines() if "is ignored" in line]
    assert len(warned) == 4  # each bad value once
    assert all(line.startswith("studio: the setting ") for line in warned)
    # listing and a refused set: the same CLI code in this process (no interpreter start)
    from studio.cli.main import main

    capsys.readouterr()
    assert main(["--home", str(home), "settings"]) == 0
    listed = capsys.readouterr().out
    assert "jobs.local.per_minute = 0  (ignored: it must be a whole number" in listed
    assert main(["--home", str(home), "settings", "jobs.local.per_minute", "0"]) == 1
    refused = capsys.readouterr()
    assert refused.err.count("\n") == 1
    assert "from 1 to 10000" in refused.err


def _write_raw(studio: Studio, key: str, value: str) -> None:
    """Straight into library.db, past every check (as a hand edit or an old version would)."""
    conn = studio.library.connection
    conn.execute(
        "INSERT INTO settings(key, value) VALUES (?, ?) "
        "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        (key, value),
    )
    conn.commit()


class _Empty:
    def setting(self, key: str, default: str | None = None) -> str | None:
        return default

    def settings(self) -> list[tuple[str, str]]:
        return []

    def set_setting(self, key: str, value: str) -> None:
        raise AssertionError

    def delete_setting(self, key: str) -> None:
        raise AssertionError


def test_typed_readers_never_raise_for_names_outside_the_patterns(lib: Studio) -> None:
    assert settings.concurrency(lib.library, "Odd Name") == 2
    assert settings.per_minute(lib.library, "Odd Name") is None
    assert settings.default_provider(lib.library, "smell") is None
    assert settings.base_url(lib.library, "UPPER") is None
