"""The bundle's stand-ins for the two encoder libraries the app never uses (libx265,
SVT-AV1; ``packaging/stub_encoders.py``), tried on a copy of this venv's PyAV: PyAV
still loads and encodes what the app encodes (H.264, VP9), and asking for HEVC or AV1
encoding fails with an error instead of crashing."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.bundle.helpers import ROOT

PROBE = """
import sys
import av, numpy as np
assert av.__file__.startswith(sys.argv[1]), av.__file__
for codec in sys.argv[2:]:
    try:
        with av.open(f"{sys.argv[1]}/out-{codec}.mkv", "w") as out:
            s = out.add_stream(codec, rate=24)
            s.width, s.height, s.pix_fmt = 64, 64, "yuv420p"
            for i in range(3):
                frame = np.full((64, 64, 3), i * 40, np.uint8)
                out.mux(s.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
            out.mux(s.encode(None))
        print(codec, "encoded")
    except av.FFmpegError as exc:
        print(codec, "refused", type(exc).__name__)
"""


def _stubs() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "stub_encoders", ROOT / "packaging" / "stub_encoders.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_pyav_with_the_stand_ins_encodes_what_the_app_needs(tmp_path: Path) -> None:
    if not all(shutil.which(t) for t in ("cc", "nm", "readelf")):
        pytest.skip("no C compiler or binutils: the bundle keeps the real libraries")
    import av

    site = Path(av.__file__).parents[1]
    if not (site / "av.libs").is_dir():
        pytest.skip("this PyAV is not a manylinux wheel with its own FFmpeg")
    copy = tmp_path / "site"
    copy.mkdir()
    shutil.copytree(site / "av", copy / "av")
    shutil.copytree(site / "av.libs", copy / "av.libs")
    before = {p.name: p.stat().st_size for p in (copy / "av.libs").iterdir()}

    said = _stubs().stub_unused_encoders(copy)

    replaced = [line for line in said if "replaced by a stand-in" in line]
    assert len(replaced) == 2, said
    after = {p.name: p.stat().st_size for p in (copy / "av.libs").iterdir()}
    shrunk = {n for n in before if after[n] < before[n]}
    assert {n.split("-")[0] for n in shrunk} == {"libx265", "libSvtAv1Enc"}
    assert sum(before[n] - after[n] for n in shrunk) > 10_000_000
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(copy), "libx264", "libvpx-vp9", "libx265", "libsvtav1"],
        env={"PYTHONPATH": str(copy), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]  # no crash, whatever was asked
    assert done.stdout.splitlines() == [
        "libx264 encoded",
        "libvpx-vp9 encoded",
        "libx265 refused MemoryError",
        "libsvtav1 refused MemoryError",
    ]


def test_a_library_whose_symbols_have_no_stand_in_stays(tmp_path: Path) -> None:
    """A later libavcodec asking libx265 for more than the stand-in offers keeps the
    real library (the bundle is then bigger, never broken)."""
    if not all(shutil.which(t) for t in ("cc", "nm", "readelf")):
        pytest.skip("no C compiler or binutils")
    real = tmp_path / "libx265-0000.so.1"
    user = tmp_path / "libuser.so"
    src = tmp_path / "real.c"
    src.write_text(
        "int x265_api_get_216(int d) { return d; }\nint x265_api_query(void) { return 1; }\n"
    )
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-Wl,-soname,libx265-0000.so.1", "-o", str(real), str(src)],
        check=True,
    )
    (tmp_path / "user.c").write_text(
        "int x265_api_get_216(int);\nint x265_api_query(void);\n"
        "int use(void) { return x265_api_get_216(0) + x265_api_query(); }\n"
    )
    subprocess.run(
        ["cc", "-shared", "-fPIC", "-o", str(user), str(tmp_path / "user.c"), str(real)],
        check=True,
    )
    size = real.stat().st_size
    stubs = _stubs()
    said = stubs.stub_unused_encoders(tmp_path, {"libx265-": stubs.STUBS["libx265-"]})
    assert said == ["stubs: libx265-0000.so.1 stays: no stand-in for ['x265_api_query']"]
    assert real.stat().st_size == size
