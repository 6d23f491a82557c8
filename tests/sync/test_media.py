"""Media from the host on demand: verified by sha256, resumable, only files of the
space's media folder that a row names."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from studio.cli.main import main
from studio.core.errors import ErrorCode, NotFoundError
from studio.core.studio import Studio
from studio.sync import admin, peer
from tests.conftest import add_variant
from tests.sync.harness import HostThread

PAYLOAD = bytes(range(256)) * 4000  # about 1 MiB: several chunks


@pytest.fixture
def shared(tmp_path: Path) -> Any:
    home = tmp_path / "host"
    with Studio(home) as s:
        s.create_space("Board")
        with s.open_space("board") as space:
            made = add_variant(space, name="Hero", payload=PAYLOAD)
            original = space.media_dir / space.variant_detail(made.variant_id).row.media_path
    host = HostThread(home, ["board"])
    try:
        with Studio(home) as s:
            link = admin.make_invite(s, "board", "editor", 60_000).link()
        pia = tmp_path / "pia"
        with Studio(pia) as s:
            slug = asyncio.run(peer.join(s, link, "Pia")).slug
        yield host, pia, slug, made.variant_id, original
    finally:
        host.stop()


def _fetch(home: Path, slug: str, ids: list[str] | None) -> list[Any]:
    with Studio(home) as s:
        return asyncio.run(peer.fetch_media(s, slug, ids))


def test_an_original_arrives_verified_and_a_cut_download_resumes(shared: Any) -> None:
    _host, pia, slug, vid, _original = shared
    (got,) = _fetch(pia, slug, None)  # every missing original
    assert hashlib.sha256(got.dest.read_bytes()).hexdigest() == hashlib.sha256(PAYLOAD).hexdigest()
    assert got.received == len(PAYLOAD)
    assert _fetch(pia, slug, None) == []  # nothing missing any more
    # a download cut after 100 KiB: the next fetch sends only the rest
    got.dest.unlink()
    part = got.dest.with_name(f".{got.dest.name}.part")
    part.write_bytes(PAYLOAD[: 100 << 10])
    (again,) = _fetch(pia, slug, [vid])
    assert again.received == len(PAYLOAD) - (100 << 10)
    assert again.dest.read_bytes() == PAYLOAD and not part.exists()


def test_a_file_that_no_longer_matches_its_row_is_not_sent(shared: Any) -> None:
    _host, pia, slug, vid, original = shared
    original.write_bytes(b"tampered" + PAYLOAD[8:])
    with pytest.raises(peer.HostError, match="damaged") as err:
        _fetch(pia, slug, [vid])
    assert err.value.code is ErrorCode.STORAGE_ERROR
    with Studio(pia) as s, s.open_space(slug) as replica:
        dest = replica.media_dir / replica.variant_detail(vid).row.media_path
        assert not dest.exists() and not dest.with_name(f".{dest.name}.part").exists()


def test_a_row_pointing_outside_the_media_folder_gets_nothing(shared: Any) -> None:
    """Rows come from the door, but a file damaged by hand must not leak the host's key."""
    from studio.sync import media

    host, pia, slug, vid, _original = shared
    evil = "../../sharing/host-key.pem"
    with sqlite3.connect(host.home / "spaces" / "board.db") as raw:
        raw.execute("UPDATE variants SET media_path = ? WHERE id = ?", (evil, vid))
    with pytest.raises(peer.HostError, match="names no file of this space") as err:
        _fetch(pia, slug, [vid])  # the host refuses (its row is the one that counts)
    assert err.value.code is ErrorCode.NOT_FOUND
    with Studio(pia) as s:  # and a replica's own damaged row is refused before asking
        path = s.paths.home / s.resolve(slug).file
        with sqlite3.connect(path) as raw:
            raw.execute("UPDATE variants SET media_path = ? WHERE id = ?", (evil, vid))
        with s.open_space(slug) as replica, pytest.raises(NotFoundError, match="names no file"):
            media.relative_path(replica, vid, "original")
    assert not list((pia / "sharing").glob("*.part"))


def test_studio_fetch_prints_the_files(shared: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _host, pia, slug, _vid, _original = shared
    assert main(["--home", str(pia), "fetch", slug]) == 0
    out = capsys.readouterr()
    assert out.out.strip().endswith("original.bin") and "fetched 1 file(s)" in out.err
