"""Regressions found by attacking the merged hardening of #9 (hostile homes, races with a
space delete, …). Each test failed before its fix."""

from __future__ import annotations

import os
from pathlib import Path

from studio.core.studio import Studio


def test_a_home_whose_name_is_not_utf8_holds_spaces(tmp_path: Path) -> None:
    # a folder name with bytes that are not UTF-8 reaches us as surrogate escapes
    home = Path(os.fsdecode(os.fsencode(tmp_path) + b"/h\xff\xfe"))
    with Studio(home) as studio:
        entry = studio.create_space("S")
        with studio.open_space(entry.slug) as space:
            assert space.media_dir.is_dir()
        assert [e.slug for e in studio.spaces()] == [entry.slug]
    assert (home / "spaces" / f"{entry.slug}.db").is_file()
