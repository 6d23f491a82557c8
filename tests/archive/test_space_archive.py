"""``.forgespace`` archives: export → import round trip, and every hostile archive
refused with nothing written."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
import struct
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from studio.cli.main import main
from studio.core import commands as c
from studio.core.archive import export_space, import_space
from studio.core.check import check_space
from studio.core.imports import import_files
from studio.core.protocol import PROTOCOL_VERSION
from studio.core.space import Space
from studio.core.studio import Studio
from studio.store.archive import FORMAT_VERSION, ArchiveError
from tests.conftest import OWNER, add_variant
from tests.core.tables import tables
from tests.sql import query


def _png(path: Path, color: tuple[int, int, int], size: tuple[int, int] = (48, 32)) -> Path:
    Image.new("RGB", size, color).save(path)
    return path


def _wav(path: Path) -> Path:
    import wave

    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * 4000)
    return path


def fill(space: Space, tmp: Path) -> None:
    """A space with a bit of everything: imported images and audio (with previews), a
    fork (lineage, a shared file), a collection, a frame, a style, a deleted asset."""
    report = import_files(
        space,
        [
            _png(tmp / "red.png", (200, 0, 0)),
            _png(tmp / "blue.png", (0, 0, 200)),
            _wav(tmp / "a.wav"),
        ],
        OWNER,
    )
    assert not report.refused
    first = report.imported[0]
    forked = space.apply(c.ForkVariant(first.variant_id, name="Red copy"), OWNER)
    space.apply(c.StarVariant(first.variant_id, True), OWNER)
    col = space.apply(c.CreateCollection("Cast"), OWNER).created["collection_id"]
    space.apply(c.AddCollectionItem(col, asset_id=first.asset_id), OWNER)
    space.apply(c.AddCollectionItem(col, variant_id=forked.created["variant_id"]), OWNER)
    space.apply(c.CreateFrame("Act 1", 0, 0, 400, 300), OWNER)
    space.apply(c.CreateStylePreset("Ink", prompt="ink wash", collection_id=col), OWNER)
    gone = add_variant(space, name="Gone", payload=b"soon deleted")
    space.apply(c.DeleteAsset(gone.asset_id), OWNER)


def home_state(studio: Studio) -> tuple[list[str], list[Any]]:
    """Every file and folder under the data folder that an import could leave, and the
    library's list of spaces."""
    found: list[str] = []
    for folder in (studio.paths.spaces_dir, studio.paths.media_root):
        for dirpath, dirnames, filenames in os.walk(folder):
            for name in dirnames + filenames:
                rel = os.path.relpath(os.path.join(dirpath, name), studio.paths.home)
                if not rel.endswith(("-wal", "-shm", ".lock")) and ".holders" not in rel:
                    found.append(rel)
    return sorted(found), sorted(studio.spaces())


def media_by_path(space: Space) -> dict[str, str]:
    out = {}
    for rel in {
        p
        for row in query(space, "SELECT media_path, thumb_path, poster_path FROM variants")
        for p in row
        if p
    }:
        out[rel] = hashlib.sha256((space.media_dir / rel).read_bytes()).hexdigest()
    return out


@pytest.fixture
def source(studio: Studio, tmp_path: Path) -> str:
    entry = studio.create_space("Source Art")
    with studio.open_space(entry.slug) as sp:
        fill(sp, tmp_path)
    return entry.slug


@pytest.fixture
def archive(studio: Studio, source: str, tmp_path: Path) -> Path:
    return export_space(studio, source, tmp_path / "source.forgespace").path


def test_round_trip_equals_the_source(studio: Studio, source: str, archive: Path) -> None:
    seen: list[tuple[int, int]] = []
    result = import_space(studio, archive, progress=lambda d, t: seen.append((d, t)))
    assert result.entry.slug == "source-art-2" and result.entry.name == "Source Art"
    assert seen and seen[-1][0] == seen[-1][1] == result.manifest.database_size + sum(
        {f.sha256: f.size for f in result.manifest.files}.values()
    )
    with studio.open_space(source) as a, studio.open_space(result.entry.slug) as b:
        before, after = tables(a), tables(b)
        assert after.pop("meta") != before.pop("meta")  # the new identity
        assert before == after  # every other table, row by row, column by column
        assert {k: v for k, v in tables(b)["meta"].items() if k not in ("space_id", "slug")} == {
            k: v for k, v in tables(a)["meta"].items() if k not in ("space_id", "slug")
        }
        assert [ch.payload for ch in b.changes()] == [ch.payload for ch in a.changes()]
        files = media_by_path(a)
        assert len(files) >= 8 and media_by_path(b) == files
        report = check_space(b)
        assert report.ok, report.problems
        assert not report.warnings
        assert b.id == result.entry.id != a.id


def test_same_archive_twice_makes_two_spaces(studio: Studio, archive: Path) -> None:
    one = import_space(studio, archive).entry
    two = import_space(studio, archive, name="Second copy").entry
    assert one.id != two.id and (one.slug, two.slug) == ("source-art-2", "second-copy")
    assert len(studio.spaces()) == 3


def test_manifest_records_versions_counts_and_checksums(archive: Path, source: str) -> None:
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        manifest = json.loads(zf.read("manifest.json"))
        assert all(i.compress_type == zipfile.ZIP_STORED for i in zf.infolist())
        for f in manifest["files"]:
            assert hashlib.sha256(zf.read("media/" + f["sha256"])).hexdigest() == f["sha256"]
        db = zf.read("space.db")
    assert names[0] == "space.db" and names[-1] == "manifest.json"
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["protocol_version"] == PROTOCOL_VERSION
    assert manifest["space"]["slug"] == source
    assert manifest["counts"]["assets"] == 5 and manifest["counts"]["lineage"] == 1
    assert hashlib.sha256(db).hexdigest() == manifest["database"]["sha256"]
    # the fork shares its original's bytes: stored once
    shas = [f["sha256"] for f in manifest["files"]]
    assert len(set(shas)) < len(shas) == len(manifest["files"])
    assert len(names) == 2 + len(set(shas))


def test_export_never_overwrites(studio: Studio, source: str, archive: Path) -> None:
    before = archive.read_bytes()
    with pytest.raises(ArchiveError, match="already exists"):
        export_space(studio, source, archive)
    assert archive.read_bytes() == before


def test_export_to_folder_and_default_place(studio: Studio, source: str, tmp_path: Path) -> None:
    out = export_space(studio, source, tmp_path).path
    assert out.parent == tmp_path and out.name.startswith(source) and out.suffix == ".forgespace"
    default = export_space(studio, source).path
    assert default.parent == studio.paths.exports_dir


def test_export_refuses_a_damaged_media_file(studio: Studio, source: str, tmp_path: Path) -> None:
    with studio.open_space(source) as sp:
        rel = query(sp, "SELECT media_path FROM variants WHERE media_path LIKE '%.png'")[0][0]
        path = sp.media_dir / rel
    path.write_bytes(path.read_bytes()[:-1] + b"\x00")
    with pytest.raises(ArchiveError, match="does not match its SHA-256"):
        export_space(studio, source, tmp_path / "x.forgespace")
    assert not list(tmp_path.glob("*forgespace*"))


def test_cli_export_import(studio: Studio, source: str, tmp_path: Path, capsys: Any) -> None:
    home = str(studio.paths.home)
    out = tmp_path / "cli.forgespace"
    assert main(["--home", home, "space", "export", source, str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["counts"]["variants"] == 5
    assert main(["--home", home, "space", "import", str(out), "--name", "From CLI"]) == 0
    assert capsys.readouterr().out.strip() == "from-cli"
    assert main(["--home", home, "check", "from-cli"]) == 0
    capsys.readouterr()
    out.write_bytes(out.read_bytes()[:1000])
    assert main(["--home", home, "space", "import", str(out)]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "truncated" in err


# --------------------------------------------------------------------------- hostile

Entries = list[tuple[zipfile.ZipInfo, bytes]]


def rewrite(
    good: Path,
    dest: Path,
    *,
    manifest: Callable[[dict[str, Any]], None] | None = None,
    entries: Callable[[Entries], Entries] | None = None,
) -> Path:
    with zipfile.ZipFile(good) as zf:
        items: Entries = [(i, zf.read(i)) for i in zf.infolist()]
    if manifest is not None:
        for n, (info, data) in enumerate(items):
            if info.filename == "manifest.json":
                obj = json.loads(data)
                manifest(obj)
                items[n] = (info, json.dumps(obj).encode())
    if entries is not None:
        items = entries(items)
    with zipfile.ZipFile(dest, "w") as out:
        for info, data in items:
            out.writestr(info, data)
    return dest


def _add(
    name: str, data: bytes = b"x", mode: int = stat.S_IFREG | 0o644
) -> Callable[[Entries], Entries]:
    def go(items: Entries) -> Entries:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        return [*items, (info, data)]

    return go


def _rename_blob(items: Entries) -> Entries:
    """The manifest and the entry name agree on a checksum the bytes do not have."""
    manifest = json.loads(next(d for i, d in items if i.filename == "manifest.json"))
    victim = manifest["files"][0]["sha256"]
    liar = "0" * 64
    for f in manifest["files"]:
        if f["sha256"] == victim:
            f["sha256"] = liar
    out: Entries = []
    for info, data in items:
        if info.filename == "media/" + victim:
            info = zipfile.ZipInfo("media/" + liar)
        elif info.filename == "manifest.json":
            data = json.dumps(manifest).encode()
        out.append((info, data))
    return out


def _with_bomb_manifest(good: Path, dest: Path) -> Path:
    """A media entry replaced by 40 MiB of zeros, deflated (~40 KiB); the manifest made
    to agree with it, so only the ratio gives it away."""
    zeros = b"\x00" * (40 * 2**20)
    zsha = hashlib.sha256(zeros).hexdigest()
    with zipfile.ZipFile(good) as zf:
        manifest = json.loads(zf.read("manifest.json"))
    victim = manifest["files"][0]["sha256"]
    for f in manifest["files"]:
        if f["sha256"] == victim:
            f.update(sha256=zsha, size=len(zeros))

    def entries(items: Entries) -> Entries:
        out: Entries = []
        for info, data in items:
            if info.filename == "manifest.json":
                data = json.dumps(manifest).encode()
            elif info.filename == "media/" + victim:
                info = zipfile.ZipInfo("media/" + zsha)
                info.compress_type = zipfile.ZIP_DEFLATED
                data = zeros
            out.append((info, data))
        return out

    return rewrite(good, dest, entries=entries)


def _truncate(good: Path, dest: Path) -> Path:
    data = good.read_bytes()
    dest.write_bytes(data[: len(data) * 2 // 3])
    return dest


def _trigger_db(good: Path, dest: Path, tmp: Path) -> Path:
    """A space file carrying a trigger (code that would run on a later write); the
    manifest updated to match, so only the schema check can catch it."""
    with zipfile.ZipFile(good) as zf:
        (tmp / "t.db").write_bytes(zf.read("space.db"))
    conn = sqlite3.connect(tmp / "t.db")
    conn.execute("CREATE TRIGGER evil AFTER UPDATE ON assets BEGIN DELETE FROM variants; END")
    conn.commit()
    conn.close()
    db = (tmp / "t.db").read_bytes()

    def fix(m: dict[str, Any]) -> None:
        m["database"].update(sha256=hashlib.sha256(db).hexdigest(), size=len(db))

    def swap(items: Entries) -> Entries:
        return [(i, db if i.filename == "space.db" else d) for i, d in items]

    return rewrite(good, dest, manifest=fix, entries=swap)


def _foreign_db(good: Path, dest: Path, tmp: Path) -> Path:
    """Another program's SQLite file in place of the space file (manifest agreeing)."""
    conn = sqlite3.connect(tmp / "f.db")
    conn.execute("CREATE TABLE notes (x)")
    conn.commit()
    conn.close()
    db = (tmp / "f.db").read_bytes()

    def fix(m: dict[str, Any]) -> None:
        m["database"].update(sha256=hashlib.sha256(db).hexdigest(), size=len(db))

    def swap(items: Entries) -> Entries:
        return [(i, db if i.filename == "space.db" else d) for i, d in items]

    return rewrite(good, dest, manifest=fix, entries=swap)


def _overlapping(good: Path, dest: Path, tmp: Path) -> Path:
    """The second media entry's directory record points at the first one's local entry
    (how overlap bombs reuse one body for many entries)."""
    raw = bytearray(good.read_bytes())
    records = [i for i in range(len(raw)) if raw[i : i + 4] == b"PK\x01\x02"]
    offsets = []
    for at in records:
        name_len = struct.unpack("<H", raw[at + 28 : at + 30])[0]
        name = bytes(raw[at + 46 : at + 46 + name_len])
        if name.startswith(b"media/"):
            offsets.append(at)
    first = struct.unpack("<I", raw[offsets[0] + 42 : offsets[0] + 46])[0]
    raw[offsets[1] + 42 : offsets[1] + 46] = struct.pack("<I", first)
    dest.write_bytes(bytes(raw))
    return dest


HOSTILE: dict[str, tuple[Callable[[Path, Path, Path], Path], str]] = {
    "overlapping-entries": (_overlapping, "damaged or truncated"),
    "foreign-database": (_foreign_db, "no usable space file"),
    "zip-slip": (lambda g, d, t: rewrite(g, d, entries=_add("../escape.txt")), "zip-slip"),
    "zip-slip-deep": (
        lambda g, d, t: rewrite(g, d, entries=_add("media/../../escape")),
        "zip-slip",
    ),
    "absolute": (lambda g, d, t: rewrite(g, d, entries=_add("/tmp/escape.txt")), "absolute"),
    "windows-absolute": (
        lambda g, d, t: rewrite(g, d, entries=_add("C:\\escape.txt")),
        "absolute",
    ),
    "symlink": (
        lambda g, d, t: rewrite(
            g, d, entries=_add("media/link", b"/etc/passwd", stat.S_IFLNK | 0o777)
        ),
        "symlink",
    ),
    "unexpected-entry": (lambda g, d, t: rewrite(g, d, entries=_add("notes.txt")), "unexpected"),
    "zip-bomb": (lambda g, d, t: _with_bomb_manifest(g, d), "zip bomb"),
    "count-lie": (
        lambda g, d, t: rewrite(g, d, manifest=lambda m: m["counts"].update(assets=99)),
        "says 99 assets",
    ),
    "checksum-lie": (lambda g, d, t: rewrite(g, d, entries=_rename_blob), "checksum"),
    "database-checksum-lie": (
        lambda g, d, t: rewrite(g, d, manifest=lambda m: m["database"].update(sha256="1" * 64)),
        "checksum",
    ),
    "size-lie": (
        lambda g, d, t: rewrite(g, d, manifest=lambda m: m["files"][0].update(size=7)),
        "lies about the size",
    ),
    "path-outside-media": (
        lambda g, d, t: rewrite(g, d, manifest=lambda m: m["files"][0].update(path="../x.png")),
        "outside",
    ),
    "file-dropped-from-manifest": (
        lambda g, d, t: rewrite(g, d, manifest=lambda m: m["files"].pop()),
        "manifest",
    ),
    "newer-format": (
        lambda g, d, t: rewrite(g, d, manifest=lambda m: m.update(format_version=99)),
        "newer Forge Studio",
    ),
    "newer-schema": (
        lambda g, d, t: rewrite(g, d, manifest=lambda m: m.update(schema_version=999)),
        "newer Forge Studio",
    ),
    "truncated": (lambda g, d, t: _truncate(g, d), "truncated"),
    "not-a-zip": (lambda g, d, t: (d.write_bytes(b"PK\x03\x04" + b"\x00" * 500), d)[1], "zip"),
    "trigger-in-database": (_trigger_db, "not ours"),
    "manifest-not-json": (
        lambda g, d, t: rewrite(
            g,
            d,
            entries=lambda items: [
                (i, b"{" * 100_000 if i.filename == "manifest.json" else x) for i, x in items
            ],
        ),
        "manifest",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_refused_with_nothing_written(
    studio: Studio, archive: Path, tmp_path: Path, case: str
) -> None:
    make, message = HOSTILE[case]
    (tmp_path / "work").mkdir()
    bad = make(archive, tmp_path / f"{case}.forgespace", tmp_path / "work")
    before = home_state(studio)
    with pytest.raises(ArchiveError, match=message) as err:
        import_space(studio, bad)
    assert "\n" not in str(err.value)
    assert home_state(studio) == before
    assert not (tmp_path / "escape.txt").exists() and not Path("/tmp/escape.txt").exists()
    assert not [p for p in studio.paths.spaces_dir.iterdir() if p.name.startswith(".")]


def test_hostile_cases_pass_every_other_check(studio: Studio, archive: Path) -> None:
    """The hostile archives differ from a good one only where they are hostile: the good
    one imports (so each refusal above is for its own reason)."""
    assert import_space(studio, archive).entry.slug == "source-art-2"


def test_refused_without_room_on_disk(
    studio: Studio, archive: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.store.archive as store

    monkeypatch.setattr(store, "free_bytes", lambda folder: 1000)
    before = home_state(studio)
    with pytest.raises(ArchiveError, match="not enough free disk space"):
        import_space(studio, archive)
    assert home_state(studio) == before


def test_deflated_entries_within_limits_are_read(
    studio: Studio, archive: Path, tmp_path: Path
) -> None:
    """Another zip tool may compress: a normal ratio is fine."""
    with zipfile.ZipFile(archive) as zf:
        items = [(i.filename, zf.read(i)) for i in zf.infolist()]
    out = tmp_path / "deflated.forgespace"
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in items:
            zf.writestr(name, data)
    assert import_space(studio, out).entry.slug == "source-art-2"


def test_stale_staging_of_a_killed_import_is_cleared(studio: Studio, archive: Path) -> None:
    from studio.core.archive import STALE_WORK_S, clear_stale_work

    old = studio.paths.spaces_dir / ".import-deadbeef"
    (old / "media").mkdir(parents=True)
    (old / "space.db").write_bytes(b"half")
    fresh = studio.paths.spaces_dir / ".import-cafe"  # another process, at work right now
    fresh.mkdir()
    past = os.stat(old).st_mtime - STALE_WORK_S - 60
    os.utime(old, (past, past))
    import_space(studio, archive)
    assert not old.exists() and fresh.is_dir()
    assert clear_stale_work(studio.paths.spaces_dir) == []


def test_archive_of_a_joined_replica_imports_as_a_space_of_its_own(
    studio: Studio, source: str, tmp_path: Path
) -> None:
    """A replica's file says whose replica it is (and refuses writes through the door);
    its archive brought in as a new space is a space of its own that takes commands."""
    path = studio.paths.home / studio.resolve(source).file
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("INSERT INTO sync_state (key, value) VALUES ('replica_of', 'host-1')")
    conn.execute("INSERT INTO peer_mutations VALUES ('client-1', 'm-1', 'step-1', '{}', 1)")
    conn.close()
    archive = export_space(studio, source, tmp_path / "replica.forgespace").path
    entry = import_space(studio, archive).entry
    conn = sqlite3.connect(studio.paths.home / entry.file)
    left = conn.execute("SELECT COUNT(*) FROM peer_mutations").fetchone()[0]
    replica_of = conn.execute("SELECT value FROM sync_state WHERE key = 'replica_of'").fetchall()
    conn.close()
    assert (left, replica_of) == (0, [])
    with studio.open_space(entry.slug) as sp:
        asset = next(iter(sp.snapshot().assets))
        sp.apply(c.UpdateAsset(asset_id=asset.id, name="Mine now"), OWNER)
        assert sp.asset(asset.id).name == "Mine now"
