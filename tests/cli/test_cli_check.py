"""``studio check`` detects what external faults did to a space: orphans, previews that do
not decode, JSON that does not parse, leftover temporary files."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest
from PIL import Image

from studio.cli.main import main
from studio.core.check import check_space
from studio.core.studio import Studio
from studio.media.previews import tier_paths
from studio.providers_setup import build_providers
from tests.conftest import Made, add_variant
from tests.sql import write


def _check(home: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, object]]:
    code = main(["--home", str(home), "check", "art", "--json"])
    out, err = capsys.readouterr()
    assert err == ""
    return code, json.loads(out)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def _setup(home: Path, n: int = 2) -> tuple[Path, list[Made]]:
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Art")
        with studio.open_space("art") as sp:
            made = [add_variant(sp, name=f"Hero {i}") for i in range(n)]
            for m in made:
                rel = Path(sp.variant_detail(m.variant_id).row.media_path or "").parent
                Image.new("RGB", (32, 24), "blue").save(sp.media_dir / rel / "thumb.webp")
                write(
                    sp,
                    "UPDATE variants SET thumb_path = ? WHERE id = ?",
                    (f"{rel.as_posix()}/thumb.webp", m.variant_id),
                )
        return studio.paths.space_media("art"), made


def _raw(home: Path) -> sqlite3.Connection:
    return sqlite3.connect(home / "spaces" / "art.db", isolation_level=None)


def test_a_whole_space_checks_ok(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _setup(home)
    code, report = _check(home, capsys)
    assert (code, report["ok"], report["problems"]) == (0, True, [])
    assert report["files_checked"] == 4


def test_orphan_files_and_folders_without_rows(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media, _ = _setup(home)
    rnd = random.Random(3)
    hero = next(p for p in media.iterdir() if p.is_dir() and not p.name.startswith("."))
    variant_dir = next(p for p in hero.iterdir() if p.is_dir())
    (variant_dir / "extra.bin").write_bytes(rnd.randbytes(100))
    ghost = media / "ghost-asset" / "v-ghost"
    ghost.mkdir(parents=True)
    (ghost / "original.png").write_bytes(rnd.randbytes(50))
    (hero / "v-lost").mkdir()
    (media / "stray.txt").write_text("?")
    code, report = _check(home, capsys)
    problems = report["problems"]
    assert code == 1 and isinstance(problems, list)
    rel = variant_dir.relative_to(media).as_posix()
    assert f"media: orphan file {rel}/extra.bin (no variant points to it)" in problems
    assert "media: folder ghost-asset has no asset or variant row" in problems
    assert f"media: folder {hero.name}/v-lost has no asset or variant row" in problems
    assert "media: orphan file stray.txt (no variant points to it)" in problems
    assert len(problems) == 4  # the ghost folder's content is not reported twice


def test_rows_lost_to_an_older_copy_leave_detectable_orphans(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Art")
    db = home / "spaces" / "art.db"
    old = db.read_bytes()
    _setup_more(home)
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    db.write_bytes(old)  # an external fault: the file went back in time
    code, report = _check(home, capsys)
    assert code == 1
    assert any("has no asset or variant row" in p for p in report["problems"])  # type: ignore[attr-defined]


def _setup_more(home: Path) -> tuple[Path, list[Made]]:
    with Studio(home, providers=build_providers) as studio, studio.open_space("art") as sp:
        return sp.media_dir, [add_variant(sp, name="Later")]


@pytest.mark.parametrize("damage", ["random", "truncated", "wrong-format", "empty"])
def test_previews_that_do_not_decode(
    home: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    media, made = _setup(home)
    rnd = random.Random(damage)
    with _raw(home) as conn:
        (thumb,) = conn.execute(
            "SELECT thumb_path FROM variants WHERE id = ?", (made[0].variant_id,)
        ).fetchone()
    path = media / thumb
    whole = path.read_bytes()
    if damage == "random":
        path.write_bytes(rnd.randbytes(2000))
    elif damage == "truncated":
        path.write_bytes(whole[: len(whole) // 2])
    elif damage == "wrong-format":
        import io

        buf = io.BytesIO()
        Image.new("RGB", (8, 8)).save(buf, "GIF")
        path.write_bytes(buf.getvalue())
    else:
        path.write_bytes(b"")
    code, report = _check(home, capsys)
    problems = report["problems"]
    assert code == 1 and isinstance(problems, list) and len(problems) == 1
    assert problems[0].startswith(f"variant {made[0].variant_id}: preview {thumb} does not decode")


BAD_JSON = [b"{", b"[1, 2", b"\xff\xfe{}", b"nul", b'{"a": }']


def test_json_columns_that_do_not_parse(home: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, made = _setup(home)
    rnd = random.Random(5)
    conn = _raw(home)
    targets = [
        ("variants", "recipe", "id", made[0].variant_id),
        ("variants", "generation_provenance", "id", made[1].variant_id),
        ("variants", "provider_metadata", "id", made[0].variant_id),
        ("assets", "tags", "id", made[1].asset_id),
        ("changes", "payload", "seq", 1),
        ("changes", "events", "seq", 2),
    ]
    for table, column, key, ident in targets:
        conn.execute(
            f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE {key} = ?",
            (rnd.choice(BAD_JSON), ident),
        )
    conn.close()
    code, report = _check(home, capsys)
    problems = report["problems"]
    assert code == 1 and isinstance(problems, list)
    for table, column, _key, ident in targets:
        assert any(
            p.startswith(f"database: {table} {ident}: {column} is not valid JSON") for p in problems
        ), (table, column)
    assert len(problems) == len(targets)


def test_leftover_temporary_files_are_warnings(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media, _ = _setup(home)
    hero = next(p for p in media.iterdir() if p.is_dir() and not p.name.startswith("."))
    variant_dir = next(p for p in hero.iterdir() if p.is_dir())
    (variant_dir / ".original.png.0123abcd.tmp").write_bytes(b"half")
    code, report = _check(home, capsys)
    assert code == 0 and report["problems"] == []
    rel = variant_dir.relative_to(media).as_posix()
    assert report["warnings"] == [
        f"media: leftover temporary file {rel}/.original.png.0123abcd.tmp"
    ]


def test_check_space_reports_a_missing_media_folder(studio: Studio) -> None:
    studio.create_space("Gone")
    with studio.open_space("gone") as sp:
        add_variant(sp)
        import shutil

        shutil.rmtree(sp.media_dir)
        report = check_space(sp)
    assert not report.ok
    assert any(p.startswith("media folder") for p in report.problems)


def test_files_and_folders_of_no_listed_space_are_warned_about(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _setup(home)
    (home / "spaces" / "ghost.db").write_bytes(b"left by a crash")
    (home / "media" / "ghost").mkdir()
    code, report = _check(home, capsys)
    assert code == 0 and report["problems"] == []
    assert report["warnings"] == [
        "spaces/ghost.db belongs to no listed space",
        "media/ghost belongs to no listed space",
    ]


def test_recovery_leaves_nothing_for_check_to_report(studio: Studio) -> None:
    """An import killed after writing its file (or half of it) but before the row named
    it: recovery fails the variant and clears its folder, and the check is clean."""
    from studio.core import commands as c
    from studio.core.imports import recover_interrupted
    from tests.conftest import OWNER

    studio.create_space("Crash")
    with studio.open_space("crash") as sp:
        keep = add_variant(sp, name="Whole")
        importer = studio.open_space("crash")  # another holder, which then goes away
        for n in range(2):
            begun = importer.apply(
                c.BeginUpload(c.MediaKindName.IMAGE, original_name=f"p{n}.png", name=f"P{n}"),
                OWNER,
            )
            vid = begun.created["variant_id"]
            folder = sp.media_dir / sp.asset(begun.created["asset_id"]).slug / vid
            folder.mkdir(parents=True)
            (folder / f".original.png.{n:012x}.tmp").write_bytes(b"half")
            if n:
                (folder / "original.png").write_bytes(b"whole, never recorded")
        assert recover_interrupted(sp) == 0  # its owner is alive: not interrupted
        importer.close()
        assert recover_interrupted(sp) == 2
        report = check_space(sp)
        assert (report.problems, report.warnings) == ([], [])
        assert sp.variant_detail(keep.variant_id).row.status == "completed"


def test_a_damaged_data_page_is_a_problem_not_a_crash(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Art")
        with studio.open_space("art") as sp:
            for i in range(60):
                add_variant(sp, name=f"Hero number {i:03d}")
    db = home / "spaces" / "art.db"
    data = bytearray(db.read_bytes())
    page_size = int.from_bytes(data[16:18], "big")
    at = data.index(b"Hero number 030")
    page = at - at % page_size
    for off in range(page + 3, page + 8):  # cell count and content offset of that page
        data[off] = 0xFF
    db.write_bytes(bytes(data))
    code = main(["--home", str(home), "check", "art"])
    out, err = capsys.readouterr()
    assert code == 1
    assert "Traceback" not in err
    problems = [line for line in out.splitlines() if line.startswith("problem: database")]
    assert problems, out + err


def test_debris_in_a_failed_variants_folder_is_a_warning(studio: Studio) -> None:
    from studio.core import commands as c
    from studio.core.actor import Actor
    from tests.conftest import OWNER

    studio.create_space("Debris")
    with studio.open_space("debris") as sp:
        begun = sp.apply(
            c.BeginUpload(c.MediaKindName.IMAGE, original_name="p.png", name="P"), OWNER
        )
        vid = begun.created["variant_id"]
        slug = sp.asset(begun.created["asset_id"]).slug
        (sp.media_dir / slug / vid).mkdir(parents=True)
        (sp.media_dir / slug / vid / "original.png").write_bytes(b"never recorded")
        sp.apply(c.FailVariant(vid, "IMPORT_INTERRUPTED", "interrupted"), Actor.system())
        report = check_space(sp)
    assert report.problems == []
    assert report.warnings == [
        f"media: {slug}/{vid}/original.png is left over from a failed variant"
    ]


def _imported(home: Path, tmp_path: Path) -> tuple[Path, str, dict[str, str]]:
    """A space with one imported picture: its media folder, variant id and file paths."""
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Art")
    src = tmp_path / "castle.png"
    img = Image.new("RGB", (900, 600), "navy")
    img.paste(Image.new("RGB", (300, 200), "gold"), (100, 100))
    img.save(src)
    assert main(["--home", str(home), "import", "art", str(src)]) == 0
    with _raw(home) as conn:
        vid, media, thumb = conn.execute(
            "SELECT id, media_path, thumb_path FROM variants"
        ).fetchone()
    return home / "media" / "art", vid, {"media": media, "thumb": thumb}


def test_repair_makes_lost_and_damaged_previews_again_from_the_original(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media, vid, files = _imported(home, tmp_path)
    thumb = media / files["thumb"]
    tiers = [media / t for t in tier_paths(files["thumb"])]
    want = Image.open(thumb).size
    capsys.readouterr()
    thumb.write_bytes(b"\x00" * 100)  # a damaged thumbnail, a lost tier
    tiers[0].unlink()
    code = main(["--home", str(home), "check", "art"])
    out = capsys.readouterr().out
    assert code == 1 and "can have their previews made again" in out
    assert "studio check art --repair" in out
    code = main(["--home", str(home), "check", "art", "--repair", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert (code, report["ok"], report["problems"]) == (0, True, [])
    assert report["repaired"] == [
        f"variant {vid}: thumb.webp, thumb.64.webp, thumb.16.webp made again from the original"
    ]
    with Image.open(thumb) as im:
        assert im.size == want and im.getpixel((10, 10)) != (0, 0, 0)
    assert all(t.is_file() for t in tiers)
    assert not any((media / ".staging").rglob("repair-*"))  # nothing left behind


def test_repair_leaves_a_variant_whose_original_is_damaged_too(
    home: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    media, vid, files = _imported(home, tmp_path)
    (media / files["thumb"]).unlink()
    original = media / files["media"]
    original.write_bytes(original.read_bytes()[:-10] + b"0123456789")  # same size
    capsys.readouterr()
    code = main(["--home", str(home), "check", "art", "--repair", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["repaired"] == []
    assert f"variant {vid}: {files['media']} does not match its sha256" in report["problems"]
    assert f"variant {vid}: missing file {files['thumb']}" in report["problems"]
