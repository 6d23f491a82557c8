"""Storage faults seen from the command line: one clear line, exit 1, data left alone."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from studio.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def run(home: Path | str, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["--home", str(home), *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_an_empty_home_is_refused_not_the_working_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for home in ("", "   "):
        code, out, err = run(home, "space", "create", "X", capsys=capsys)
        assert (code, out) == (1, "")
        assert err == "studio: --home is empty: give the path of a data folder\n"
    monkeypatch.setenv("STUDIO_HOME", "")
    assert main(["space", "list"]) == 1
    _, err = capsys.readouterr()
    assert err.startswith("studio: STUDIO_HOME is set but empty") and err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("damage", ["delete", "truncate", "foreign"])
def test_a_damaged_space_file_fails_every_command_and_stays(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], damage: str
) -> None:
    home = tmp_path / "home"
    assert run(home, "space", "create", "Art", capsys=capsys)[0] == 0
    db = home / "spaces" / "art.db"
    if damage == "delete":
        db.unlink()
    elif damage == "truncate":
        db.write_bytes(b"")
    else:
        db.unlink()
        import sqlite3

        conn = sqlite3.connect(db)
        conn.execute("CREATE TABLE notes (body TEXT)")
        conn.commit()
        conn.close()
    before = db.read_bytes() if db.exists() else None
    for cmd in (["assets", "art"], ["check", "art"], ["log", "art"]):
        code, out, err = run(home, *cmd, capsys=capsys)
        assert code == 1, (cmd, out)
        assert err.startswith("studio: could not open the space file art.db: ")
        assert err.count("\n") == 1
    assert (db.read_bytes() if db.exists() else None) == before


def test_a_file_where_the_media_folder_should_be(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    run(home, "space", "create", "Art", capsys=capsys)
    media = home / "media" / "art"
    media.rmdir()
    media.write_text("oops")
    code, _, err = run(home, "assets", "art", capsys=capsys)
    assert code == 1 and "is a file" in err and err.count("\n") == 1
    assert media.read_text() == "oops"


FULL_DISK = """
import contextlib, io, json, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from studio.cli.main import main
done = []
for argv in json.loads(sys.argv[2]):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exit:
            code = exit.code if isinstance(exit.code, int) else 1
    done.append([code, out.getvalue(), err.getvalue()])
print(json.dumps(done))
"""


def _full_disk(
    limit: int, home: Path, *commands: list[str]
) -> list[subprocess.CompletedProcess[str]]:
    """Each command's ``main`` in turn, in one child process whose file size limit is
    ``limit`` bytes (a full disk: writes past it fail with EFBIG)."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    argvs = [["--home", str(home), *cmd] for cmd in commands]
    child = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(limit), json.dumps(argvs)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=ROOT,
    )
    assert child.returncode == 0 and "Traceback" not in child.stderr, child.stderr
    results = json.loads(child.stdout)
    return [
        subprocess.CompletedProcess(cmd, c, o, e)
        for cmd, (c, o, e) in zip(commands, results, strict=True)
    ]


@pytest.mark.parametrize("limit", [0, 40_000])
def test_a_full_disk(tmp_path: Path, capsys: pytest.CaptureFixture[str], limit: int) -> None:
    """0: nothing can be written at all; 40 kB: the library opens, its writes fail.
    The commands run one after another in a child process with the file size limit (two
    children: the refused create is checked before reads make the space's lock files)."""
    home = tmp_path / "home"
    run(home, "space", "create", "Art", capsys=capsys)
    before = sorted(p.name for p in (home / "spaces").iterdir())
    db = home / "spaces" / "art.db"
    db_before = db.read_bytes()
    add = json.dumps({"command": "asset:create", "name": "X", "media_kind": "image"})
    reading = [["assets", "art", "--json"], ["check", "art"], ["log", "art"]]
    writing = [["apply", "art", add]] if limit == 0 else []
    listed, made = _full_disk(limit, home, ["space", "list", "--json"], ["space", "create", "More"])
    assert listed.returncode == 0, listed.stderr
    assert [s["slug"] for s in json.loads(listed.stdout)] == ["art"]
    assert made.returncode == 1
    assert made.stderr.startswith("studio: ") and made.stderr.count("\n") == 1
    assert "Traceback" not in made.stderr
    assert sorted(p.name for p in (home / "spaces").iterdir()) == before
    assert sorted(p.name for p in (home / "media").iterdir()) == ["art"]
    rest = _full_disk(limit, home, *reading, *writing)
    for read in rest[: len(reading)]:
        assert read.returncode == 0, read.stderr  # reading works on a full disk
        assert "Traceback" not in read.stderr
    if limit == 0:
        (wrote,) = rest[len(reading) :]
        assert wrote.returncode == 1
        last = wrote.stderr.strip().splitlines()[-1]
        assert last.startswith("studio: the space art can only be read for now")
        assert db.read_bytes() == db_before  # nothing at all was written to it


def _garble_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str], rounds: int) -> set[str]:
    """Overwrite random bytes of a space file (past the header) and run every reading
    command: each ends in output or in one ``studio:`` line, never a traceback."""
    import random
    import shutil

    home = tmp_path / "home"
    run(home, "space", "create", "Art", capsys=capsys)
    for i in range(3):
        cmd = json.dumps({"command": "asset:create", "name": f"Hero {i}", "media_kind": "image"})
        run(home, "apply", "art", cmd, capsys=capsys)
    run(home, "assets", "art", capsys=capsys)  # close: checkpointed into the main file
    db = home / "spaces" / "art.db"
    pristine = db.read_bytes()
    rnd = random.Random(rounds)
    seen: set[str] = set()
    for _ in range(rounds):
        for suffix in ("-wal", "-shm"):
            Path(f"{db}{suffix}").unlink(missing_ok=True)
        shutil.rmtree(home / "backups", ignore_errors=True)
        data = bytearray(pristine)
        for _ in range(rnd.randint(1, 12)):
            data[rnd.randrange(100, len(data))] = rnd.randrange(256)
        db.write_bytes(bytes(data))
        for cmd in (["assets", "art"], ["log", "art"], ["check", "art"]):
            code, _, err = run(home, *cmd, capsys=capsys)
            assert code in (0, 1), (cmd, err)
            assert "Traceback" not in err, err
            if code == 1 and err:  # (warnings may come first; the error is one last line)
                assert err.splitlines()[-1].startswith("studio: "), err
                seen.add(cmd[0])
    return seen


def test_random_damage_never_ends_in_a_traceback(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _garble_runs(tmp_path, capsys, 12)  # some damage is found


@pytest.mark.slow
def test_random_damage_never_ends_in_a_traceback_long(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _garble_runs(tmp_path, capsys, 100)


def test_rows_damaged_outside_the_app_are_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import sqlite3

    home = tmp_path / "home"
    run(home, "space", "create", "Art", capsys=capsys)
    cmd = json.dumps({"command": "asset:create", "name": "Hero", "media_kind": "image"})
    assert run(home, "apply", "art", cmd, capsys=capsys)[0] == 0
    conn = sqlite3.connect(home / "spaces" / "art.db", isolation_level=None)
    conn.execute("UPDATE changes SET payload = '{\"command\": ' WHERE seq = 1")
    conn.close()
    code, _, err = run(home, "log", "art", capsys=capsys)
    assert code == 1
    assert err == (
        "studio: the space file is damaged: change 1 payload is not valid JSON "
        "(see `studio check`)\n"
    )
    conn = sqlite3.connect(home / "spaces" / "art.db", isolation_level=None)
    conn.execute("UPDATE assets SET name = CAST(X'48FF65' AS TEXT)")
    conn.close()
    code, _, err = run(home, "assets", "art", capsys=capsys)
    assert code == 1 and err.count("\n") == 1
    assert err.startswith("studio: a data file could not be read, it may be damaged")
