"""A space: one SQLite file and its media folder, changed only through :meth:`Space.apply`."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sqlite3
import threading
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from studio.clock import Clock, IdGenerator, TimeSortedIds, system_clock
from studio.core import history, reads
from studio.core.actor import SYSTEM_ID, Actor
from studio.core.chat_commands import assistant_may_apply
from studio.core.commands import Command, validate_command
from studio.core.errors import (
    ConflictError,
    HistoryMovedError,
    NotFoundError,
    NothingToUndoError,
    PermissionDeniedError,
    StorageError,
    StudioError,
    UndoRaceError,
    ValidationError,
)
from studio.core.events import Event, EventBus, Subscriber
from studio.core.feed import BATCH as FEED_BATCH
from studio.core.feed import Change, ChangeFeed, decode_change
from studio.core.feed import json_column as _json_column
from studio.core.holders import Holders, opening
from studio.core.limits import shown
from studio.core.providers import ProviderCatalog
from studio.core.reads import Reads
from studio.core.space_file import check_media_dir, init_space_file, open_space_file
from studio.core.tx import Tx
from studio.store import records as r
from studio.store.db import Database
from workers.base import CostEstimate

log = logging.getLogger(__name__)

STAGING = ".staging"
"""Work in progress under the media folder: ``.staging/<holder-id>/…``."""


@dataclass(frozen=True, slots=True)
class Applied:
    """What one command did: its change-log position, events, and how to undo it."""

    seq: int
    command: Command
    events: tuple[Event, ...]
    inverse: tuple[Command, ...]
    created: Mapping[str, str]


StepHook = Callable[[Tx, "AppliedStep"], None]
"""Work that commits or rolls back with a step (it runs inside its transaction)."""

MAX_STEP_COMMANDS = 100_000
"""The most commands one step may hold: twice the 50,000 cards a space is built for,
so a select-all's delete, tag or rating is one undoable step, and the undo of an import
of thousands of files (one inverse command a file) is one step too. A LAN peer's
message holds fewer (:data:`studio.sync.wire.MAX_PEER_COMMANDS`)."""


@dataclass(frozen=True, slots=True)
class AppliedStep:
    """What one step did: its commands' results in order, under one step id."""

    step_id: str
    applied: tuple[Applied, ...]

    @property
    def seqs(self) -> tuple[int, ...]:
        return tuple(a.seq for a in self.applied)

    @property
    def events(self) -> tuple[Event, ...]:
        return tuple(e for a in self.applied for e in a.events)

    @property
    def inverse(self) -> tuple[Command, ...]:
        """The commands that undo the whole step: each command's inverse, newest first."""
        return tuple(x for a in reversed(self.applied) for x in a.inverse)

    @property
    def created(self) -> dict[str, str]:
        """Ids the step created (a later command's key wins over an earlier one's)."""
        out: dict[str, str] = {}
        for a in self.applied:
            out.update(a.created)
        return out


def _label(cmds: Sequence[Command]) -> str:
    kinds = list(dict.fromkeys(cmd.kind for cmd in cmds))
    return ", ".join(kinds[:3]) + (", …" if len(kinds) > 3 else "")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """The live (not deleted) state the canvas needs, as of change ``seq``: one row per
    asset and what its card shows, not every variant (a space holds several per asset;
    the others are read on demand: :meth:`Space.variants_of`, :meth:`Space.all_variants`).

    ``variants`` holds each asset's active variant and the variants still being made
    (uploading, pending, processing: a card shows their progress); ``variant_counts``
    every asset's number of live variants (the stack badge) and ``starred`` the ids of
    each asset's starred variants (the card's star), for the assets that have any.
    ``lineage`` holds only links whose both ends are live; severed ones are included
    with ``severed_at`` set so views can choose to hide them.
    """

    seq: int
    assets: list[r.AssetRow]
    variants: list[r.VariantRow]
    lineage: list[r.LineageRow]
    collections: list[r.CollectionRow]
    collection_items: list[r.CollectionItemRow]
    frames: list[r.FrameRow]
    styles: list[r.StylePresetRow]
    queue_paused: bool = False
    variant_counts: Mapping[str, int] = field(default_factory=dict)
    starred: Mapping[str, frozenset[str]] = field(default_factory=dict)


class StarredIds(Mapping[str, frozenset[str]]):
    """Asset id -> its starred variants' ids, kept as the space-separated text the read
    gave and split when asked: the canvas copies them into sets of its own
    (:meth:`id_lists`), so a frozenset an asset made here (50,000 of them: ~50 ms of a
    big space's snapshot) was only thrown away."""

    __slots__ = ("text",)

    def __init__(self, text: dict[str, str]) -> None:
        self.text = text
        """Asset id -> its starred ids, space-separated (a consumer that frees a big
        snapshot in slices empties it)."""

    def __getitem__(self, asset_id: str) -> frozenset[str]:
        return frozenset(self.text[asset_id].split())

    def __iter__(self) -> Iterator[str]:
        return iter(self.text)

    def __len__(self) -> int:
        return len(self.text)

    def id_lists(self) -> Iterator[tuple[str, list[str]]]:
        """``(asset id, [variant id, …])`` pairs, without making a set each."""
        return ((aid, text.split()) for aid, text in self.text.items())


def _counts(
    conn: sqlite3.Connection, live: Mapping[str, str | None]
) -> tuple[dict[str, int], StarredIds, list[str]]:
    """Per live asset (``live``: id -> active variant id): its variants' count, its
    starred variants' ids; and the ids of the busy variants that are not active."""
    counts: dict[str, int] = {}
    starred: dict[str, str] = {}
    busy: list[str] = []
    pause = reads.GilPause()  # (read beside the window opening the space)
    for aid, n, stars, making in pause.each(conn.execute(SNAPSHOT_COUNTS_SQL)):
        if aid not in live:
            continue
        counts[aid] = n
        if stars:
            starred[aid] = stars
        if making:
            busy += [vid for vid in making.split() if vid != live[aid]]
    return counts, StarredIds(starred), busy


def _handlers() -> Mapping[type, Any]:
    """The command handlers, imported at the first command (opening a space and reading
    it need none: not on the app's start path)."""
    from studio.core.handlers import HANDLERS

    return HANDLERS


def _prefixed(alias: str, columns: str) -> str:
    return ", ".join(f"{alias}.{c.strip()}" for c in columns.split(","))


# In the order they were made (the canvas stacks cards so): said, never left to the plan —
# the partial index on (y, x) of live assets would hand them over by place.
SNAPSHOT_ASSETS_SQL = (
    f"SELECT {r.ASSET_COLUMNS} FROM assets WHERE deleted_at IS NULL ORDER BY rowid"
)
LIVE_VARIANTS_SQL = (
    f"SELECT {_prefixed('v', r.VARIANT_COLUMNS)} "
    "FROM variants v JOIN assets a ON a.id = v.asset_id "
    "WHERE v.deleted_at IS NULL AND a.deleted_at IS NULL ORDER BY v.rowid"
)
BUSY_STATUSES = ("uploading", "pending", "processing")
"""A variant being made: its card shows it (progress) even when it is not the active one."""
SNAPSHOT_VARIANTS_SQL = (
    f"SELECT {_prefixed('v', r.VARIANT_COLUMNS)} "
    "FROM assets a JOIN variants v ON v.id = a.active_variant_id "
    "WHERE a.deleted_at IS NULL AND v.deleted_at IS NULL ORDER BY a.rowid"
)
"""What the cards show: each live asset's active variant."""
SNAPSHOT_COUNTS_SQL = (
    "SELECT asset_id, COUNT(*), GROUP_CONCAT(CASE WHEN starred THEN id END, ' '), "
    f"GROUP_CONCAT(CASE WHEN status IN ({', '.join(repr(s) for s in BUSY_STATUSES)}) "
    "THEN id END, ' ') FROM variants WHERE deleted_at IS NULL GROUP BY asset_id"
)
"""One pass over the live variants; per asset (deleted ones too: the reader drops them):
the count, the starred variants' ids and the busy ones' (space-separated)."""


class Space:
    """One open space. Thread-safe: one writer connection, serialised by the database
    lock, and a read connection per reading thread that never takes that lock (see
    :meth:`Database.read`). Typed reads: the methods below and :attr:`read`."""

    def __init__(
        self,
        db: Database,
        media_dir: Path,
        *,
        space_id: str,
        slug: str,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        providers: ProviderCatalog | None = None,
        holders: Holders | None = None,
    ) -> None:
        self._db = db
        self.read = Reads(db)
        """The read API (:mod:`studio.core.reads`), on read connections."""
        self.providers = providers
        self.media_dir = media_dir
        self.id = space_id
        self.slug = slug
        self._clock = clock
        self._ids: IdGenerator = ids or TimeSortedIds(clock)
        self._bus = EventBus()
        # committed events wait here (appended under the write lock, so in seq order)
        # until :meth:`_deliver` publishes them, after the write lock is released
        self._outbox: deque[list[Event]] = deque()
        self._delivering = threading.Lock()
        self._delivery = threading.local()  # .active: this thread is publishing
        db.lock.after_release = self._deliver  # whatever path committed them
        if holders is None:
            holders = Holders(Path(f"{db.path}.holders") if db.path else None)
        self._holders = holders
        self._place_hints: dict[Any, Any] = {}  # see handlers.assets.free_place
        self._identity = _identity(db.path)
        self._staging_made = False

    # ------------------------------------------------------------------ lifecycle
    @classmethod
    def open(
        cls,
        path: Path,
        media_dir: Path,
        *,
        space_id: str,
        slug: str,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        providers: ProviderCatalog | None = None,
    ) -> Space:
        """Open an existing space file. Never creates one (only :meth:`create` does):
        a missing, empty, foreign, damaged or other space's file is refused with one
        clear :class:`StorageError` and left byte for byte as it was."""
        if not os.path.lexists(path):  # refused below; leave no lock files beside it
            open_space_file(path, media_dir, space_id=space_id, slug=slug, clock_ms=clock())
        # Become a holder before the file is opened, with the open guarded against a
        # restore swapping the file (see studio.core.holders): a restore then either
        # sees this holder and refuses, or is done before the file is opened. The
        # identity is taken before opening too: should the file still be swapped (no
        # locks here), this space counts as moved away and refuses to write.
        holders = Holders(Path(f"{path}.holders"))
        try:
            with opening(path, slug):
                identity = _identity(path)
                db = open_space_file(
                    path, media_dir, space_id=space_id, slug=slug, clock_ms=clock()
                )
        except BaseException:
            holders.release()
            raise
        space = cls(
            db,
            media_dir,
            space_id=space_id,
            slug=slug,
            clock=clock,
            ids=ids,
            providers=providers,
            holders=holders,
        )
        space._identity = identity
        return space

    @classmethod
    def create(
        cls,
        path: Path,
        media_dir: Path,
        *,
        space_id: str,
        slug: str,
        clock: Clock = system_clock,
        ids: IdGenerator | None = None,
        providers: ProviderCatalog | None = None,
    ) -> Space:
        """Create a new space file at ``path`` (which must not exist yet) and open it."""
        check_media_dir(media_dir)
        init_space_file(path, space_id=space_id, slug=slug, clock_ms=clock())
        return cls.open(
            path,
            media_dir,
            space_id=space_id,
            slug=slug,
            clock=clock,
            ids=ids,
            providers=providers,
        )

    def close(self) -> None:
        try:
            self._db.close()
        finally:
            with contextlib.suppress(OSError):  # tidy: only if empty (nothing left running)
                (self.media_dir / STAGING / self.holder_id).rmdir()
            self._holders.release()

    # ------------------------------------------------------------------ ownership
    @property
    def file_path(self) -> Path | None:
        """The space file (None for an in-memory space)."""
        return self._db.path

    @property
    def is_replica(self) -> bool:
        """A peer's copy of a space shared by a host: changed only by the host's steps,
        its media fetched on demand (``studio fetch``), so a file may not be here yet."""
        return self._db.writes_refused is not None

    @property
    def holder_id(self) -> str:
        """This open space's holder id: the owner recorded on work it starts (a job's
        lease, an upload, its staging folder). See :mod:`studio.core.holders`."""
        return self._holders.id

    def holder_alive(self, holder: str | None) -> bool | None:
        """Is ``holder`` (a recorded owner) a live holder of this space? None when that
        can't be known on this system."""
        return self._holders.alive(holder)

    def alone(self) -> bool | None:
        """True when no other holder has this space open; None where that can't be
        known. Checking never weakens this holder's own lock."""
        return self._holders.alone()

    def staging_dir(self) -> Path:
        """This holder's own staging folder, ``<media>/.staging/<holder-id>/``, created
        on demand. Only this holder writes or deletes in it; recovery removes it only
        once the holder is dead. The media folder itself is never created here: a
        space deleted while open stays deleted (raises StorageError)."""
        self.ensure_present()
        path = self.media_dir / STAGING / self.holder_id
        if self._staging_made:
            return path
        try:
            (self.media_dir / STAGING).mkdir(exist_ok=True)
            path.mkdir(exist_ok=True)
            # once a process: what is staged here must not vanish with its folders
            from studio.media.files import fsync_dir  # not on the open path

            fsync_dir(self.media_dir / STAGING)
            fsync_dir(self.media_dir)
            self._staging_made = True
        except FileNotFoundError:
            raise self._gone_error() from None
        except OSError as exc:
            raise StorageError(f"could not make a staging folder: {exc.strerror or exc}") from exc
        return path

    def gone(self) -> bool:
        """Was the space file deleted or moved away (e.g. to the trash) since it was
        opened here?"""
        if self._identity is None:
            return False
        return _identity(self._db.path) != self._identity

    def ensure_present(self) -> None:
        if self.gone():
            raise self._gone_error()

    def _gone_error(self) -> StorageError:
        return StorageError(f"the space {self.slug} was deleted or moved while it was open")

    def __enter__(self) -> Space:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def clock(self) -> Clock:
        return self._clock

    def new_id(self) -> str:
        return self._ids()

    # ------------------------------------------------------------------ the door
    def subscribe(self, fn: Subscriber) -> Callable[[], None]:
        """Receive every event of this process's commits, in seq order, once the write
        lock is released. Returns an unsubscribe. (Changes made by other processes:
        :meth:`feed`.)"""
        return self._bus.subscribe(fn)

    def apply(self, cmd: Command, actor: Actor, *, record: bool = True) -> Applied:
        """Validate, check the role, write in one transaction, log, publish: a step of
        one command (see :meth:`apply_step`)."""
        return self.apply_step([cmd], actor, record=record).applied[0]

    def apply_step(
        self,
        cmds: Sequence[Command],
        actor: Actor,
        *,
        label: str = "",
        record: bool = True,
        then: StepHook | None = None,
    ) -> AppliedStep:
        """Apply one or more commands as ONE step: one transaction, all or nothing (a
        failing command leaves the space, its media and the change log as they were),
        one step id shared by their consecutive change-log rows, one combined inverse,
        recorded in ``actor``'s undo history (which clears its redo list) unless
        ``record`` is False (the caller records a larger unit with :meth:`remember`).
        ``then`` runs inside the step's transaction, after its commands: bookkeeping
        that commits or rolls back with the step (a LAN peer's mutation id)."""
        return self._step(cmds, actor, label=label, record=record, then=then)

    def remember(self, actor: Actor, undo: Sequence[Command], label: str) -> None:
        """Record, as one entry of ``actor``'s undo history, work already applied in
        several steps (an import): undoing it applies ``undo``."""
        if not undo or actor.is_system:
            return
        for cmd in undo:
            validate_command(cmd)
        with self._db.write() as conn:
            now = self._clock()
            history.record(
                conn,
                actor_id=actor.id,
                step_id=self._ids(),
                label=label,
                cmds=(),
                undo=undo,
                now=now,
            )

    def _step(
        self,
        cmds: Sequence[Command],
        actor: Actor,
        *,
        label: str = "",
        record: bool,
        then: Callable[[Tx, AppliedStep], None] | None = None,
    ) -> AppliedStep:
        cmds = list(cmds)
        if not cmds:
            raise ValidationError("a step needs at least one command")
        if len(cmds) > MAX_STEP_COMMANDS:
            raise ValidationError(
                f"a step has {len(cmds)} commands; the limit is {MAX_STEP_COMMANDS}"
            )
        if not actor.role.can_edit:
            raise PermissionDeniedError(f"{shown(str(actor.name))} can only view this space")
        todo: list[tuple[Command, Any, dict[str, Any]]] = []
        for cmd in cmds:
            handler = _handlers().get(type(cmd))
            if handler is None:
                raise NotFoundError(f"no handler for {type(cmd).__name__}")
            if cmd.internal and not actor.is_system:
                raise PermissionDeniedError(f"{cmd.kind} is applied by Forge Studio itself")
            if actor.is_assistant and not assistant_may_apply(cmd):
                raise PermissionDeniedError(
                    f"the assistant can only propose {cmd.kind}: a person approves it"
                )
            # every field within limits before the write lock
            todo.append((cmd, handler, validate_command(cmd)))
        with self._db.lock:
            self.ensure_present()  # never write into a space that went to the trash
            now = self._clock()
            step_id = self._ids()
            hooks: list[Callable[[], None]] = []
            later: list[Callable[[], None]] = []
            done: list[Applied] = []
            current: Command = cmds[0]
            try:
                with self._db.write():
                    for cmd, handler, payload in todo:
                        current = cmd
                        tx = Tx(
                            conn=self._db.conn,
                            actor=actor,
                            now=now,
                            new_id=self._ids,
                            media_dir=self.media_dir,
                            providers=self.providers,
                            holders=self._holders,
                            rollback_hooks=hooks,
                            commit_hooks=later,
                            place_hints=self._place_hints,
                        )
                        inverse = handler(tx, cmd)
                        seq = self._log(tx, cmd, payload, step_id)
                        events = tuple(Event(e.type, e.data, seq) for e in tx.events)
                        done.append(Applied(seq, cmd, events, inverse, dict(tx.created)))
                    step = AppliedStep(step_id, tuple(done))
                    if record and not actor.is_system and step.inverse:
                        history.record(
                            self._db.conn,
                            actor_id=actor.id,
                            step_id=step_id,
                            label=label or _label(cmds),
                            cmds=cmds,
                            undo=step.inverse,
                            now=now,
                        )
                    if then is not None:
                        then(tx, step)
            except BaseException as exc:
                for hook in reversed(hooks):
                    try:
                        hook()
                    except Exception:
                        log.exception("rollback hook failed")
                if isinstance(exc, StudioError):
                    raise
                if isinstance(exc, sqlite3.IntegrityError):
                    raise ConflictError(f"{current.kind} conflicts with the space: {exc}") from exc
                if isinstance(exc, sqlite3.Error | OSError):
                    raise StorageError(f"could not write the space: {exc}") from exc
                raise
            self._publish_later(list(step.events))
        for hook in later:  # committed: past the lock, so other writers go on meanwhile
            try:
                hook()
            except Exception:
                log.exception("after-commit hook failed")
        return step

    # ------------------------------------------------------------------ undo / redo
    def undo(
        self, actor: Actor, *, expect: int | None = None, then: StepHook | None = None
    ) -> AppliedStep:
        """Undo ``actor``'s latest step that still stands, as a new step (its inverse
        becomes the redo). Nothing to undo: :class:`NothingToUndoError`. A step whose
        inverse fails because someone changed the same thing later stays in the
        history, marked as no longer undoable with the reason, and this raises
        :class:`ConflictError` saying why. ``expect``: the history entry the caller
        shows as the next undo (a view such as the app's undo stack); when the history
        moved on elsewhere, :class:`HistoryMovedError` and nothing changes. ``then``: as
        for :meth:`apply_step`."""
        return self._travel(actor, undo=True, expect=expect, then=then)

    def redo(
        self, actor: Actor, *, expect: int | None = None, then: StepHook | None = None
    ) -> AppliedStep:
        """Redo ``actor``'s most recently undone step, as a new step (``then``: as for
        :meth:`undo`)."""
        return self._travel(actor, undo=False, expect=expect, then=then)

    def undo_history(self, actor: Actor, limit: int = 100) -> list[history.HistoryEntry]:
        """``actor``'s undo history, oldest first."""
        with self._db.read() as conn:
            return history.entries(conn, actor.id, limit)

    def history_marks(self, actor: Actor, limit: int = 100) -> list[tuple[int, str]]:
        """The ids and states of ``actor``'s last ``limit`` history entries, oldest
        first (cheap: no commands decoded)."""
        with self._db.read() as conn:
            return history.marks(conn, actor.id, limit)

    def _travel(
        self, actor: Actor, *, undo: bool, expect: int | None, then: StepHook | None
    ) -> AppliedStep:
        word = "undo" if undo else "redo"
        if not actor.role.can_edit or actor.is_assistant:
            raise PermissionDeniedError(f"{shown(str(actor.name))} can only view this space")
        with self._db.lock:
            with self._db.read() as conn:
                entry = (
                    history.next_undo(conn, actor.id) if undo else history.next_redo(conn, actor.id)
                )
            if entry is None:
                raise NothingToUndoError(f"there is nothing to {word} for {shown(actor.name)}")
            if expect is not None and entry.id != expect:
                raise HistoryMovedError(
                    f"your undo history changed elsewhere (another window or the command "
                    f"line); nothing was {word}ne"
                )
            cmds = entry.undo if undo else entry.redo
            with self._db.read() as conn:
                other = history.changed_since_by_others(conn, entry.step_id, actor.id, SYSTEM_ID)
            if other is not None:  # the undo would overwrite their later change unseen
                who, _at = other
                why = f"can no longer be {word}ne: {shown(who)} changed the same thing after it"
                with self._db.write() as conn:
                    history.mark_stuck(conn, entry.id, why, self._clock())
                raise ConflictError(f"{entry.label or 'the last step'} {why}")

            def mark(tx: Tx, step: AppliedStep) -> None:
                # the entry must still be the one we read (another process may have won)
                state = tx.scalar("SELECT state FROM history WHERE id = ?", (entry.id,))
                if state != (history.DONE if undo else history.UNDONE):
                    raise UndoRaceError(f"that step was already {word}ne elsewhere; try again")
                if undo:
                    history.mark_undone(tx.conn, entry.id, step.step_id, step.inverse, tx.now)
                else:
                    history.mark_redone(tx.conn, entry.id, step.step_id, step.inverse, tx.now)
                if then is not None:
                    then(tx, step)

            try:
                return self._step(cmds, actor, label=entry.label, record=False, then=mark)
            except (StorageError, UndoRaceError):
                raise
            except StudioError as exc:
                why = f"can no longer be {word}ne: {exc.message}"
                with self._db.write() as conn:
                    history.mark_stuck(conn, entry.id, why, self._clock())
                raise ConflictError(f"{entry.label or 'the last step'} {why}") from exc

    def _publish_later(self, events: list[Event]) -> None:
        """Queue a commit's events (call under the write lock, right after the commit, so
        the queue is in seq order); they are published once the lock is released."""
        self._outbox.append(events)
        self._delivery.owed = True

    def _deliver(self) -> None:
        """Publish committed events, in seq order, once the write lock is released (a
        slow subscriber never holds up a writer): called each time a thread's outermost
        hold of the lock ends. Whoever delivers takes every waiting batch, so when
        :meth:`apply` returns its own events have been published. A subscriber that
        reads or writes the space meanwhile does not publish from inside its call: the
        loop it runs in takes the new batches next, in order."""
        mine = self._delivery
        if getattr(mine, "active", False):
            return
        owed = getattr(mine, "owed", False)  # this thread committed events
        if not (owed or self._outbox):
            return
        # a thread with events of its own waits for a publisher at work (had it taken
        # them, they are out once it lets go); any other leaves the work to it
        if not self._delivering.acquire(blocking=owed):
            return
        mine.owed = False
        mine.active = True
        try:
            while self._outbox:
                try:
                    batch = self._outbox.popleft()
                except IndexError:  # another thread took it
                    return
                self._bus.publish(batch)
        finally:
            mine.active = False
            self._delivering.release()

    def estimate(self, cmd: Command) -> CostEstimate:
        """The estimated cost of a generation request, validated exactly as :meth:`apply`
        would, without writing anything."""
        validate_command(cmd)
        with self._db.snapshot() as conn:  # a reader: never waits for the writer
            tx = Tx(
                conn=conn,
                actor=Actor.system(),
                now=self._clock(),
                new_id=self._ids,
                media_dir=self.media_dir,
                providers=self.providers,
            )
            from studio.core.handlers.generate import estimate

            return estimate(tx, cmd)

    def feed(self, since: int | None = None, *, batch: int = FEED_BATCH) -> ChangeFeed:
        """A follower of this space's change log on its own read connection: it sees
        every committed change, from this process or any other, after ``since``
        (default: the newest change now, read on the feed's connection: opening one never
        waits for the write lock). The caller closes it."""
        if self._db.path is None:
            raise StorageError("an in-memory space has no change feed")
        frozen = self._db.read_only_reason is not None
        return ChangeFeed(self._db.path, since, batch=batch, frozen=frozen)

    def publish_transient(self, event: Event) -> None:
        """Publish an event that changes nothing stored (``job:progress``): not logged,
        no seq."""
        self._bus.publish([event])

    def renew_leases(self, job_ids: list[str], worker_id: str, until_ms: int) -> None:
        """Extend the leases of running jobs this worker holds. Bookkeeping only: no
        command, no change-log entry, no event."""
        self.ensure_present()
        with self._db.write() as conn:
            conn.executemany(
                "UPDATE jobs SET lease_expires_at = ? "
                "WHERE id = ? AND lease_owner = ? AND status = 'running'",
                [(until_ms, jid, worker_id) for jid in job_ids],
            )

    def _log(self, tx: Tx, cmd: Command, payload: dict[str, Any], step_id: str) -> int:
        cur = tx.conn.execute(
            "INSERT INTO changes "
            "(at, actor_id, actor_name, actor_role, command, payload, events, step_id) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                tx.now,
                tx.actor.id,
                tx.actor.name,
                tx.actor.role.value,
                cmd.kind,
                json.dumps(payload, ensure_ascii=False),
                json.dumps([{"type": e.type, "data": e.data} for e in tx.events]),
                step_id,
            ),
        )
        assert cur.lastrowid is not None
        return cur.lastrowid

    # ------------------------------------------------------------------ reading
    def snapshot(self) -> Snapshot:
        """Everything the canvas needs, read in one consistent transaction."""
        with self._db.snapshot() as conn:
            seq = conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0]
            assets = r.rows_of(r.AssetRow, conn.execute(SNAPSHOT_ASSETS_SQL))
            variants = r.rows_of(r.VariantRow, conn.execute(SNAPSHOT_VARIANTS_SQL))
            counts, starred, busy = _counts(conn, {a.id: a.active_variant_id for a in assets})
            variants += reads.variant_rows(conn, busy)
            lineage = reads.live_links(conn)
            collections = r.rows_of(
                r.CollectionRow,
                conn.execute(
                    f"SELECT {r.COLLECTION_COLUMNS} FROM collections "
                    "WHERE deleted_at IS NULL ORDER BY position"
                ),
            )
            items = r.rows_of(
                r.CollectionItemRow,
                conn.execute(
                    f"SELECT {r.COLLECTION_ITEM_COLUMNS} FROM collection_items "
                    "ORDER BY collection_id, position"
                ),
            )
            frames = r.rows_of(
                r.FrameRow,
                conn.execute(f"SELECT {r.FRAME_COLUMNS} FROM frames WHERE deleted_at IS NULL"),
            )
            styles = reads.style_presets(conn)
            paused = reads.queue_paused(conn)
        return Snapshot(
            seq,
            assets,
            variants,
            lineage,
            collections,
            items,
            frames,
            styles,
            paused,
            counts,
            starred,
        )

    def all_variants(self) -> list[r.VariantRow]:
        """Every live variant of every live asset (exports, fetching media, tools: what
        the canvas's snapshot leaves out)."""
        with self._db.read() as conn:
            return r.rows_of(r.VariantRow, conn.execute(LIVE_VARIANTS_SQL))

    def asset(self, asset_id: str) -> r.AssetRow:
        with self._db.read() as conn:
            raw = conn.execute(
                f"SELECT {r.ASSET_COLUMNS} FROM assets WHERE id = ? AND deleted_at IS NULL",
                (asset_id,),
            ).fetchone()
        if raw is None:
            raise NotFoundError(f"there is no asset {asset_id}")
        return r.AssetRow._make(raw)

    def variants_of(self, asset_id: str) -> list[r.VariantRow]:
        with self._db.read() as conn:
            return r.rows_of(
                r.VariantRow,
                conn.execute(
                    f"SELECT {r.VARIANT_COLUMNS} FROM variants "
                    "WHERE asset_id = ? AND deleted_at IS NULL ORDER BY created_at, id",
                    (asset_id,),
                ),
            )

    def variant_detail(self, variant_id: str) -> r.VariantDetail:
        """One variant with its recipe, provenance and provider metadata (parsed lazily)."""
        with self._db.read() as conn:
            raw = conn.execute(
                f"SELECT {r.VARIANT_COLUMNS}, size_bytes, sha256, original_name, recipe, "
                "generation_provenance, provider_metadata, created_by, deleted_at "
                "FROM variants WHERE id = ?",
                (variant_id,),
            ).fetchone()
        if raw is None:
            raise NotFoundError(f"there is no variant {variant_id}")
        n = len(r.VariantRow._fields)
        size, sha, original, recipe, prov, meta, by, deleted = raw[n:]
        return r.VariantDetail(
            r.VariantRow._make(raw[:n]),
            size,
            sha,
            original,
            _json_column(recipe, f"variant {variant_id} recipe"),
            _json_column(prov, f"variant {variant_id} generation_provenance"),
            _json_column(meta, f"variant {variant_id} provider_metadata"),
            by,
            deleted,
        )

    def lineage_of(self, variant_id: str) -> list[r.LineageRow]:
        """Links into and out of a variant (severed ones included, flagged)."""
        with self._db.read() as conn:
            return r.rows_of(
                r.LineageRow,
                conn.execute(
                    f"SELECT {r.LINEAGE_COLUMNS} FROM lineage "
                    "WHERE parent_variant_id = ? OR child_variant_id = ? ORDER BY created_at",
                    (variant_id, variant_id),
                ),
            )

    def jobs(self, *, active_only: bool = False, limit: int = 500) -> list[r.JobRow]:
        """Jobs, newest first (``active_only``: queued and running)."""
        where = "WHERE status IN ('queued', 'running')" if active_only else ""
        with self._db.read() as conn:
            return r.rows_of(
                r.JobRow,
                conn.execute(
                    f"SELECT {r.JOB_COLUMNS} FROM jobs {where} "
                    "ORDER BY created_at DESC, id DESC LIMIT ?",
                    (limit,),
                ),
            )

    def collections(self) -> list[r.CollectionRow]:
        """The live collections, in their order."""
        with self._db.read() as conn:
            return r.rows_of(
                r.CollectionRow,
                conn.execute(
                    f"SELECT {r.COLLECTION_COLUMNS} FROM collections "
                    "WHERE deleted_at IS NULL ORDER BY position, created_at"
                ),
            )

    def collection_items(self, collection_id: str) -> list[r.CollectionItemRow]:
        """One collection's items, in order."""
        with self._db.read() as conn:
            return r.rows_of(
                r.CollectionItemRow,
                conn.execute(
                    f"SELECT {r.COLLECTION_ITEM_COLUMNS} FROM collection_items "
                    "WHERE collection_id = ? ORDER BY position",
                    (collection_id,),
                ),
            )

    def queue_paused(self) -> bool:
        return self.read.queue_paused()

    def last_seq(self) -> int:
        with self._db.read() as conn:
            return int(conn.execute("SELECT COALESCE(MAX(seq), 0) FROM changes").fetchone()[0])

    def changes(self, since: int = 0, limit: int | None = None) -> Iterator[Change]:
        """The change log after ``since``, oldest first, in whole steps: when ``limit``
        cuts a step, the rest of that step comes too (a follower never sees half)."""
        cols = "seq, at, actor_id, actor_name, actor_role, command, payload, events, step_id"
        with self._db.snapshot() as conn:
            rows = conn.execute(
                f"SELECT {cols} FROM changes WHERE seq > ? ORDER BY seq LIMIT ?",
                (since, -1 if limit is None else limit),
            ).fetchall()
            if limit is not None and rows and rows[-1][8] is not None:
                rows += conn.execute(
                    f"SELECT {cols} FROM changes WHERE seq > ? AND step_id = ? ORDER BY seq",
                    (rows[-1][0], rows[-1][8]),
                ).fetchall()
        for raw in rows:
            yield decode_change(raw)

    @contextlib.contextmanager
    def reading(self) -> Iterator[sqlite3.Connection]:
        """A connection to read on (see :meth:`Database.read`), for the core's own
        reports (``studio check``, sweeps). SQL stays in ``studio/core`` and
        ``studio/store``: views, jobs and the CLI use :attr:`read`."""
        with self._db.read() as conn:
            yield conn


def _identity(path: Path | None) -> tuple[int, int] | None:
    """(device, inode) of the space file; None if it is not there (or in memory)."""
    if path is None:
        return None
    try:
        st = os.stat(path)
    except OSError:
        return (-1, -1)
    return (st.st_dev, st.st_ino)
