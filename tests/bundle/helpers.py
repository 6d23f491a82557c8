"""Starting the app (from the checkout, or the bundle) as a real process, offscreen, and
waiting for what it writes to its log."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WINDOW_SHOWN = "main window shown"  # studio.ui.app.WINDOW_SHOWN


def source_env(**extra: str) -> dict[str, str]:
    """The environment to run the checkout's ``studio`` with this interpreter."""
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    env["QT_QPA_PLATFORM"] = "offscreen"
    env.pop("STUDIO_HOME", None)
    env.update(extra)
    return env


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """A bare environment: no venv, no source tree, no Python on PATH."""
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
        "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring",
    }
    env.update(extra)
    return env


@dataclass
class Started:
    proc: subprocess.Popen[bytes]
    log: Path
    started: float
    shown_after: float | None = None


def start_app(
    cmd: Sequence[str], home: Path, env: dict[str, str], cwd: Path, args: Sequence[str] = ()
) -> Started:
    log = home / "logs" / "studio.log"
    out = open(home.parent / f"{home.name}-app.out", "wb")  # noqa: SIM115 - closed with the process
    t0 = time.monotonic()
    proc = subprocess.Popen(
        [*cmd, "--home", str(home), *args], env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT
    )
    out.close()
    return Started(proc, log, t0)


def wait_for_log(app: Started, text: str, timeout: float) -> float:
    """Seconds from the start until ``text`` is in the app's log; fails on timeout or
    when the app ended first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if app.log.is_file() and text in app.log.read_text(encoding="utf-8", errors="replace"):
            return time.monotonic() - app.started
        if app.proc.poll() is not None:
            raise AssertionError(f"the app ended ({app.proc.returncode}) before logging {text!r}")
        time.sleep(0.05)
    raise AssertionError(f"no {text!r} in {app.log} within {timeout} s")


def stop(app: Started, timeout: float = 30.0) -> int:
    """SIGTERM, then the exit code (killed and failed if it does not end in time)."""
    if app.proc.poll() is None:
        app.proc.send_signal(signal.SIGTERM)
    try:
        return app.proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        app.proc.kill()
        app.proc.wait(timeout=10)
        raise AssertionError(f"the app did not end within {timeout} s of SIGTERM") from None


def python_studio() -> list[str]:
    return [sys.executable, "-m", "studio"]
