"""Stand-ins for two encoder libraries PyAV's FFmpeg links but the app never uses.

PyAV's wheel (18.1.0 here, 2026-12-01) links its ``libavcodec`` against libx265 (HEVC
encoding, 20.6 MB) and SVT-AV1 (AV1 encoding, 7.1 MB). The app encodes only H.264
(libx264), VP9 (libvpx), AAC, Opus, MP3, FLAC and PCM (``studio/core/convert.py``,
``workers/local_video.py``); it decodes HEVC and AV1 with FFmpeg's own decoders and dav1d,
which stay. So the bundle carries, under each library's own file name and soname, a
small library that exports exactly the symbols the rest of the bundle imports from it,
and fails cleanly when called: FFmpeg's ``libx265`` encoder then stops with "Could not
allocate x265 param structure" and ``libsvtav1`` with "Error initializing encoder
handle" instead of encoding (both return an error to the caller; nothing crashes).

A library is replaced only when a C compiler is there and every symbol the bundle
imports from it has a stand-in here; otherwise the real one stays (and the bundle is
that much bigger). ``make bundle`` runs this from the spec, before stripping.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

# x265's API table: FFmpeg calls x265_api_get_<build>() and then the table's functions
# (param_alloc first). Every pointer-sized slot of this table is a function returning 0,
# so whichever slot is called gets NULL / 0, and FFmpeg gives up with ENOMEM.
_X265 = """
typedef void *(*stub_fn)(void);
static void *stub_nothing(void) { return 0; }
static stub_fn stub_table[512];
__attribute__((constructor)) static void stub_fill(void) {
    for (unsigned i = 0; i < sizeof stub_table / sizeof *stub_table; i++)
        stub_table[i] = stub_nothing;
}
const void *x265_api_get_216(int bit_depth) { (void)bit_depth; return stub_table; }
"""

# SVT-AV1: every call returns EB_ErrorInsufficientResources (0x80001000); the handle
# FFmpeg asks for stays NULL, so its close frees nothing.
_SVT_NAMES = (
    "svt_add_metadata", "svt_av1_enc_deinit", "svt_av1_enc_deinit_handle",
    "svt_av1_enc_get_packet", "svt_av1_enc_get_stream_info", "svt_av1_enc_init",
    "svt_av1_enc_parse_parameter", "svt_av1_enc_release_out_buffer",
    "svt_av1_enc_send_picture", "svt_av1_enc_set_parameter", "svt_av1_enc_stream_header",
    "svt_av1_enc_stream_header_release", "svt_metadata_array_free",
)  # fmt: skip
_SVT = (
    "#define STUB_ERROR ((int)0x80001000)\n"
    "int svt_av1_enc_init_handle(void **handle, void *app, void *config) {\n"
    "    (void)app; (void)config; if (handle) *handle = 0; return STUB_ERROR;\n}\n"
    + "".join(f"int {name}() {{ return STUB_ERROR; }}\n" for name in _SVT_NAMES)
)

STUBS = {"libx265-": _X265, "libSvtAv1Enc-": _SVT}
"""File-name prefix of the library (as auditwheel named it) -> its stand-in's C source."""


def _symbols(lib: Path, *flags: str) -> set[str]:
    out = subprocess.run(
        ["nm", "-D", "--format=posix", *flags, str(lib)], capture_output=True, text=True
    ).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def _soname(lib: Path) -> str | None:
    out = subprocess.run(["readelf", "-d", str(lib)], capture_output=True, text=True).stdout
    found = re.search(r"\(SONAME\)\s+Library soname: \[(.+)\]", out)
    return found.group(1) if found else None


def stub_unused_encoders(folder: Path, stubs: dict[str, str] | None = None) -> list[str]:
    """Replace each library of ``stubs`` found under ``folder`` by its stand-in; the
    lines to print (what was replaced or kept, and why)."""
    stubs = STUBS if stubs is None else stubs
    if not all(shutil.which(t) for t in ("cc", "nm", "readelf")):
        return ["stubs: no C compiler (cc) or binutils: the encoder libraries stay"]
    libs = [p for p in folder.rglob("*.so*") if p.is_file() and not p.is_symlink() and _is_elf(p)]
    said = []
    for prefix, source in stubs.items():
        real = [p for p in libs if p.name.startswith(prefix)]
        if len(real) != 1:
            said.append(f"stubs: {prefix}*: {len(real)} found, left as it is")
            continue
        lib = real[0]
        offered = _symbols(lib, "--defined-only")
        wanted = set()
        for other in libs:
            if other != lib:
                wanted |= {s for s in _symbols(other, "--undefined-only") if s in offered}
        soname = _soname(lib)
        if soname is None:
            said.append(f"stubs: {lib.name} stays: it has no soname")
            continue
        with tempfile.TemporaryDirectory() as tmp:
            c, built = Path(tmp) / "stub.c", Path(tmp) / "stub.so"
            c.write_text(source, encoding="utf-8")
            done = subprocess.run(
                ["cc", "-shared", "-fPIC", "-O2", "-s", f"-Wl,-soname,{soname}", "-o",
                 str(built), str(c)],
                capture_output=True, text=True,
            )  # fmt: skip
            if done.returncode != 0:
                said.append(f"stubs: {lib.name} stays: its stand-in did not build")
                continue
            missing = sorted(wanted - _symbols(built, "--defined-only"))
            if missing:
                said.append(f"stubs: {lib.name} stays: no stand-in for {missing}")
                continue
            size = lib.stat().st_size
            built.chmod(lib.stat().st_mode)
            shutil.copyfile(built, lib)
        said.append(
            f"stubs: {lib.name} ({size / 1e6:.1f} MB) replaced by a stand-in "
            f"({lib.stat().st_size / 1e3:.0f} kB) for {len(wanted)} symbols"
        )
    return said


def _is_elf(path: Path) -> bool:
    with path.open("rb") as f:
        return f.read(4) == b"\x7fELF"
