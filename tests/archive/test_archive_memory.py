"""Export and import stream: peak memory does not grow with the media (measured in a
child process, as its peak resident set size)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = r"""
import hashlib, json, resource, sys
from pathlib import Path
from studio.core import commands as c
from studio.core.actor import Actor
from studio.core.archive import export_space, import_space
from studio.core.studio import Studio

home, total_mb, files = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
per = total_mb * 2**20 // files
block = bytearray(range(256)) * 4096  # 1 MiB
with Studio(home) as st:
    entry = st.create_space("Big")
    with st.open_space(entry.slug) as sp:
        for i in range(files):
            begun = sp.apply(
                c.BeginUpload(media_kind=c.MediaKindName("video"), original_name=f"big{i}.bin"),
                Actor.local_owner(),
            )
            aid, vid = begun.created["asset_id"], begun.created["variant_id"]
            rel = f"{sp.asset(aid).slug}/{vid}/original.bin"
            path = sp.media_dir / rel
            path.parent.mkdir(parents=True)
            digest = hashlib.sha256()
            with open(path, "wb") as f:
                for n in range(per // len(block)):
                    block[0] = (n + i) % 256  # every MiB differs
                    digest.update(block)
                    f.write(block)
            sp.apply(
                c.CompleteVariant(vid, rel, "application/octet-stream", per, digest.hexdigest()),
                Actor.system(),
            )
    base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    out = export_space(st, entry.slug, home / "big.forgespace")
    after_export = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    imported = import_space(st, out.path)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"base_kib": base, "export_kib": after_export, "peak_kib": peak,
                      "archive_bytes": out.size_bytes, "slug": imported.entry.slug}))
"""


def _run(tmp_path: Path, total_mb: int, files: int) -> dict[str, int]:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[2]))
    proc = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "home"), str(total_mb), str(files)],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result: dict[str, int] = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["archive_bytes"] > total_mb * 2**20
    return result


def test_memory_stays_flat_with_128_mib(tmp_path: Path) -> None:
    r = _run(tmp_path, 128, 2)
    grown_mib = (r["peak_kib"] - r["base_kib"]) / 1024
    assert grown_mib < 32, r  # files of 64 MiB each: whole-file reads would show


@pytest.mark.slow
def test_memory_stays_flat_with_1_gib(tmp_path: Path) -> None:
    r = _run(tmp_path, 1024, 2)
    grown_mib = (r["peak_kib"] - r["base_kib"]) / 1024
    assert grown_mib < 32, r
