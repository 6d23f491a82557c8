"""Choosing the keyring backend costs no compiler run (keyring's macOS backend asks
ctypes for the Security framework, which on Linux runs ldconfig and gcc)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PROBE = r"""
import ctypes.util, json, sys
asked = []
real = ctypes.util.find_library
def spy(name):
    asked.append(name)
    return real(name)
ctypes.util.find_library = spy
from studio.keys import KeyStore
store = KeyStore(env={}, announce=False)
value = store.get("gemini")
import keyring
print(json.dumps({"asked": asked, "value": value,
                  "backend": type(keyring.get_keyring()).__module__}))
"""


def probe(home: Path, **env: str) -> dict[str, object]:
    clean = {k: v for k, v in os.environ.items() if k != "PYTHON_KEYRING_BACKEND"}
    # keyring's config and data under a folder of the test's own (no user config read)
    clean.update(XDG_CONFIG_HOME=str(home / "config"), XDG_DATA_HOME=str(home / "data"))
    clean.update(PYTHONPATH=str(ROOT), **env)
    out = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        env=clean,
        timeout=120,
        cwd=ROOT,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.splitlines()[-1])  # type: ignore[no-any-return]


@pytest.mark.skipif(
    sys.platform == "darwin", reason="on macOS the Security framework is the keyring"
)
def test_a_key_lookup_never_asks_for_the_macos_framework(tmp_path: Path) -> None:
    got = probe(tmp_path)
    assert "Security" not in got["asked"], got
    assert got["value"] is None
    assert not str(got["backend"]).startswith("keyring.backends.macOS")


def test_a_backend_named_in_the_environment_is_still_keyrings_choice(tmp_path: Path) -> None:
    got = probe(tmp_path, PYTHON_KEYRING_BACKEND="keyring.backends.null.Keyring")
    assert got["backend"] == "keyring.backends.null"
