"""Rolling backups of a space and ``studio space restore``."""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main
from studio.core.errors import ConflictError, NotFoundError, StorageError
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.store import backup as bk
from studio.store.backup import BackupError, list_backups, make_backup, verify_backup
from tests.conftest import FakeClock, add_asset

ROOT = Path(__file__).resolve().parents[2]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _names(studio: Studio, slug: str) -> list[str]:
    with studio.open_space(slug) as sp:
        return sorted(a.name for a in sp.snapshot().assets)


def _settle(studio: Studio) -> None:
    for keeper in studio._backups.values():
        keeper.join()


def _files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def test_a_changed_space_is_backed_up_at_open(studio: Studio) -> None:
    studio.create_space("Art")
    folder = studio.paths.space_backups("art")
    with studio.open_space("art") as sp:
        add_asset(sp, "One")
    _settle(studio)
    assert _files(folder) == []  # nothing had changed when it was opened
    studio.open_space("art").close()
    _settle(studio)
    (first,) = list_backups(folder)
    assert first.seq == 1
    assert verify_backup(first.path, studio.resolve("art").id) == 1
    studio.open_space("art").close()  # no change since: no new generation
    _settle(studio)
    assert [b.name for b in list_backups(folder)] == [first.name]
    assert not [n for n in _files(folder) if n.startswith(".")]  # no temporary left


def test_a_backup_every_interval_while_changing(studio: Studio, clock: FakeClock) -> None:
    studio.create_space("Art")
    folder = studio.paths.space_backups("art")
    with studio.open_space("art") as sp:
        add_asset(sp, "One")
        add_asset(sp, "Two")
        _settle(studio)
        assert list_backups(folder) == []  # (first commit starts the clock)
        clock.advance(bk.BACKUP_INTERVAL_MS + 1)
        add_asset(sp, "Three")
        _settle(studio)
        assert [b.seq for b in list_backups(folder)] == [3]
        add_asset(sp, "Four")  # within the interval: none
        _settle(studio)
        assert [b.seq for b in list_backups(folder)] == [3]
        clock.advance(bk.BACKUP_INTERVAL_MS + 1)
        add_asset(sp, "Five")
        _settle(studio)
        assert [b.seq for b in list_backups(folder)] == [5, 3]


def test_only_the_newest_generations_are_kept(tmp_path: Path) -> None:
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("Art")
        src = studio.paths.space_db("art")
        folder = tmp_path / "bk"
        (folder).mkdir()
        (folder / "replaced-20200101T000000000Z-art.db").write_bytes(b"kept forever")
        (folder / ".dead.tmp").write_bytes(b"half")
        os.utime(folder / ".dead.tmp", (0, 0))  # from a backup that died long ago
        made = [
            make_backup(src, folder, space_id=entry.id, now_ms=1_800_000_000_000 + i * 1000)
            for i in range(bk.KEEP_GENERATIONS + 3)
        ]
        kept = list_backups(folder)
        assert [b.name for b in kept] == [m.name for m in reversed(made)][: bk.KEEP_GENERATIONS]
        assert "replaced-20200101T000000000Z-art.db" in _files(folder)
        assert ".dead.tmp" not in _files(folder)


def test_a_backup_stamped_before_newer_ones_made_meanwhile_does_not_fail(
    tmp_path: Path,
) -> None:
    """A backup at open is stamped when asked for and made seconds later; other
    processes opening the space meanwhile (the CLI, a host) may have made the ``keep``
    newest generations by then. The late one is the oldest and goes at once: that is no
    failure (it raised FileNotFoundError reading its own size, logged as an error)."""
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("Art")
        src = studio.paths.space_db("art")
        folder = tmp_path / "bk"
        newer = [
            make_backup(src, folder, space_id=entry.id, now_ms=1_800_000_100_000 + i * 1000)
            for i in range(bk.KEEP_GENERATIONS)
        ]
        late = make_backup(src, folder, space_id=entry.id, now_ms=1_800_000_000_000)
        assert late.size_bytes > 0
        assert [b.name for b in list_backups(folder)] == [m.name for m in reversed(newer)]


def test_a_failed_backup_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with Studio(tmp_path / "home", providers=build_providers) as studio:
        entry = studio.create_space("Art")
        src = studio.paths.space_db("art")

        def refuse(path: Path, space_id: str) -> int:
            assert path.is_file()  # the copy exists while it is checked...
            raise BackupError("simulated damage")

        monkeypatch.setattr(bk, "verify_backup", refuse)
        with pytest.raises(BackupError):
            make_backup(src, tmp_path / "bk", space_id=entry.id, now_ms=1)
        assert _files(tmp_path / "bk") == []  # ...and is gone after


def test_a_damaged_space_never_replaces_good_generations(studio: Studio) -> None:
    entry = studio.create_space("Art")
    folder = studio.paths.space_backups("art")
    src = studio.paths.space_db("art")
    good = make_backup(src, folder, space_id=entry.id, now_ms=1_800_000_000_000)
    with pytest.raises(BackupError, match="belongs to another space"):
        make_backup(src, folder, space_id="someone-else", now_ms=1_800_000_001_000)
    assert [b.name for b in list_backups(folder)] == [good.name]


def _changed(studio: Studio) -> tuple[str, str]:
    """Art with asset One backed up, then asset Two after the backup."""
    entry = studio.create_space("Art")
    with studio.open_space("art") as sp:
        add_asset(sp, "One")
    studio.open_space("art").close()  # backup at open: One
    _settle(studio)
    with studio.open_space("art") as sp:
        add_asset(sp, "Two")
    _settle(studio)
    return entry.id, list_backups(studio.paths.space_backups("art"))[0].name


def test_restore_brings_back_the_newest_backup_and_keeps_the_current_file(
    studio: Studio,
) -> None:
    _, name = _changed(studio)
    db = studio.paths.space_db("art")
    studio.open_space("art").close()  # checkpoint; also backs up One+Two
    _settle(studio)
    newest = list_backups(studio.paths.space_backups("art"))
    assert [b.seq for b in newest] == [2, 1]
    before = _digest(db)
    used, aside = studio.restore_space("art", name)
    assert used.name == name and aside is not None
    assert _digest(aside) == before  # the replaced file is kept whole
    assert _names(studio, "art") == ["One"]
    used, aside2 = studio.restore_space("art")  # default: the newest
    assert used.seq == 2 and aside2 is not None and aside2 != aside
    assert _names(studio, "art") == ["One", "Two"]


@pytest.mark.parametrize("damage", ["missing", "empty", "garbage"])
def test_restore_recovers_a_lost_space_file(studio: Studio, damage: str) -> None:
    _changed(studio)
    db = studio.paths.space_db("art")
    for suffix in ("-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    if damage == "missing":
        db.unlink()
    elif damage == "empty":
        db.write_bytes(b"")
    else:
        db.write_bytes(random.Random(1).randbytes(8192))
    with pytest.raises(StorageError):
        studio.open_space("art")
    _, aside = studio.restore_space("art")
    assert (aside is None) == (damage == "missing")
    assert _names(studio, "art") == ["One"]


def test_restore_refuses_a_bad_backup_and_changes_nothing(studio: Studio) -> None:
    _changed(studio)
    folder = studio.paths.space_backups("art")
    (good,) = list_backups(folder)
    data = bytearray(good.path.read_bytes())
    rnd = random.Random(4)
    for _ in range(200):  # garble pages past the header
        data[rnd.randrange(100, len(data))] = rnd.randrange(256)
    good.path.write_bytes(bytes(data))
    db = studio.paths.space_db("art")
    before = _digest(db)
    with pytest.raises(StorageError, match="cannot restore"):
        studio.restore_space("art")
    assert _digest(db) == before
    assert _names(studio, "art") == ["One", "Two"]
    other = studio.create_space("Other")
    with studio.open_space("other") as sp:
        add_asset(sp, "X")
    studio.open_space("other").close()
    _settle(studio)
    (theirs,) = list_backups(studio.paths.space_backups("other"))
    (folder / "20300101T000000000Z-seq9.db").write_bytes(theirs.path.read_bytes())
    with pytest.raises(StorageError, match="belongs to another space"):
        studio.restore_space("art")
    assert _digest(db) == before
    assert other.slug == "other"


def test_restore_refuses_while_the_space_is_open(studio: Studio) -> None:
    _changed(studio)
    with studio.open_space("art"), pytest.raises(ConflictError, match="open in another"):
        studio.restore_space("art")
    with pytest.raises(NotFoundError, match="no backup 'nope'"):
        studio.restore_space("art", "nope")


def test_deleting_a_space_takes_its_backups_to_the_trash(studio: Studio) -> None:
    _changed(studio)
    trash = studio.delete_space("art")
    assert list_backups(trash / "backups")
    studio.create_space("Art")  # the slug is reused: the old backups are not offered
    with pytest.raises(NotFoundError, match="no backups yet"):
        studio.restore_space("art")


def test_cli_restore(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    home = str(tmp_path / "home")

    def cli(*args: str) -> tuple[int, str, str]:
        code = main(["--home", home, *args])
        out, err = capsys.readouterr()
        return code, out, err

    cli("space", "create", "Art")
    code, out, _ = cli("space", "restore", "art", "--list")
    assert (code, out) == (0, "no backups of art yet\n")
    code, _, err = cli("space", "restore", "art")
    assert code == 1 and err == "studio: the space 'art' has no backups yet\n"
    cmd = {"command": "asset:create", "name": "One", "media_kind": "image"}
    assert cli("apply", "art", json.dumps(cmd))[0] == 0
    assert cli("apply", "art", json.dumps(dict(cmd, name="Two")))[0] == 0  # opened at seq 1
    code, out, _ = cli("space", "restore", "art", "--list", "--json")
    listed = json.loads(out)
    assert code == 0 and [b["seq"] for b in listed] == [1]
    code, out, _ = cli("space", "restore", "art", "--from", listed[0]["name"], "--json")
    result = json.loads(out)
    assert code == 0 and result["restored"] == listed[0]["name"]
    assert Path(result["previous_file"]).is_file()
    names = [a["name"] for a in json.loads(cli("assets", "art", "--json")[1])]
    assert names == ["One"]


FULL_DISK = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
from studio.cli.main import main
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
sys.exit(main(sys.argv[2:]))
"""


def test_a_backup_that_hits_a_full_disk_leaves_nothing(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Art")
        with studio.open_space("art") as sp:
            add_asset(sp, "One")
        with studio.open_space("art") as sp:  # backed up at open (One)
            add_asset(sp, "Two")
    folder = home / "backups" / "art"
    before = _files(folder)
    assert len(before) == 1
    proc = subprocess.run(
        [sys.executable, "-c", FULL_DISK, "50000", "--home", str(home), "assets", "art"],
        capture_output=True,
        text=True,
        timeout=60,
        env=dict(os.environ, PYTHONPATH=str(ROOT)),
        cwd=ROOT,
    )
    assert proc.returncode == 0, proc.stderr  # reading works; the backup failed quietly
    assert "Traceback" not in proc.stderr
    assert _files(folder) == before  # no half backup, no temporary file


def test_the_backup_at_open_is_the_space_as_it_was_opened(tmp_path: Path) -> None:
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Art")
        with studio.open_space("art") as sp:
            add_asset(sp, "One")
    with (
        Studio(home, providers=build_providers) as studio,
        studio.open_space("art") as sp,
    ):  # changed: backed up
        add_asset(sp, "Two")  # committed before the delayed copy runs
        add_asset(sp, "Three")
    (backup,) = list_backups(home / "backups" / "art")
    assert backup.seq == 1
    db = home / "spaces" / "art.db"
    wal = Path(f"{db}-wal")
    assert not wal.exists() or wal.stat().st_size == 0  # the log was folded back
    with Studio(home, providers=build_providers) as studio:
        assert _names(studio, "art") == ["One", "Three", "Two"]


def test_restore_refuses_while_a_holder_lock_is_alive(studio: Studio) -> None:
    """Processes may also announce themselves as ``<file>.holders/<id>`` locks."""
    import fcntl

    _changed(studio)
    holders = Path(f"{studio.paths.space_db('art')}.holders")
    holders.mkdir(exist_ok=True)  # (this process's own holder lock may be there)
    (holders / "holder-1-dead00000000").write_bytes(b"")  # nobody holds it: dead
    fd = os.open(holders / "holder-2-0123456789ab", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(ConflictError, match="open in another"):
            studio.restore_space("art")
    finally:
        os.close(fd)
    studio.restore_space("art")  # only dead holders left
    assert _names(studio, "art") == ["One"]
