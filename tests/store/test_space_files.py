"""Opening a space never creates, migrates into or changes a file that is not whole and ours.

Every hostile file is generated here; each refusal is one clear StorageError and the file
is left byte for byte as it was.
"""

from __future__ import annotations

import hashlib
import random
import re
import sqlite3
from pathlib import Path

import pytest

from studio.core.errors import StorageError
from studio.core.space import Space
from studio.core.studio import Studio
from studio.store.schema import LIBRARY_APPLICATION_ID, SPACE_APPLICATION_ID
from tests.conftest import add_variant


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _foreign_sqlite(path: Path, rnd: random.Random, app_id: int) -> None:
    conn = sqlite3.connect(path)
    for t in range(rnd.randint(1, 4)):
        conn.execute(f"CREATE TABLE t{t} (a, b TEXT)")
        conn.executemany(
            f"INSERT INTO t{t} VALUES (?, ?)", [(i, "x" * rnd.randint(0, 50)) for i in range(20)]
        )
    if rnd.random() < 0.5:
        conn.execute("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
    conn.execute(f"PRAGMA user_version = {rnd.randint(0, 9)}")
    conn.execute(f"PRAGMA application_id = {app_id}")
    conn.commit()
    conn.close()


def _open(studio: Studio, slug: str) -> None:
    studio.open_space(slug).close()


@pytest.fixture
def home(studio: Studio) -> Studio:
    studio.create_space("Alpha")
    with studio.open_space("alpha") as sp:
        add_variant(sp)
    return studio


def test_a_deleted_space_file_is_not_recreated(home: Studio) -> None:
    db = home.paths.space_db("alpha")
    db.unlink()
    with pytest.raises(StorageError, match=r"alpha\.db: the file is missing"):
        _open(home, "alpha")
    assert not db.exists()
    assert any(home.paths.space_media("alpha").rglob("original.bin"))  # media untouched


def test_a_zero_byte_space_file_is_refused_and_left_empty(home: Studio) -> None:
    db = home.paths.space_db("alpha")
    db.write_bytes(b"")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    with pytest.raises(StorageError, match="empty"):
        _open(home, "alpha")
    assert db.stat().st_size == 0
    assert not Path(f"{db}-wal").exists()


@pytest.mark.parametrize("seed", range(4))
def test_a_foreign_sqlite_file_is_refused_byte_for_byte(home: Studio, seed: int) -> None:
    rnd = random.Random(seed)
    db = home.paths.space_db("alpha")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    app_id = rnd.choice([0, 1, 0x12345678, LIBRARY_APPLICATION_ID])
    _foreign_sqlite(db, rnd, app_id)
    before = _digest(db)
    with pytest.raises(StorageError, match="not a Forge Studio file"):
        _open(home, "alpha")
    assert _digest(db) == before
    assert not Path(f"{db}-wal").exists()


@pytest.mark.parametrize("seed", range(3))
def test_a_file_that_is_not_sqlite_is_refused_byte_for_byte(home: Studio, seed: int) -> None:
    rnd = random.Random(seed)
    db = home.paths.space_db("alpha")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    blob = bytes(rnd.randrange(256) for _ in range(rnd.choice([1, 99, 100, 5000])))
    if seed == 2:  # a truncated copy: right magic, cut inside the header
        blob = b"SQLite format 3\x00" + blob[:40]
    db.write_bytes(blob)
    with pytest.raises(StorageError, match=r"could not open the space file alpha\.db"):
        _open(home, "alpha")
    assert db.read_bytes() == blob


def test_another_spaces_file_is_refused_byte_for_byte(home: Studio) -> None:
    home.create_space("Beta")
    a, b = home.paths.space_db("alpha"), home.paths.space_db("beta")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{a}{suffix}").unlink(missing_ok=True)
    a.write_bytes(b.read_bytes())
    before = _digest(a)
    with pytest.raises(StorageError, match="belongs to another space"):
        _open(home, "alpha")
    assert _digest(a) == before


def test_a_space_file_never_set_up_is_refused(home: Studio) -> None:
    db = home.paths.space_db("alpha")
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    conn = sqlite3.connect(db)
    conn.execute(f"PRAGMA application_id = {SPACE_APPLICATION_ID}")  # ours, yet no schema
    conn.commit()
    conn.close()
    before = _digest(db)
    with pytest.raises(StorageError, match="never set up"):
        _open(home, "alpha")
    assert _digest(db) == before


def _garble_schema(src: bytes, rnd: random.Random) -> bytes:
    """Overwrite one byte inside the text of a CREATE statement in sqlite_master."""
    starts = [m.start() for m in re.finditer(rb"CREATE (TABLE|INDEX) ", src)]
    data = bytearray(src)
    start = rnd.choice(starts)
    end = src.index(b")", start)  # inside the statement, never the page's free space after it
    at = start + rnd.randrange(7, max(8, min(60, end - start)))
    data[at] = rnd.choice([0xFF, 0xC3, 0x80, 0x00, ord("#"), ord("x")])
    return bytes(data)


def test_garbled_schema_bytes_are_one_clear_error(home: Studio) -> None:
    db = home.paths.space_db("alpha")
    home.open_space("alpha").close()  # checkpointed: the schema lives in the main file
    pristine = db.read_bytes()
    rnd = random.Random(11)
    for _ in range(25):
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        garbled = _garble_schema(pristine, rnd)
        db.write_bytes(garbled)
        with pytest.raises(StorageError) as err:
            _open(home, "alpha")
        assert err.value.message.startswith("could not open the space file alpha.db: ")
        assert "\n" not in err.value.message
        assert db.read_bytes() == garbled


def test_a_regular_file_where_the_media_folder_should_be(home: Studio) -> None:
    media = home.paths.space_media("alpha")
    moved = media.with_name("alpha-moved")
    media.rename(moved)
    media.write_bytes(b"not a folder")
    with pytest.raises(StorageError, match="media folder but is a file"):
        _open(home, "alpha")
    assert media.read_bytes() == b"not a folder"


def test_space_create_refuses_an_existing_path(tmp_path: Path) -> None:
    db = tmp_path / "s.db"
    db.write_bytes(b"precious")
    with pytest.raises(StorageError, match="already exists"):
        Space.create(db, tmp_path / "m", space_id="s", slug="s")
    assert db.read_bytes() == b"precious"


def test_space_open_never_creates(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="missing"):
        Space.open(tmp_path / "s.db", tmp_path / "m", space_id="s", slug="s")
    assert list(tmp_path.iterdir()) == []


def test_a_foreign_file_with_a_live_log_is_not_checkpointed_into(tmp_path: Path) -> None:
    """A foreign WAL database left with frames in its log (its program was killed)."""
    import shutil

    src = tmp_path / "src"
    src.mkdir()
    conn = sqlite3.connect(src / "x.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA wal_autocheckpoint = 0")
    conn.execute("CREATE TABLE t (a)")
    conn.execute("INSERT INTO t VALUES (1)")
    snap = tmp_path / "s.db"  # a copy taken while the writer is alive: log not merged
    shutil.copy(src / "x.db", snap)
    shutil.copy(src / "x.db-wal", f"{snap}-wal")
    conn.close()
    before = (_digest(snap), _digest(Path(f"{snap}-wal")))
    with pytest.raises(StorageError, match="not a Forge Studio file"):
        Space.open(snap, tmp_path / "m", space_id="s", slug="s")
    assert (_digest(snap), _digest(Path(f"{snap}-wal"))) == before
