"""The desktop entry, the AppStream metainfo and the MIME type in ``packaging/`` pass the
freedesktop validators (``desktop-file-validate``, ``appstreamcli validate --no-net``:
``make bundle-tools`` installs them) and agree with the app."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

import studio
from studio.store.archive_manifest import SUFFIX
from studio.sync.wire import SCHEME
from tests.bundle.helpers import ROOT

PACKAGING = ROOT / "packaging"
APP_ID = "io.forgestudio.ForgeStudio"
DESKTOP = PACKAGING / f"{APP_ID}.desktop"
METAINFO = PACKAGING / f"{APP_ID}.metainfo.xml"
MIME = PACKAGING / "forge-studio-mime.xml"
MIME_NS = "{http://www.freedesktop.org/standards/shared-mime-info}"


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        pytest.skip(f"{name} is not installed (make bundle-tools)")
    return path


def test_the_desktop_entry_validates_without_a_remark() -> None:
    done = subprocess.run(
        [_tool("desktop-file-validate"), str(DESKTOP)], capture_output=True, text=True, timeout=60
    )
    assert (done.returncode, done.stdout + done.stderr) == (0, "")


def test_the_metainfo_validates_with_no_error_or_warning() -> None:
    done = subprocess.run(
        [_tool("appstreamcli"), "validate", "--no-net", str(METAINFO)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    assert "Validation was successful" in out
    remarks = [line for line in out.splitlines() if line[:2] in ("E:", "W:", "I:")]
    assert remarks == []


def test_the_metainfo_says_what_the_issue_asks() -> None:
    root = ET.parse(METAINFO).getroot()
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name  # type: ignore[union-attr]
    assert (root.findtext("developer_name") or "").strip()
    assert root.find("content_rating").get("type") == "oars-1.1"  # type: ignore[union-attr]
    releases = root.findall("releases/release")
    assert releases and releases[0].get("version") == studio.__version__
    images = [i.text or "" for i in root.findall("screenshots/screenshot/image")]
    assert len(images) >= 1
    for url in images:  # the README's images
        assert url.startswith("https://")
        assert (ROOT / "docs" / Path(url).name).is_file(), url
        assert f"docs/{Path(url).name}" in (ROOT / "README.md").read_text()


def test_the_desktop_entry_opens_archives_and_invite_links() -> None:
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str  # type: ignore[assignment, method-assign]
    entry.read(DESKTOP)
    d = entry["Desktop Entry"]
    assert d["Exec"] == "studio open %u"
    assert d["Icon"] == "forge-studio"
    mime = [m for m in d["MimeType"].split(";") if m]
    assert mime == ["application/x-forgespace", f"x-scheme-handler/{SCHEME}"]


def test_the_mime_type_names_the_archive_suffix_and_installs(tmp_path: Path) -> None:
    root = ET.parse(MIME).getroot()
    (kind,) = root.findall(f"{MIME_NS}mime-type")
    assert kind.get("type") == "application/x-forgespace"
    assert [g.get("pattern") for g in kind.findall(f"{MIME_NS}glob")] == [f"*{SUFFIX}"]
    packages = tmp_path / "mime" / "packages"
    packages.mkdir(parents=True)
    shutil.copyfile(MIME, packages / "forge-studio.xml")
    done = subprocess.run(
        [_tool("update-mime-database"), str(tmp_path / "mime")],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert f"application/x-forgespace:*{SUFFIX}" in (tmp_path / "mime" / "globs2").read_text()
