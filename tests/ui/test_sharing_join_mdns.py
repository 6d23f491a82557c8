"""Join space… with a host found on this network: the dialog lists the hosts that
announce themselves over mDNS (real zeroconf on the loopback interface, browsed on the
sharing engine's loop), follows them as they come and go, and joins with the picked host
plus the invite code alone. A spoofed answer is not trusted: one that announces another
certificate is refused before anything is sent; one that copies the real host's public
TXT record but is another machine fails the pinned TLS check (the code carries the full
fingerprint), and the token still works at the real host afterwards."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.errors import ValidationError
from studio.core.studio import Studio
from studio.providers_setup import build_providers
from studio.sync import admin
from studio.sync.discovery import (
    Announcer,
    host_announcement,
    invite_code,
    invite_from_code,
)
from studio.ui.main_window import MainWindow
from studio.ui.sharing import window as sharing_window
from studio.ui.sharing.join_dialog import JoinDialog
from tests.conftest import OWNER
from tests.sync.harness import HostThread

LOOPBACK = ["127.0.0.1"]
WAIT_MS = 30_000
ME = Actor("local:hana", "Hana", Role.OWNER)


def test_an_invite_code_joins_only_the_host_whose_certificate_it_names() -> None:
    fp = "ab" * 32
    host = host_announcement("h0123abcd", "Hana's desk", 4567, 1, fp, LOOPBACK)
    link = "forge+wss://10.0.0.9:9999/S0123456789?t=tok_-en123&fp=" + fp
    from studio.sync.wire import Invite

    invite = Invite.parse(link)
    code = invite_code(invite)
    assert "10.0.0.9" not in code and "9999" not in code  # no address in it
    got = invite_from_code(code, host)
    assert (got.host, got.port) == ("127.0.0.1", 4567)  # where the LAN says it is
    assert (got.space_id, got.token, got.fingerprint) == (invite.space_id, invite.token, fp)
    other = host_announcement("h0123abcd", "Hana's desk", 4567, 1, "cd" * 32, LOOPBACK)
    with pytest.raises(ValidationError, match="not the host that invited you"):
        invite_from_code(code, other)
    silent = host_announcement("h0123abcd", "x", 4567, 1, "", LOOPBACK)  # no fp in its TXT
    with pytest.raises(ValidationError, match="not the host that invited you"):
        invite_from_code(code, silent)
    for bad in ("", "just-a-token", f"S1.tok.{fp[:-1]}", f"S/1.tok.{fp}", f"S1.t.o.{fp}"):
        with pytest.raises(ValidationError, match="not an invite code"):
            invite_from_code(bad, host)


def _found(dialog: JoinDialog, host_id: str) -> bool:
    return any(h.host_id == host_id for h in dialog.found)


def test_join_a_host_picked_on_the_lan_with_the_code_and_refuse_spoofed_answers(
    tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    real_home, fake_home = tmp_path / "hana", tmp_path / "mallory"
    for home in (real_home, fake_home):
        with Studio(home) as s:
            entry = s.create_space("Team Board")
            with s.open_space(entry.slug) as space:
                space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), ME)
    real = HostThread(real_home, ["team-board"])
    fake = HostThread(fake_home, ["team-board"])  # another machine: its own certificate
    studio = Studio(tmp_path / "pia", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.show()
    announcers: list[Announcer] = []
    try:
        with Studio(real_home) as s:
            code = invite_code(admin.make_invite(s, "team-board", "editor", 600_000))
        assert real.host.cert is not None and fake.host.cert is not None
        real_fp = real.host.cert.fingerprint
        hosts = {
            # the real host
            "hreal0001": (real.port, real_fp),
            # a spoof that copies the real host's public TXT record, at another machine
            "hcopy0002": (fake.port, real_fp),
            # a spoof that announces its own certificate
            "hmine0003": (fake.port, fake.host.cert.fingerprint),
        }
        for host_id, (port, fp) in hosts.items():
            a = Announcer(
                host_announcement(host_id, "Hana's desk", port, 1, fp, LOOPBACK), LOOPBACK
            )
            assert real.run(a.start())
            announcers.append(a)

        dialog = sharing_window.open_join(w)
        # the hosts arrive by signal while the UI thread goes on (browsed on the engine loop)
        qtbot.waitUntil(lambda: all(_found(dialog, h) for h in hosts), timeout=WAIT_MS)
        assert dialog.hosts.count() >= 3
        assert not dialog.go.isEnabled()
        dialog.link.setText(code)
        assert not dialog.go.isEnabled()  # a code needs a picked host

        # a spoof with another certificate: refused before any connection
        assert dialog.pick("hmine0003")
        assert dialog.go.isEnabled()
        qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
        assert "not the host that invited you" in dialog.status.text()
        assert dialog.link.isEnabled()

        # a spoof that copied the TXT record: the pinned TLS check fails, nothing is sent
        assert dialog.pick("hcopy0002")
        qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: dialog.link.isEnabled(), timeout=WAIT_MS)
        assert "does not match the invite" in dialog.status.text()
        assert w.space is None

        # a host that says goodbye leaves the list
        real.run(announcers.pop(1).close())
        qtbot.waitUntil(lambda: not _found(dialog, "hcopy0002"), timeout=WAIT_MS)
        assert _found(dialog, "hreal0001")

        # the real one: the same code (its token unspent) joins and the space opens
        assert dialog.pick("hreal0001")
        qtbot.mouseClick(dialog.go, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: w.space is not None and w.space.is_replica, timeout=WAIT_MS)
        assert w.sharing.remotes[w.space.slug] == f"127.0.0.1:{real.port}"
        qtbot.waitUntil(lambda: len(w.scene.cards()) == 1, timeout=WAIT_MS)
    finally:
        for a in announcers:
            real.run(a.close())
        w.sharing.close()
        w.close()
        studio.close()
        real.stop()
        fake.stop()


def test_the_join_dialog_stops_looking_when_closed_and_can_look_again(
    tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    studio = Studio(tmp_path / "pia", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.show()
    try:
        dialog = sharing_window.open_join(w)
        browse = dialog._browse
        assert browse is not None and not dialog.look_again.isEnabled()
        engine = w.sharing.engine
        qtbot.waitUntil(lambda: browse in engine._browses, timeout=WAIT_MS)
        dialog.stop_looking()  # as closing does
        qtbot.waitUntil(lambda: browse not in engine._browses, timeout=WAIT_MS)
        dialog.start_looking()
        again = dialog._browse
        assert again is not None and again is not browse
        dialog.close()
        qtbot.waitUntil(lambda: not engine._browses, timeout=WAIT_MS)
    finally:
        w.sharing.close()
        w.close()
        studio.close()


def test_esc_ends_the_join_dialog_and_its_lan_browse(tmp_path: Path, qtbot) -> None:  # type: ignore[no-untyped-def]
    """Esc rejects the dialog without a close event (Qt 6): the browse must stop anyway,
    and an answer arriving afterwards must not touch the deleted widgets."""
    studio = Studio(tmp_path / "pia", providers=build_providers)
    w = MainWindow(studio, OWNER)
    qtbot.addWidget(w)
    w.show()
    try:
        dialog = sharing_window.open_join(w)
        engine = w.sharing.engine
        browse = dialog._browse
        qtbot.waitUntil(lambda: browse in engine._browses, timeout=WAIT_MS)
        dialog.activateWindow()
        qtbot.keyClick(dialog, Qt.Key.Key_Escape)
        qtbot.waitUntil(lambda: not dialog.isVisible(), timeout=WAIT_MS)
        assert dialog._closed
        qtbot.waitUntil(lambda: not engine._browses, timeout=WAIT_MS)
    finally:
        w.sharing.close()
        w.close()
        studio.close()


def test_a_space_shared_from_the_app_is_announced_on_the_lan_and_found_by_join(
    tmp_path: Path, qtbot
) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "hana"
    with Studio(home) as s:
        entry = s.create_space("Team Board")
    host_studio = Studio(home, providers=build_providers)
    host_w = MainWindow(host_studio, OWNER)
    qtbot.addWidget(host_w)
    host_w.show()
    peer_studio = Studio(tmp_path / "pia", providers=build_providers)
    peer_w = MainWindow(peer_studio, OWNER)
    qtbot.addWidget(peer_w)
    peer_w.show()
    try:
        host_w.sharing.share(entry.id)
        qtbot.waitUntil(lambda: entry.id in host_w.sharing.shared, timeout=WAIT_MS)
        port = host_w.sharing.engine.hosts[entry.id].port
        dialog = sharing_window.open_join(peer_w)
        qtbot.waitUntil(lambda: any(h.port == port for h in dialog.found), timeout=WAIT_MS)
        found = next(h for h in dialog.found if h.port == port)
        assert host_w.sharing.shared[entry.id].fingerprint.startswith(found.fingerprint)
        # stopping sharing says goodbye: the host leaves the list
        host_w.sharing.stop_sharing(entry.id)
        qtbot.waitUntil(lambda: not any(h.port == port for h in dialog.found), timeout=WAIT_MS)
        qtbot.waitUntil(lambda: entry.id not in host_w.sharing.shared, timeout=WAIT_MS)
        dialog.close()
    finally:
        for w, st in ((peer_w, peer_studio), (host_w, host_studio)):
            w.sharing.close()
            w.close()
            st.close()
