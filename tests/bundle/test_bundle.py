"""The tarball from ``make bundle``, unpacked and installed by its ``install.sh`` into a
throwaway home, then used with a bare environment (no venv, no source tree, no Python on
PATH): the command line, the app offscreen with a fresh data folder (the Welcome space
and its media, a clean end on SIGTERM), the local provider's image, sound and MP4, every
shared library resolving, and ``uninstall.sh``. Marked ``bundle``: ``make bundle-test``."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import tarfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

import studio
from tests.bundle.helpers import ROOT, WINDOW_SHOWN, clean_env, start_app, stop, wait_for_log

pytestmark = pytest.mark.bundle

APP_ID = "io.forgestudio.ForgeStudio"
TARBALL = ROOT / "dist" / f"forge-studio-{studio.__version__}-linux-x86_64.tar.gz"
ICON_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
# what a Wayland session itself provides (the Wayland platform plugin links them; the
# build machine had no Wayland, so PyInstaller could not and should not bundle them)
DESKTOP_LIBS = re.compile(r"libwayland-(client|cursor|egl)\.so\.\d+$")


@dataclass(frozen=True)
class Installed:
    home: Path  # the user's home (HOME)
    opt: Path  # ~/.local/opt/forge-studio
    bin: Path  # ~/.local/bin
    data: Path  # ~/.local/share
    unpacked: Path

    @property
    def studio(self) -> Path:
        return self.bin / "studio"

    def env(self, **extra: str) -> dict[str, str]:
        env = clean_env(self.home, **extra)
        env["PATH"] = f"{self.bin}:{env['PATH']}"
        return env

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["studio", *args],
            env=self.env(),
            cwd=self.home,
            capture_output=True,
            text=True,
            timeout=timeout,
        )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    if not TARBALL.is_file():
        pytest.fail(f"{TARBALL} is missing: run `make bundle` first")
    base = tmp_path_factory.mktemp("bundle")
    with tarfile.open(TARBALL) as tar:
        tar.extractall(base, filter="tar")
    (unpacked,) = base.iterdir()
    home = base / "home"
    home.mkdir()
    done = subprocess.run(
        ["sh", str(unpacked / "install.sh")],
        env=clean_env(home),
        cwd=home,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert "Forge Studio is installed in" in done.stdout
    shutil.rmtree(unpacked / "app")  # the installed copy stands on its own
    yield Installed(
        home,
        home / ".local" / "opt" / "forge-studio",
        home / ".local" / "bin",
        home / ".local" / "share",
        unpacked,
    )


def test_the_installer_puts_the_app_entry_icons_and_types_in_place(installed: Installed) -> None:
    opt, data = installed.opt, installed.data
    assert installed.studio.resolve() == (opt / "studio").resolve()
    desktop = data / "applications" / f"{APP_ID}.desktop"
    text = desktop.read_text()
    assert f'Exec="{opt}/studio" open %u' in text
    assert f"TryExec={opt}/studio" in text
    done = subprocess.run(["desktop-file-validate", str(desktop)], capture_output=True, text=True)
    assert (done.returncode, done.stdout) == (0, "")
    for n in ICON_SIZES:
        png = data / "icons" / "hicolor" / f"{n}x{n}" / "apps" / "forge-studio.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert png.read_bytes()[16:24] == n.to_bytes(4, "big") * 2  # IHDR width, height
    assert (data / "icons" / "hicolor" / "scalable" / "apps" / "forge-studio.svg").is_file()
    assert (data / "metainfo" / f"{APP_ID}.metainfo.xml").is_file()
    # the caches the desktop reads: the file type, and the app as handler of both
    assert "application/x-forgespace:*.forgespace" in (data / "mime" / "globs2").read_text()
    handlers = (data / "applications" / "mimeinfo.cache").read_text()
    assert f"application/x-forgespace={APP_ID}.desktop;" in handlers
    assert f"x-scheme-handler/forge+wss={APP_ID}.desktop;" in handlers


def test_the_command_line_works_from_the_installed_bundle(installed: Installed) -> None:
    version = installed.run("--version")
    assert version.returncode == 0, version.stderr
    assert re.fullmatch(
        rf"Forge Studio {re.escape(studio.__version__)} \(bundle\) \(Python 3\.11\.\d+, "
        r"PySide6 6\.\d+\.\d+, Qt 6\.\d+\.\d+\)\n",
        version.stdout,
    )
    helped = installed.run("--help")
    assert helped.returncode == 0 and helped.stdout.startswith("usage: studio")
    home = installed.home / "cli-data"
    assert installed.run("--home", str(home), "space", "create", "Props").stdout == "props\n"
    listed = installed.run("--home", str(home), "space", "list", "--json")
    assert [s["slug"] for s in json.loads(listed.stdout)] == ["props"]


def _variants(installed: Installed, home: Path, space: str) -> list[dict[str, object]]:
    done = installed.run("--home", str(home), "assets", space, "--json")
    assert done.returncode == 0, done.stderr
    out = []
    for asset in json.loads(done.stdout):
        shown = installed.run(
            "--home", str(home), "show", space, str(asset["active_variant_id"]), "--json"
        )
        out.append(json.loads(shown.stdout))
    return out


def test_the_app_makes_the_welcome_space_and_ends_on_sigterm(installed: Installed) -> None:
    home = installed.home / "app-data"
    app = start_app(["studio"], home, installed.env(), installed.home)
    try:
        wait_for_log(app, WINDOW_SHOWN, timeout=120)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:
            variants = _variants(installed, home, "welcome")
            if len(variants) == 6 and all(v["status"] == "completed" for v in variants):
                break
            assert not any(v["status"] == "failed" for v in variants), variants
            time.sleep(1)
        else:
            raise AssertionError(f"the Welcome space was not filled in time: {variants}")
    finally:
        code = stop(app)
    assert code == 0, (installed.home / "app-data-app.out").read_text()
    mimes = sorted(str(v["mime"]) for v in variants)
    assert mimes.count("image/png") + mimes.count("image/webp") == 3, mimes
    assert sum(m.startswith("audio/") for m in mimes) == 2 and "video/mp4" in mimes
    for v in variants:
        assert (home / "media" / "welcome" / str(v["media_path"])).stat().st_size > 0


@pytest.mark.parametrize(
    ("kind", "suffix"), [("image", ".png"), ("audio", ".wav"), ("video", ".mp4")]
)
def test_the_bundled_local_provider_generates(installed: Installed, kind: str, suffix: str) -> None:
    import av

    home = installed.home / f"gen-{kind}"
    installed.run("--home", str(home), "space", "create", "Gen")
    done = installed.run(
        "--home", str(home), "generate", "gen", f"a little {kind}", "--kind", kind,
        "--provider", "local", "--wait", "--json", timeout=240,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    (variant,) = json.loads(done.stdout)["variants"]
    assert variant["status"] == "completed", variant
    shown = json.loads(
        installed.run("--home", str(home), "show", "gen", variant["id"], "--json").stdout
    )
    media = home / "media" / "gen" / shown["media_path"]
    assert media.suffix == suffix
    with av.open(str(media)) as container:  # a real file of its kind, read by PyAV here
        if kind == "video":
            assert container.streams.video and container.streams.video[0].codec_context.name
            assert container.format.name.startswith("mov")
        elif kind == "audio":
            assert container.streams.audio
        else:
            assert container.streams.video  # an image is one video frame to FFmpeg


def _write_clip(path: Path, video: bool) -> None:
    """One second of H.264 + AAC (an MP4) or of a tone (a WAV), written with PyAV."""
    import av
    import numpy as np

    with av.open(str(path), "w") as out:
        sound = out.add_stream("aac" if video else "pcm_s16le", rate=44100, layout="mono")
        frames = out.add_stream("libx264", rate=24) if video else None
        if frames is not None:
            frames.width, frames.height, frames.pix_fmt = 160, 96, "yuv420p"
            for i in range(24):
                pixels = np.full((96, 160, 3), (i * 10) % 256, dtype=np.uint8)
                out.mux(frames.encode(av.VideoFrame.from_ndarray(pixels, format="rgb24")))
            out.mux(frames.encode(None))
        tone = (np.sin(np.arange(44100) * 2 * np.pi * 440 / 44100) * 8000).astype(np.int16)
        chunk = av.AudioFrame.from_ndarray(tone.reshape(1, -1), format="s16", layout="mono")
        chunk.sample_rate = 44100
        out.mux(sound.encode(chunk))
        out.mux(sound.encode(None))


@pytest.mark.parametrize(("name", "video"), [("clip.mp4", True), ("tone.wav", False)])
def test_the_bundled_qt_multimedia_plays_sound_and_video(
    installed: Installed, name: str, video: bool
) -> None:
    """Qt Multimedia's FFmpeg plugin in the bundle decodes and plays, as the app's player
    does (``studio --check-playback``: packaging/launch.py), offscreen and muted."""
    clip = installed.home / name
    _write_clip(clip, video)
    done = installed.run("--check-playback", str(clip))
    assert done.returncode == 0, done.stdout + done.stderr[-3000:]
    (line,) = [x for x in done.stdout.splitlines() if x.startswith("playback: ")]
    played = re.search(r"(\d+) video frames, (\d+) ms of (\d+) ms, status (\w+)", line)
    assert played is not None, line
    n_frames, reached, duration, status = played.groups()
    assert status == "EndOfMedia" and int(reached) >= 0.9 * int(duration) > 0, line
    assert (int(n_frames) >= 20) if video else (n_frames == "0"), line
    assert "Using Qt multimedia with FFmpeg" in done.stderr  # Qt's own FFmpeg backend


def test_every_shared_library_in_the_bundle_resolves(installed: Installed) -> None:
    internal = installed.opt / "_internal"
    missing = {}
    for so in sorted(internal.rglob("*.so*")):
        if so.is_symlink() or not so.is_file():
            continue
        done = subprocess.run(
            ["ldd", str(so)],
            env={"LD_LIBRARY_PATH": str(internal), "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            timeout=60,
        )
        lost = [
            name
            for line in done.stdout.splitlines()
            if "not found" in line and not DESKTOP_LIBS.match(name := line.split()[0])
        ]
        if done.returncode != 0:  # the library itself does not load (a broken strip did that)
            lost.append(
                f"ldd: {done.returncode} {done.stdout.strip()[:80]} {done.stderr.strip()[:200]}"
            )
        if lost:
            missing[str(so.relative_to(internal))] = lost
    assert missing == {}
    plugins = internal / "PySide6" / "Qt" / "plugins"
    assert (plugins / "multimedia" / "libffmpegmediaplugin.so").is_file()
    for platform in ("libqxcb.so", "libqwayland.so", "libqoffscreen.so"):
        assert (plugins / "platforms" / platform).is_file()
    assert not (plugins / "platforms" / "libqeglfs.so").exists()
    assert not list(internal.rglob("*.qm"))  # no translations
    assert not list(internal.rglob("*.qml"))


def _pids_below(root: int) -> dict[int, tuple[int, str]]:
    """Every process under ``root``: pid -> (its depth below root, its program)."""
    parent: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:  # ended meanwhile
                continue
            parent[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    below: dict[int, tuple[int, str]] = {}
    for pid in parent:
        depth, up = 0, pid
        while up in parent and up != root and depth < 8:
            depth, up = depth + 1, parent[up]
        if up == root and depth:
            try:
                below[pid] = (depth, os.readlink(f"/proc/{pid}/exe"))
            except OSError:
                continue
    return below


def test_the_bundled_import_prepares_files_in_a_pool_of_bundled_workers(
    installed: Installed,
) -> None:
    """The bundle's import pool (a fork server of the bundled program, its workers forked
    from it) really runs: more than one worker process prepares the files, each is the
    installed program itself, and every file is imported."""
    import numpy as np
    from PIL import Image

    from studio.media.pool import POOL_MIN_FILES, usable_cores

    if usable_cores() < 2:
        pytest.skip("one core: the importer prepares files in its own process")
    home = installed.home / "pool-data"
    pictures = installed.home / "pictures"
    pictures.mkdir()
    rng = np.random.default_rng(17)
    n = max(8, POOL_MIN_FILES)
    for i in range(n):  # noise: slow to hash, decode and thumbnail, so the pool is seen
        pixels = rng.integers(0, 256, (1400, 1400, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(pictures / f"noise-{i}.png", compress_level=1)
    assert installed.run("--home", str(home), "space", "create", "Pool").returncode == 0
    proc = subprocess.Popen(
        ["studio", "--home", str(home), "import", "pool", *map(str, sorted(pictures.iterdir()))],
        env=installed.env(),
        cwd=installed.home,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: dict[int, tuple[int, str]] = {}
    deadline = time.monotonic() + 240
    while proc.poll() is None and time.monotonic() < deadline:
        seen.update(_pids_below(proc.pid))
        time.sleep(0.02)
    if proc.poll() is None:
        proc.kill()
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert len(out.splitlines()) == n, out  # one line per imported file
    assert err == ""
    program = str((installed.opt / "studio").resolve())
    # the fork server (and multiprocessing's resource tracker) one level down, the
    # workers forked from the fork server one further: the installed program itself
    # (anything else seen is a helper some library ran, e.g. ctypes asking gcc for a path)
    servers = [pid for pid, (depth, exe) in seen.items() if depth == 1 and exe == program]
    workers = [pid for pid, (depth, exe) in seen.items() if depth == 2 and exe == program]
    assert servers and len(workers) >= 2, seen
    done = installed.run("--home", str(home), "assets", "pool", "--json")
    assert len(json.loads(done.stdout)) == n


def test_uninstall_removes_everything_but_the_data(installed: Installed) -> None:
    data_folder = installed.home / "cli-data"
    listed = (installed.opt / ".installed-files").read_text().splitlines()
    done = subprocess.run(
        ["sh", str(installed.opt / "uninstall.sh")],
        env=installed.env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert not installed.opt.exists()
    assert [p for p in listed if Path(p).exists() or Path(p).is_symlink()] == []
    assert not (installed.data / "applications" / f"{APP_ID}.desktop").exists()
    assert "forgespace" not in (installed.data / "mime" / "globs2").read_text()
    if data_folder.exists():  # made by the command-line test
        assert (data_folder / "library.db").is_file()
