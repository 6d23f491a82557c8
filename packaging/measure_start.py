"""Cold start to the first window, offscreen: the bundle against the venv (what
``make run`` starts), in the same run, alternating, each start with a fresh data folder
(so each also creates the Welcome space). "First window" is the app's log line
``main window shown`` (the event loop running with the window up).

    python packaging/measure_start.py [--runs 5] [--bundle dist/bundle/forge-studio/studio]
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
MARK = "main window shown"


def start_once(cmd: list[str], env: dict[str, str], timeout: float = 180.0) -> float:
    home = Path(tempfile.mkdtemp(prefix="forge-start-"))
    log = home / "logs" / "studio.log"
    try:
        t0 = time.monotonic()
        proc = subprocess.Popen(
            [*cmd, "--home", str(home)],
            env=env,
            cwd=home,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            while time.monotonic() - t0 < timeout:
                if log.is_file() and MARK in log.read_text(errors="replace"):
                    return time.monotonic() - t0
                if proc.poll() is not None:
                    raise SystemExit(f"{cmd[0]} ended ({proc.returncode}) before its window")
                time.sleep(0.02)
            raise SystemExit(f"{cmd[0]}: no window within {timeout} s")
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
    finally:
        shutil.rmtree(home, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--runs", type=int, default=5)
    p.add_argument(
        "--bundle", type=Path, default=ROOT / "dist" / "bundle" / "forge-studio" / "studio"
    )
    args = p.parse_args()
    base = {k: v for k, v in os.environ.items() if k not in ("STUDIO_HOME", "PYTHONPATH")}
    base["QT_QPA_PLATFORM"] = "offscreen"
    venv_env = dict(base, PYTHONPATH=str(ROOT))
    bundle_env = {
        "PATH": "/usr/bin:/bin",
        "HOME": base.get("HOME", "/tmp"),
        "QT_QPA_PLATFORM": "offscreen",
    }
    starts: dict[str, list[float]] = {"venv (make run)": [], "bundle": []}
    with open("/proc/loadavg") as f:
        print(f"load before: {f.read().split()[:3]}, {os.cpu_count()} CPUs")
    for _ in range(max(1, args.runs)):
        starts["venv (make run)"].append(start_once([sys.executable, "-m", "studio"], venv_env))
        starts["bundle"].append(start_once([str(args.bundle)], bundle_env))
    for name, times in starts.items():
        print(
            f"{name:16} median {statistics.median(times):.2f} s, min {min(times):.2f} s, "
            f"max {max(times):.2f} s over {len(times)} starts"
        )
    with open("/proc/loadavg") as f:
        print(f"load after: {f.read().split()[:3]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
