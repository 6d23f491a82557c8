"""The studio: the data root, its library of spaces, and opening them."""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from studio.clock import Clock, IdGenerator, TimeSortedIds, slugify, system_clock, unique_slug
from studio.core import settings
from studio.core.errors import ConflictError, NotFoundError, StorageError
from studio.core.events import Event
from studio.core.holders import live_holders
from studio.core.leftovers import sweep_leftovers_at_open
from studio.core.providers import NoProviders, PendingCatalog, ProviderCatalog, ProviderFactory
from studio.core.space import Space
from studio.core.space_file import init_space_file
from studio.media.files import fsync_dir
from studio.paths import StudioPaths, default_home
from studio.store.backup import BackupError, BackupInfo, RollingBackups, list_backups, verify_backup
from studio.store.library import Library, SpaceEntry

LOCAL_LATENCY_KEY = settings.LOCAL_LATENCY
"""Simulated latency of the offline provider, so a demo shows jobs at work."""

MAX_CREATE_ATTEMPTS = 20
"""Slugs tried when other processes keep taking the next free one (a race, not a loop)."""

STALE_TEMP_S = 60 * 60
"""A hidden ``.creating``/``.restoring`` file older than this belongs to a dead process."""

log = logging.getLogger(__name__)


class Studio:
    def __init__(
        self,
        home: Path | None = None,
        *,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        providers: ProviderCatalog | ProviderFactory | None = None,
        catalog_later: bool = False,
    ) -> None:
        """``providers`` is injected by the composition root: a ready catalog (tests), a
        factory building one from the library's settings (the CLI and the app, see
        ``studio.providers_setup``), or None for a studio that knows no provider.
        ``catalog_later`` (with a factory): :attr:`providers` is a
        :class:`~studio.core.providers.PendingCatalog` until :meth:`start_catalog`'s
        thread (or the first ask) has built it — the app's first frame does not wait for
        the keyring."""
        self.paths = StudioPaths(home if home is not None else default_home())
        self._factory: ProviderFactory | None = None
        self._providers: ProviderCatalog | None = None
        if callable(providers):
            self._factory = providers
        else:
            self._providers = providers
        self._catalog_later = catalog_later
        self.clock = clock
        self.ids: IdGenerator = ids or TimeSortedIds(clock)
        try:
            self.paths.ensure()
        except OSError as exc:
            raise StorageError(
                f"could not open the studio folder {self.paths.home}: {exc}"
            ) from exc
        self.library = Library(self.paths.library_db, now_ms=clock())
        self._backups: dict[str, RollingBackups] = {}

    def close(self) -> None:
        for keeper in self._backups.values():
            keeper.join()
        self.library.close()

    def __enter__(self) -> Studio:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ spaces
    def spaces(self) -> list[SpaceEntry]:
        return self.library.spaces()

    def resolve(self, ref: str) -> SpaceEntry:
        entry = self.library.find(ref)
        if entry is None:
            raise NotFoundError(f"there is no space {ref!r} (see `studio space list`)")
        return entry

    def create_space(self, name: str) -> SpaceEntry:
        """Create a space: its file is written whole under a temporary name, then linked
        to ``spaces/<slug>.db`` (which fails if the name is taken, so two processes never
        share a slug) and registered. On any failure nothing is left behind."""
        from studio.core.handlers.common import clean_text  # the handlers: not at start

        name = clean_text(name, "space name")
        base = slugify(name, fallback="space")
        space_id = self.ids()
        self._clear_stale_temporaries()
        for _ in range(MAX_CREATE_ATTEMPTS):
            slug = unique_slug(base, self._slug_taken)
            entry = SpaceEntry(
                id=space_id,
                slug=slug,
                name=name,
                file=str(self.paths.space_db(slug).relative_to(self.paths.home)),
                created_at=self.clock(),
                last_opened_at=None,
            )
            if self._create_as(entry):
                return entry
        raise ConflictError(f"could not find a free file name for the space {name!r}; try again")

    def _slug_taken(self, slug: str) -> bool:
        return (
            self.library.slug_taken(slug)
            or os.path.lexists(self.paths.space_db(slug))
            or os.path.lexists(self.paths.space_media(slug))
        )

    def _create_as(self, entry: SpaceEntry) -> bool:
        """Try to create ``entry``; False when another process took its slug first."""
        final = self.paths.home / entry.file
        media = self.paths.space_media(entry.slug)
        tmp = self.paths.spaces_dir / f".{entry.slug}.{secrets.token_hex(6)}.creating"
        try:
            init_space_file(
                tmp,
                space_id=entry.id,
                slug=entry.slug,
                clock_ms=entry.created_at,
                label=f"the space {entry.name!r}",
            )
            try:
                if not _publish(tmp, final):
                    return False
            finally:
                tmp.unlink(missing_ok=True)
        except OSError as exc:
            raise StorageError(f"could not create the space {entry.name!r}: {exc}") from exc
        try:
            media.mkdir(parents=True, exist_ok=False)
        except FileExistsError:
            final.unlink(missing_ok=True)
            return False
        except OSError as exc:
            final.unlink(missing_ok=True)
            raise StorageError(f"could not create the space {entry.name!r}: {exc}") from exc
        try:
            self.library.add(entry)
        except ConflictError:
            _discard(final, media)
            return False
        except BaseException:
            _discard(final, media)
            raise
        fsync_dir(self.paths.spaces_dir)
        return True

    def rename_space(self, ref: str, name: str) -> SpaceEntry:
        entry = self.resolve(ref)
        from studio.core.handlers.common import clean_text  # the handlers: not at start

        name = clean_text(name, "space name")
        self.library.rename(entry.id, name)
        return entry._replace(name=name)

    def unlisted(self) -> list[str]:
        """Space files and media folders under the data folder that no listed space owns
        (left by a crash, a lost library row or a hand-made copy), relative to home."""
        listed = self.spaces()
        files = {Path(e.file).name for e in listed}
        slugs = {e.slug for e in listed}
        out: list[str] = []
        for folder, keep, want_dir in (
            (self.paths.spaces_dir, files, False),
            (self.paths.media_root, slugs, True),
        ):
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                if e.name.startswith("."):
                    continue
                if (want_dir and e.name not in keep) or (
                    not want_dir and e.name.endswith(".db") and e.name not in keep
                ):
                    out.append(f"{folder.name}/{e.name}")
        return out

    def _clear_stale_temporaries(self) -> None:
        """Remove what a create or restore that died long ago left under a hidden name."""
        now = time.time()
        try:
            entries = list(os.scandir(self.paths.spaces_dir))
        except OSError:
            return
        for e in entries:
            if e.name.startswith(".") and e.name.endswith((".creating", ".restoring")):
                try:
                    if now - e.stat().st_mtime > STALE_TEMP_S:
                        os.unlink(e.path)
                except OSError:
                    pass

    def delete_space(self, ref: str) -> Path:
        """Move the space file and its media to ``trash/`` (recoverable by hand); return
        the trash folder."""
        entry = self.resolve(ref)
        stamp = self.clock()
        dest = self.paths.trash_dir / f"{entry.slug}-{stamp}"
        dest.mkdir(parents=True, exist_ok=False)
        db = self.paths.home / entry.file
        for suffix in ("", "-wal", "-shm", ".lock", ".holders"):
            src = Path(f"{db}{suffix}")
            if src.exists():
                os.replace(src, dest / src.name)
        media = self.paths.space_media(entry.slug)
        if media.exists():
            shutil.move(str(media), str(dest / "media"))
        keeper = self._backups.pop(entry.id, None)
        if keeper is not None:
            keeper.join()
        backups = self.paths.space_backups(entry.slug)
        if backups.exists():
            shutil.move(str(backups), str(dest / "backups"))
        self.library.remove(entry.id)
        self.library.forget_space(entry.id)
        return dest

    @property
    def providers(self) -> ProviderCatalog:
        """The generation providers: the injected catalog, or the one the injected factory
        builds on first use; an empty catalog when this studio was given neither."""
        if self._providers is None:
            factory = self._factory
            if factory is None:
                self._providers = NoProviders()
            elif self._catalog_later:
                self._providers = PendingCatalog(lambda: factory(self.library))
            else:
                self._providers = factory(self.library)
        return self._providers

    def start_catalog(self) -> PendingCatalog | None:
        """With ``catalog_later``: start building the catalog on a thread of its own, and
        return it (pending until then). None when there is no catalog to wait for."""
        catalog = self.providers
        if isinstance(catalog, PendingCatalog):
            catalog.start()
            return catalog
        return None

    def reload_providers(self) -> None:
        """Rebuild the catalog on next use (after keys or provider settings changed); spaces
        opened afterwards get the new one. A ready catalog given at construction stays."""
        if self._factory is not None:
            self._providers = None
            self._catalog_later = False  # (only the first one waits for a first frame)

    def open_space(self, ref: str, *, sweep: bool = True) -> Space:
        """Open a space (and start its backup at open). ``sweep`` False: the caller runs
        ``sweep_leftovers_at_open`` itself, off its UI thread (walking the media folder
        of 20,000 assets took 2.5 s, measured)."""
        entry = self.resolve(ref)
        space = Space.open(
            self.paths.home / entry.file,
            self.paths.space_media(entry.slug),
            space_id=entry.id,
            slug=entry.slug,
            clock=self.clock,
            ids=self.ids,
            providers=self.providers,
        )
        try:
            self.library.touch(entry.id, self.clock())
        except StorageError as exc:  # only "last opened" is lost: reading still works
            log.warning("could not record that %s was opened: %s", entry.slug, exc)
        if space.is_replica:  # its host keeps the backups; a replica is rebuilt from it
            if sweep:
                sweep_leftovers_at_open(space)
            return space
        keeper = self._backups.get(entry.id)
        if keeper is None:
            keeper = self._backups[entry.id] = RollingBackups(
                self.paths.home / entry.file,
                self.paths.space_backups(entry.slug),
                space_id=entry.id,
                clock=self.clock,
            )
        keeper.at_open(space.last_seq())

        def after_commit(event: Event) -> None:
            if event.seq:
                keeper.after_commit(event.seq)

        space.subscribe(after_commit)
        if sweep:
            sweep_leftovers_at_open(space)  # what killed imports and jobs left behind
        return space

    # ------------------------------------------------------------------ backups
    def backups(self, ref: str) -> list[BackupInfo]:
        """A space's rolling backups, newest first."""
        entry = self.resolve(ref)
        try:
            return list_backups(self.paths.space_backups(entry.slug))
        except BackupError as exc:
            raise StorageError(str(exc)) from exc

    def restore_space(self, ref: str, name: str | None = None) -> tuple[BackupInfo, Path | None]:
        """Bring back a backup (the newest, or the one called ``name``). The backup is
        verified first; the current file is moved aside into the backup folder (never
        deleted). Refused while another Forge Studio has the space open. Returns the
        backup used and where the replaced file went (None if there was none)."""
        entry = self.resolve(ref)
        available = self.backups(ref)
        if not available:
            raise NotFoundError(f"the space {entry.slug!r} has no backups yet")
        if name is None:
            chosen = available[0]
        else:
            found = [b for b in available if name in (b.name, b.name.removesuffix(".db"))]
            if not found:
                raise NotFoundError(
                    f"there is no backup {name!r} of {entry.slug!r} "
                    f"(see `studio space restore {entry.slug} --list`)"
                )
            chosen = found[0]
        try:
            verify_backup(chosen.path, entry.id)
        except BackupError as exc:
            raise StorageError(f"cannot restore: {exc}") from exc
        keeper = self._backups.get(entry.id)
        if keeper is not None:
            keeper.join()
        db = self.paths.home / entry.file
        try:
            with _exclusive(db, entry.slug):
                return chosen, self._swap_in(chosen, db)
        except OSError as exc:  # the lock file itself is unusable
            raise StorageError(f"could not restore {entry.slug!r}: {exc}") from exc

    def _swap_in(self, chosen: BackupInfo, db: Path) -> Path | None:
        folder = chosen.path.parent
        tmp = db.with_name(f".{db.stem}.{secrets.token_hex(6)}.restoring")
        aside: Path | None = None
        try:
            shutil.copyfile(chosen.path, tmp)
            _fsync_file(tmp)
            if os.path.lexists(db):
                aside = folder / f"replaced-{_stamp(self.clock())}-{db.name}"
                for suffix in ("-wal", "-shm", ""):  # the log first: never a file without it
                    src = Path(f"{db}{suffix}")
                    if os.path.lexists(src):
                        os.replace(src, Path(f"{aside}{suffix}"))
            os.replace(tmp, db)
            fsync_dir(db.parent)
            fsync_dir(folder)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            where = f"; the previous file is at {aside}" if aside is not None else ""
            raise StorageError(f"could not restore the backup: {exc}{where}") from exc
        return aside


def _stamp(ms: int) -> str:
    import datetime

    stamp = datetime.datetime.fromtimestamp(ms / 1000, tz=datetime.UTC)
    return f"{stamp:%Y%m%dT%H%M%S}{ms % 1000:03d}Z"


def _fsync_file(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextmanager
def _exclusive(db: Path, slug: str) -> Iterator[None]:
    """Make sure no process has the space open, and keep it so while the file is
    swapped: the presence lock ``<file>.lock`` is held exclusively, and no holder lock
    under ``<file>.holders/`` may be alive (each is held exclusively by its opener)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: nothing to ask
        yield
        return
    busy = ConflictError(
        f"the space {slug!r} is open in another Forge Studio; close it there first"
    )
    fd = os.open(f"{db}.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise busy from None
        if live_holders(Path(f"{db}.holders")):  # openers register before they open
            raise busy
        yield
    finally:
        os.close(fd)


def _publish(tmp: Path, final: Path) -> bool:
    """Give the whole file at ``tmp`` the name ``final`` unless that name exists (atomic:
    of two processes racing for one name, exactly one wins). False if it was taken."""
    try:
        os.link(tmp, final)
        return True
    except FileExistsError:
        return False
    except OSError:  # a file system without hard links: reserve the name, then replace
        try:
            fd = os.open(final, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            return False
        os.close(fd)
        try:
            os.replace(tmp, final)
        except BaseException:
            final.unlink(missing_ok=True)
            raise
        return True


def _discard(db: Path, media: Path) -> None:
    """Undo a half-done create (the file was never listed, so nobody has it open)."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    try:
        media.rmdir()
    except OSError:
        pass
