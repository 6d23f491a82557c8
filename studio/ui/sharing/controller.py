"""Sharing in the window: hosting spaces (Share…, People, the status bar), joined
spaces kept live while open (the connection banner, the user's steps sent to the host
or kept while offline), and Join….

The network runs in :class:`~studio.ui.sharing.engine.SharingEngine`'s thread; every
result comes back here as a queued signal, so the UI thread never waits on a socket
(and no dialog is shown inside a coroutine). The engine starts on first use: with
sharing off the app listens on nothing."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Coroutine, Mapping, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QLabel

from studio.core import settings
from studio.core.commands import Command, command_to_json
from studio.core.errors import StudioError, ValidationError
from studio.core.limits import check_id
from studio.core.space import Space
from studio.core.studio import Studio
from studio.providers_setup import build_cached_providers
from studio.sync.link import LinkState, Sent
from studio.sync.wire import check_step
from studio.ui.sharing import viewer_controls
from studio.ui.sharing.banner import ConnectionBanner
from studio.ui.sharing.engine import Person, ShareInfo, SharingEngine, remotes
from studio.ui.sharing.optimistic import Optimistic
from studio.ui.sharing.originals import Originals
from studio.ui.sharing.others import OthersWatch
from studio.ui.sharing.pending import PendingView
from studio.ui.sharing.presence_view import PresenceIn, PresenceOut
from studio.ui.sharing.remote_undo import RemoteStep

if TYPE_CHECKING:
    from studio.ui.main_window import MainWindow

log = logging.getLogger(__name__)

PEOPLE_EVERY_MS = 1000
MAX_REVEAL = 64
"""At most this many of a step's new cards are brought into sight (a batch's are few)."""
VIEWER_REASON = "you are a viewer of this shared space: its host lets you look, not change"


def left_shared(studio: Studio) -> dict[str, Any]:
    """{space id: port} of the spaces the owner left shared (resumed at start)."""
    raw = settings.get(studio.library, settings.SHARED_SPACES)
    try:
        value = json.loads(raw) if isinstance(raw, str) else raw
    except ValueError:
        value = None
    return dict(value) if isinstance(value, dict) else {}


def keep_shared(studio: Studio, value: dict[str, Any]) -> None:
    settings.remember(studio.library, settings.SHARED_SPACES, json.dumps(value))


class _Relay(QObject):
    """Carries a result from the engine's thread to a callback on the UI thread."""

    ready = Signal(object, object)


class SharingController(QObject):
    changed = Signal()
    """Hosting started or stopped, or the people of a shared space changed."""
    link_changed = Signal(object)  # LinkState of the open joined space

    def __init__(self, window: MainWindow, *, bind: str = "0.0.0.0") -> None:
        super().__init__(window)
        self.bind = bind
        self._engine: SharingEngine | None = None
        self._relay = _Relay(self)
        self._relay.ready.connect(self._deliver)
        self.shared: dict[str, ShareInfo] = {}
        self.people: dict[str, list[Person]] = {}
        self.linked: str | None = None  # the open joined space's slug
        self.link_state: LinkState | None = None
        self.remotes: dict[str, str] = {}
        self.roles: dict[str, str] = {}  # joined space slug -> this device's role there
        self.read_only: str | None = None
        """Why the open joined space cannot be changed from here (a viewer), or None."""
        self.banner = ConnectionBanner()
        self.status_label = QLabel()
        self.status_label.setObjectName("sharingStatus")
        window.statusBar().addPermanentWidget(self.status_label)
        self.status_label.hide()
        self.presence = PresenceOut(self)
        self.presence_in = PresenceIn(self)  # the others' avatars on cards and in details
        self.others = OthersWatch(self)  # "Mira renamed this"
        self.pending = PendingView(self)  # clocks on waiting edits; refusals put back
        self.optimistic = Optimistic(self)  # one's own unanswered edits shown at once
        self.originals = Originals(self)  # fetched when first shown (later if offline)
        self.changed.connect(self.presence_in.people_changed)
        self._poll = QTimer(self, interval=PEOPLE_EVERY_MS)
        self._poll.timeout.connect(self.refresh_people)
        self.reload_remotes()

    @property
    def win(self) -> MainWindow:
        return cast("MainWindow", self.parent())

    @property
    def engine(self) -> SharingEngine:
        if self._engine is None:
            self._engine = SharingEngine(
                self.win.studio.paths.home, bind=self.bind, providers=build_cached_providers
            )
        return self._engine

    def close(self) -> None:
        self._poll.stop()
        engine, self._engine = self._engine, None
        if engine is not None:
            engine.close()

    # ------------------------------------------------------------------ plumbing
    def run(
        self,
        coro: Coroutine[Any, Any, Any],
        done: Callable[[Any], None],
        failed: Callable[[Exception], None] | None = None,
    ) -> Future[Any]:
        fut = self.engine.call(coro)

        def finished(f: Future[Any]) -> None:
            exc = f.exception()
            if exc is not None:
                self._relay.ready.emit(failed or self._failed, exc)
            else:
                self._relay.ready.emit(done, f.result())

        fut.add_done_callback(finished)
        return fut

    def _deliver(self, callback: Callable[[Any], None], value: Any) -> None:
        callback(value)

    def _failed(self, exc: Exception) -> None:
        message = exc.message if isinstance(exc, StudioError) else str(exc) or type(exc).__name__
        self.win.show_error(message)

    def post(self, callback: Callable[[Any], None]) -> Callable[[Any], None]:
        """A function the engine's thread may call: ``callback`` runs on the UI thread."""
        return lambda value: self._relay.ready.emit(callback, value)

    # ------------------------------------------------------------------ hosting
    def share(self, space_id: str, done: Callable[[ShareInfo], None] | None = None) -> None:
        port = int(left_shared(self.win.studio).get(space_id, 0))

        def started(info: ShareInfo) -> None:
            self.shared[space_id] = info
            kept = left_shared(self.win.studio)
            kept[space_id] = int(info.address.rpartition(":")[2])
            keep_shared(self.win.studio, kept)
            self._poll.start()
            self._update_status()
            self.refresh_people()
            self.changed.emit()
            self.presence.resend()
            if done is not None:
                done(info)

        self.run(self.engine.share(space_id, port), started)

    def stop_sharing(self, space_id: str) -> None:
        def stopped(_none: object) -> None:
            self.shared.pop(space_id, None)
            self.people.pop(space_id, None)
            kept = left_shared(self.win.studio)
            kept.pop(space_id, None)
            keep_shared(self.win.studio, kept)
            if not self.shared:
                self._poll.stop()
            self._update_status()
            self.changed.emit()

        self.run(self.engine.stop_sharing(space_id), stopped)

    def resume(self) -> None:
        """Share again what the owner left shared (and only that)."""
        known = {e.id for e in self.win.studio.spaces()}
        for space_id in left_shared(self.win.studio):
            if space_id in known:
                self.share(space_id)

    def refresh_people(self) -> None:
        for space_id in list(self.shared):

            def got(people: list[Person], space_id: str = space_id) -> None:
                if space_id in self.shared and people != self.people.get(space_id):
                    self.people[space_id] = people
                    self.changed.emit()
                self._update_status()

            self.run(self.engine.people(space_id), got, lambda _exc: None)

    def _update_status(self) -> None:
        if not self.shared:
            self.status_label.hide()
            return
        online = sum(p.online for people in self.people.values() for p in people)
        self.status_label.setText(f"Sharing · {online} {'person' if online == 1 else 'people'}")
        self.status_label.show()

    # ------------------------------------------------------------------ joined spaces
    def reload_remotes(self) -> None:
        try:
            joined = remotes(self.win.studio)
        except StudioError as exc:
            log.warning("could not read the joined spaces: %s", exc)
            joined = {}
        self.remotes = {slug: where for slug, (where, _role) in joined.items()}
        self.roles = {slug: role for slug, (_where, role) in joined.items()}

    def describe(self, slug: str) -> str:
        """What the spaces list adds to a joined space's line."""
        where = self.remotes.get(slug)
        if where is None:
            return ""
        if slug == self.linked and self.link_state is not None:
            state = {"live": "connected", "offline": "offline", "ended": "disconnected"}
            return f"remote · {where} · {state.get(self.link_state.state, 'connecting')}"
        return f"remote · {where}"

    def join(self, link: str, name: str, done: Callable[[Any], None], failed: Any) -> None:
        self.run(self.engine.join(link, name), done, failed)

    def space_opened(self, space: Space) -> None:
        session = self.win.session
        self.presence_in.joined(space.slug if space.is_replica else None)
        if session is not None:
            mine = f"peer:{self.presence_in.me}" if space.is_replica else self.win.actor.id
            self.others.follow(session, mine)
        if not space.is_replica:
            self.presence_in.people_changed()
            return
        self.linked = space.slug
        self.link_state = None
        self.banner.show_state(LinkState("connecting"))
        if self.roles.get(space.slug) == "viewer":
            self._set_read_only(VIEWER_REASON)
        self.run(
            self.engine.open_link(
                space.slug,
                self.post(self._link_state),
                self.post(self.pending.refused),
                self.post(self.presence_in.roster),
                self.post(self._media_arrived),
            ),
            lambda _none: None,
        )

    def space_closed(self, space: Space) -> None:
        self.win.scene.ctx.presence = {}
        self.presence_in.joined(None)
        self.pending.show_state(None)
        self.originals.link_state(None)
        self.win.inspector.presence.set_people({})
        if space.id in self.shared:  # the host's person leaves its peers' canvases
            self.run(self.engine.set_own_presence(space.id, None), lambda _n: None)
        if self.linked != space.slug or self._engine is None:
            return
        self.linked = None
        self.link_state = None
        self.banner.show_state(None)
        self._set_read_only(None)
        self.run(self.engine.close_link(space.slug), lambda _none: None, lambda _exc: None)

    def _set_read_only(self, reason: str | None) -> None:
        self.read_only = reason
        viewer_controls.apply(self.win, reason)

    def _link_state(self, state: LinkState) -> None:
        if self.linked is None:
            return
        self.link_state = state
        if state.role and (state.role == "viewer") != (self.read_only is not None):
            self._set_read_only(VIEWER_REASON if state.role == "viewer" else None)
        self.banner.show_state(state)
        self.pending.show_state(state)
        self.originals.link_state(state)
        if state.state != "live":  # who is there is not known while cut off
            self.presence_in.roster([])
        self.link_changed.emit(state)
        self.win.spaces.relabel()

    def _media_arrived(self, paths: list[Path]) -> None:
        """Thumbnails came from the host: the cards that showed a placeholder ask again."""
        if self.linked is None:
            return
        self.win.scene.thumbs.forget(str(p) for p in paths)
        self.win.scene.update()

    def fetch_original(self, variant_id: str, ready: Callable[[], None]) -> bool:
        """Fetch a joined space's original from its host; ``ready`` runs when it is
        here. False when the open space is not joined."""
        return self.originals.fetch(variant_id, ready)

    def travel(self, action: str, text: str) -> None:
        """Undo or redo this device's latest step on the host of the open joined space."""
        slug = self.linked
        if slug is None:
            return

        def failed(exc: Exception) -> None:
            why = exc.message if isinstance(exc, StudioError) else str(exc)
            self.win.show_error(f"Could not {action} “{text}”: {why}")

        self.run(self.engine.travel(slug, action), lambda _r: None, failed)

    def send(self, cmds: Sequence[Command], text: str) -> bool:
        """The user's step on a joined space: to the host (or kept until it is back)."""
        slug = self.linked
        if slug is None:
            self.win.show_error("This space is a copy of a shared space that is not connected.")
            return False
        if self.read_only is not None:
            self.win.statusBar().showMessage(f"{text}: {self.read_only}", 8000)
            return False

        payload = [command_to_json(c) for c in cmds]
        try:  # more than the host takes in one message: said at once, nothing shown meanwhile
            check_step(payload)
        except ValidationError as exc:
            self.win.show_error(f"{text}: {exc.message}")
            return False
        token = self.optimistic.begin(payload)

        def sent(result: Sent) -> None:
            seqs = (result.result or {}).get("seqs")  # where the host applied it
            ints = [n for n in seqs if isinstance(n, int)] if isinstance(seqs, list) else []
            self.optimistic.end(token, max(ints) if ints else None)
            if result.error is None and not result.queued and self.linked == slug:
                self.win.undo_stack.push(RemoteStep(text, self.travel))
                self.win.reveal_new(new_assets(result.result))
            if result.error is not None:
                self.pending.send_failed(cmds)
                self.win.show_error(f"{text}: {result.error}")
            elif result.queued:
                self.win.statusBar().showMessage(
                    f"{text}: kept here while the host is out of reach; sent when it is back",
                    8000,
                )

        def failed(exc: Exception) -> None:
            self.optimistic.end(token)
            self.pending.send_failed(cmds)
            self._failed(exc)

        self.run(self.engine.send(slug, payload), sent, failed)
        return True


def new_assets(result: Mapping[str, Any] | None) -> list[str]:
    """The assets a host's answer to a step says it made or added to (``created``:
    ``asset_ids`` of a batch, or one ``asset_id``), to bring into sight; a host's answer
    is checked like any message from it (ids only, bounded)."""
    made = (result or {}).get("created")
    if not isinstance(made, Mapping):
        return []
    raw = made.get("asset_ids") or made.get("asset_id") or ""
    ids = raw.split(",") if isinstance(raw, str) else []
    out: list[str] = []
    for i in dict.fromkeys(ids):
        try:
            out.append(check_id(i, "an asset id"))
        except ValidationError:
            continue
    return out[:MAX_REVEAL]
