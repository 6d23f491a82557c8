"""Make the tarball from the PyInstaller folder (``make bundle`` runs it after the build):

    dist/forge-studio-<version>-linux-x86_64/
        app/             the one-folder bundle (dist/bundle/forge-studio)
        share/           desktop entry, icons, MIME type, metainfo (packaging/)
        install.sh  uninstall.sh  README.txt
    dist/forge-studio-<version>-linux-x86_64.tar.gz

and print the sizes.

    python packaging/make_dist.py
"""

from __future__ import annotations

import os
import shutil
import sys
import tarfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGING = ROOT / "packaging"
APP_ID = "io.forgestudio.ForgeStudio"

README = """Forge Studio {version} for Linux (x86_64)

Install for this user:   ./install.sh
Remove again:            ~/.local/opt/forge-studio/uninstall.sh
Run without installing:  ./app/studio

The app goes to ~/.local/opt/forge-studio, the `studio` command to ~/.local/bin, the
desktop entry, icons and file types under ~/.local/share. Needs glibc 2.36+ (Debian 12,
Ubuntu 24.04 or newer) and an X11 or Wayland desktop.
"""


def folder_size(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() or p.is_symlink())


def mb(n: int) -> str:
    return f"{n / 1_000_000:.0f} MB"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from render_icons import render  # packaging/ is this script's folder

    import studio

    version = studio.__version__
    bundle = ROOT / "dist" / "bundle" / "forge-studio"
    if not (bundle / "studio").is_file():
        print(
            f"make_dist: {bundle}/studio is missing: run the PyInstaller step first",
            file=sys.stderr,
        )
        return 1
    name = f"forge-studio-{version}-linux-x86_64"
    stage = ROOT / "dist" / name
    if stage.exists():
        shutil.rmtree(stage)
    share = stage / "share"
    shutil.copytree(bundle, stage / "app", symlinks=True)
    (share / "applications").mkdir(parents=True)
    shutil.copyfile(PACKAGING / f"{APP_ID}.desktop", share / "applications" / f"{APP_ID}.desktop")
    (share / "metainfo").mkdir()
    shutil.copyfile(
        PACKAGING / f"{APP_ID}.metainfo.xml", share / "metainfo" / f"{APP_ID}.metainfo.xml"
    )
    (share / "mime" / "packages").mkdir(parents=True)
    shutil.copyfile(
        PACKAGING / "forge-studio-mime.xml", share / "mime" / "packages" / "forge-studio.xml"
    )
    render(share / "icons")
    for script in ("install.sh", "uninstall.sh"):
        shutil.copyfile(PACKAGING / script, stage / script)
        os.chmod(stage / script, 0o755)
    (stage / "README.txt").write_text(README.format(version=version), encoding="utf-8")

    tarball = ROOT / "dist" / f"{name}.tar.gz"
    with tarfile.open(tarball, "w:gz", compresslevel=6) as tar:
        tar.add(stage, arcname=name)
    print(f"bundle: {bundle} — {mb(folder_size(bundle))} unpacked")
    print(f"tarball: {tarball} — {mb(tarball.stat().st_size)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
