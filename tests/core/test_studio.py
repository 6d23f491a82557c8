"""The library of spaces: create, list, rename, delete, resolve."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from studio.core.errors import ErrorCode, StorageError, StudioError
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from tests.conftest import add_variant


def test_create_lays_out_files_as_designed(studio: Studio) -> None:
    entry = studio.create_space("My Game: Act I")
    home = studio.paths.home
    assert entry.slug == "my-game-act-i"
    assert (home / "library.db").is_file()
    assert (home / "spaces" / "my-game-act-i.db").is_file()
    assert (home / "media" / "my-game-act-i").is_dir()
    assert entry.file == "spaces/my-game-act-i.db"


def test_slugs_are_unique_and_fixed(studio: Studio) -> None:
    a = studio.create_space("Demo")
    b = studio.create_space("demo!")
    assert (a.slug, b.slug) == ("demo", "demo-2")
    renamed = studio.rename_space("demo", "Something else")
    assert renamed.slug == "demo" and renamed.name == "Something else"
    assert studio.resolve(a.id).name == "Something else"


def test_list_orders_by_last_opened(studio: Studio) -> None:
    studio.create_space("One")
    studio.create_space("Two")
    studio.open_space("one").close()
    assert next(e.slug for e in studio.spaces()) == "one"
    assert studio.resolve("one").last_opened_at is not None


def test_unknown_space_is_a_clear_error(studio: Studio) -> None:
    with pytest.raises(StudioError) as err:
        studio.open_space("nope")
    assert err.value.code is ErrorCode.NOT_FOUND
    assert "no space 'nope'" in err.value.message


def test_delete_moves_file_and_media_to_trash(studio: Studio) -> None:
    entry = studio.create_space("Doomed")
    with studio.open_space("doomed") as sp:
        add_variant(sp)
    studio.library.set_setting(f"ui.view.{entry.id}", "{}")
    studio.library.set_setting("jobs.local.concurrency", "3")
    trash = studio.delete_space("doomed")
    assert studio.library.setting(f"ui.view.{entry.id}") is None
    assert studio.library.setting("jobs.local.concurrency") == "3"
    assert (trash / "doomed.db").is_file()
    assert any((trash / "media").rglob("original.bin"))
    assert not (studio.paths.home / entry.file).exists()
    assert studio.spaces() == []
    again = studio.create_space("Doomed")  # the slug is free again
    assert again.slug == "doomed"


def test_home_defaults_to_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_HOME", str(tmp_path / "h"))
    with Studio(providers=build_providers) as s:
        assert s.paths.home == tmp_path / "h"


def test_unusable_home_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(StudioError) as err:
        Studio(blocker / "home", providers=build_providers)
    assert err.value.code is ErrorCode.STORAGE_ERROR


# ---------------------------------------------------------------------------- creating


def _space_files(studio: Studio) -> list[str]:
    return sorted(p.name for p in studio.paths.spaces_dir.iterdir())


def test_a_failed_create_leaves_nothing_behind(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(_entry: object) -> None:
        raise StorageError("the disk is full: could not write library.db")

    monkeypatch.setattr(studio.library, "add", refuse)
    with pytest.raises(StorageError, match="disk is full"):
        studio.create_space("Blocked")
    assert _space_files(studio) == []
    assert list(studio.paths.media_root.iterdir()) == []
    monkeypatch.undo()
    assert studio.create_space("Blocked").slug == "blocked"  # the slug is not blocked


def test_a_failed_file_init_leaves_nothing_behind(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    import studio.core.space_file as space_mod

    def broken(*_a: object, **_k: object) -> int:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(space_mod, "migrate", broken)
    with pytest.raises(StorageError, match="could not create the space 'Full': the disk is full"):
        studio.create_space("Full")
    assert _space_files(studio) == []
    assert studio.spaces() == []


def test_create_takes_the_next_slug_when_a_file_appears_first(
    studio: Studio, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process wins the race between choosing a slug and publishing the file."""
    real = Studio._slug_taken
    stolen: list[str] = []

    def racing(self: Studio, slug: str) -> bool:
        taken = real(self, slug)
        if not taken and not stolen:
            stolen.append(slug)
            self.paths.space_db(slug).write_bytes(b"someone else's")
        return taken

    monkeypatch.setattr(Studio, "_slug_taken", racing)
    entry = studio.create_space("Race")
    assert entry.slug == "race-2"
    assert studio.paths.space_db("race").read_bytes() == b"someone else's"
    assert [e.slug for e in studio.spaces()] == ["race-2"]
    assert not [p for p in studio.paths.spaces_dir.iterdir() if p.name.startswith(".")]


CREATE = """
import sys
from studio.cli.main import main
sys.exit(main(["--home", sys.argv[1], "space", "create", "Same Name", "--json"]))
"""


@pytest.mark.parametrize("fresh", [True, False])
def test_concurrent_creates_of_one_name_all_succeed(tmp_path: Path, fresh: bool) -> None:
    import json
    import subprocess
    import sys

    home = tmp_path / "home"
    if not fresh:
        Studio(home, providers=build_providers).close()
    root = Path(__file__).resolve().parents[2]
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", CREATE, str(home)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=root,
        )
        for _ in range(4)
    ]
    results = [p.communicate(timeout=60) for p in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in results]
    slugs = sorted(json.loads(out)["slug"] for out, _ in results)
    assert slugs == ["same-name", "same-name-2", "same-name-3", "same-name-4"]
    with Studio(home, providers=build_providers) as studio:
        assert sorted(e.slug for e in studio.spaces()) == slugs
        assert _space_files(studio) == sorted(f"{s}.db" for s in slugs)
        for s in slugs:
            studio.open_space(s).close()


# ---------------------------------------------------------------------------- faults


def test_empty_home_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("STUDIO_HOME", "")
    with pytest.raises(StudioError, match="STUDIO_HOME is set but empty"):
        Studio(providers=build_providers)
    monkeypatch.setenv("STUDIO_HOME", "  ")
    with pytest.raises(StudioError, match="STUDIO_HOME is set but empty"):
        Studio(providers=build_providers)


HOLD_LOCK = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
if sys.argv[2] == "exclusive-mode":
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
conn.execute("BEGIN EXCLUSIVE")
conn.execute("INSERT INTO settings(key, value) VALUES ('held', 'yes')")
print("held", flush=True)
time.sleep(30)
"""


def _hold(db: Path, how: str) -> Any:
    import subprocess
    import sys

    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD_LOCK, str(db), how], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
    return proc


def test_a_library_held_by_another_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.store.db as db

    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Held")
    proc = _hold(home / "library.db", "transaction")
    try:
        with Studio(home, providers=build_providers) as studio:
            assert [e.slug for e in studio.spaces()] == ["held"]  # reading still works
            studio.open_space("held").close()  # only the "last opened" touch is lost
            with pytest.raises(StorageError, match="the library is busy"):
                studio.create_space("Other")
            assert _space_files(studio) == ["held.db", "held.db.holders", "held.db.lock"]
    finally:
        proc.kill()
        proc.wait()
    proc = _hold(home / "library.db", "exclusive-mode")
    try:
        with pytest.raises(StorageError, match="the library is busy"):
            Studio(home, providers=build_providers).spaces()
    finally:
        proc.kill()
        proc.wait()


def test_create_clears_temporaries_of_dead_creates_only(studio: Studio) -> None:
    import os

    old = studio.paths.spaces_dir / ".dead.0123.creating"
    old.write_bytes(b"half")
    os.utime(old, (0, 0))
    young = studio.paths.spaces_dir / ".busy.4567.creating"
    young.write_bytes(b"another process is writing this right now")
    studio.create_space("Fresh")
    assert not old.exists()
    assert young.exists()


@pytest.mark.parametrize("which", ["spaces", "media"])
def test_a_file_where_a_studio_folder_should_be(tmp_path: Path, which: str) -> None:
    home = tmp_path / "home"
    Studio(home, providers=build_providers).close()
    folder = home / which
    folder.rmdir()
    folder.write_text("in the way")
    with pytest.raises(StorageError, match=f"{which} is a file where a folder should be"):
        Studio(home, providers=build_providers)
    assert folder.read_text() == "in the way"


def test_a_space_file_held_by_another_process(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import subprocess
    import sys

    import studio.store.db as db

    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    home = tmp_path / "home"
    with Studio(home, providers=build_providers) as studio:
        studio.create_space("Held")
    hold = HOLD_LOCK.replace(
        "INSERT INTO settings(key, value) VALUES ('held', 'yes')",
        "INSERT INTO meta(key, value) VALUES ('held', 'yes')",
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", hold, str(home / "spaces" / "held.db"), "exclusive-mode"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None and proc.stdout.readline().strip() == "held"
        with (
            Studio(home, providers=build_providers) as studio,
            pytest.raises(StorageError, match="the space is busy"),
        ):
            studio.open_space("held")
    finally:
        proc.kill()
        proc.wait()
    with Studio(home, providers=build_providers) as studio:
        studio.open_space("held").close()  # the other process is gone: it opens again
