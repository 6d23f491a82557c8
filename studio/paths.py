"""Where Forge Studio keeps its files (see DESIGN.md, "Files on disk")."""

from __future__ import annotations

import os
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class StudioPaths:
    """The data root and the fixed layout below it."""

    home: Path

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
