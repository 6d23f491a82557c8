"""The import pool's fork server starts as soon as the CLI knows the files (its modules
load while the space opens) and preloads only what those files need: no PyAV for
photos and plain WAVs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.media import MediaLimits
from studio.media.pool import preload_for

ROOT = Path(__file__).resolve().parents[2]


def test_what_the_workers_preload_follows_the_files() -> None:
    photos = [Path("a.jpg"), Path("b.PNG")]
    assert "av" not in preload_for(photos) and "numpy" not in preload_for(photos)
    assert "PIL.JpegImagePlugin" in preload_for(photos)
    with_wav = [*photos, Path("c.wav")]
    assert "numpy" in preload_for(with_wav) and "av" not in preload_for(with_wav)
    assert "av" in preload_for([*with_wav, Path("d.mp4")])
    assert "av" in preload_for([Path("e.flac")])


CHILD = r"""
import sys
from multiprocessing import forkserver
from pathlib import Path
from studio.media.pool import start_early
from studio.media import MediaLimits
from tests.media.test_pool_start import prepare_and_tell

files = [Path(p) for p in sys.argv[1:]]
start_early(files, requested=2)
print("SERVER", forkserver._forkserver._forkserver_pid is not None, flush=True)
from studio.media.pool import PreparePool, preload_for
import tempfile
with PreparePool(2, prepare_and_tell, preload_for(files)) as pool:
    stage = Path(tempfile.mkdtemp())
    jobs = []
    for i, f in enumerate(files):
        (stage / str(i)).mkdir()
        jobs.append(pool.submit(f, stage / str(i), MediaLimits()))
    print("AV", sorted({j.result() for j in jobs}), flush=True)
"""


def prepare_and_tell(path: Path, stage: Path, limits: MediaLimits) -> bool:
    """A worker's prepare that reports whether PyAV was imported in it after the file."""
    from studio.media.prepare import Prepared, prepare_file

    made = prepare_file(path, stage, limits)
    assert isinstance(made, Prepared), made
    return "av" in sys.modules


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork server: Linux")
def test_photos_and_plain_wavs_are_prepared_without_pyav(tmp_path: Path) -> None:
    from PIL import Image

    from tests.media.conftest import write_wav

    files = []
    for i in range(3):
        p = tmp_path / f"p{i}.jpg"
        Image.effect_noise((300, 200), 30 + i).convert("RGB").save(p)
        w = tmp_path / f"s{i}.wav"
        write_wav(w, 0.5)
        files += [p, w]
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, *map(str, files)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    assert "SERVER True" in proc.stdout  # started before any pool
    assert "AV [False]" in proc.stdout, proc.stdout  # no worker ever imported PyAV
