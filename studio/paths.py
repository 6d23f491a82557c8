"""Where Forge Studio keeps its files (see DESIGN.md, "Files on disk")."""

from __future__ import annotations

import os
from pathlib import Path

APP_NAME = "forge-studio"


def home_path(text: str | None) -> Path | None:
    """The data folder a user named (``--home``), or None for the default. An empty or
    blank name is refused: it would silently mean the working directory."""
    if text is None:
        return None
    if not text.strip():
        from studio.core.errors import ValidationError

        raise ValidationError("--home is empty: give the path of a data folder")
    return Path(text).expanduser()


def default_home() -> Path:
    env = os.environ.get("STUDIO_HOME")
    if env is not None:
        if not env.strip():
            from studio.core.errors import ValidationError

            raise ValidationError(
                "STUDIO_HOME is set but empty: unset it or give the path of a data folder"
            )
        return Path(env).expanduser()
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


class StudioPaths:
    """The data root and the fixed layout below it. Immutable; a plain class rather
    than a dataclass because importing ``dataclasses`` (inspect, ast, dis…) would be a
    third of ``studio space list``'s start-up, which needs only this."""

    __slots__ = ("home",)
    home: Path

    def __init__(self, home: Path) -> None:
        object.__setattr__(self, "home", home)

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"StudioPaths is immutable: cannot set {name!r}")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StudioPaths) and other.home == self.home

    def __hash__(self) -> int:
        return hash(self.home)

    def __repr__(self) -> str:
        return f"StudioPaths(home={self.home!r})"

    @property
    def library_db(self) -> Path:
        return self.home / "library.db"

    @property
    def spaces_dir(self) -> Path:
        return self.home / "spaces"

    @property
    def media_root(self) -> Path:
        return self.home / "media"

    @property
    def exports_dir(self) -> Path:
        return self.home / "exports"

    @property
    def trash_dir(self) -> Path:
        return self.home / "trash"

    @property
    def logs_dir(self) -> Path:
        """Crash reports and the app's rotated log (``studio.crash``)."""
        return self.home / "logs"

    @property
    def backups_dir(self) -> Path:
        return self.home / "backups"

    def space_backups(self, space_slug: str) -> Path:
        return self.backups_dir / space_slug

    def space_db(self, space_slug: str) -> Path:
        return self.spaces_dir / f"{space_slug}.db"

    def space_media(self, space_slug: str) -> Path:
        return self.media_root / space_slug

    def ensure(self) -> None:
        for d in (self.home, self.spaces_dir, self.media_root, self.exports_dir):
            if d.exists() and not d.is_dir():
                raise NotADirectoryError(f"{d} is a file where a folder should be")
            d.mkdir(parents=True, exist_ok=True)
