"""``studio check``: is a space whole?"""

from __future__ import annotations

from dataclasses import dataclass, field

from studio.core.space import Space
from studio.media import sha256_file


@dataclass
class CheckReport:
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    files_checked: int = 0
    variants_checked: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems


def check_space(space: Space, *, verify_hashes: bool = True) -> CheckReport:
    report = CheckReport()
    integrity = [row[0] for row in space.query("PRAGMA integrity_check")]
    if integrity != ["ok"]:
        report.problems += [f"database: {line}" for line in integrity]
    for table, rowid, parent, _fk in space.query("PRAGMA foreign_key_check"):
        report.problems.append(f"database: {table} row {rowid} points at a missing {parent} row")
    rows = space.query(
        "SELECT id, status, media_path, thumb_path, poster_path, sha256, size_bytes "
        "FROM variants ORDER BY id"
    )
    for vid, status, media, thumb, poster, sha, size in rows:
        report.variants_checked += 1
        if status == "completed" and not media:
            report.problems.append(f"variant {vid}: completed but has no media file")
        for rel in (media, thumb, poster):
            if rel is None:
                continue
            path = space.media_dir / rel
            report.files_checked += 1
            if not path.is_file():
                report.problems.append(f"variant {vid}: missing file {rel}")
                continue
            if rel == media and verify_hashes:
                if size is not None and path.stat().st_size != size:
                    report.problems.append(
                        f"variant {vid}: {rel} is {path.stat().st_size} bytes, expected {size}"
                    )
                elif sha and sha256_file(path) != sha:
                    report.problems.append(f"variant {vid}: {rel} does not match its sha256")
        if status in ("uploading", "processing"):
            report.warnings.append(f"variant {vid} is still {status}")
    from studio.core.leftovers import find_leftovers

    for left in find_leftovers(space):  # swept at the next open
        report.warnings.append(f"leftover {left.line(space.media_dir)}")
    return report
