"""``studio serve`` behind a TLS-terminating reverse proxy: the host listens without TLS
on loopback, a real proxy on 127.0.0.1 terminates TLS with its own certificate (issued
by a CA of its own, as a proxy's usually is) and forwards the bytes; invites pin the
proxy's certificate."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from studio.cli.main import main as cli_main
from studio.core import commands as c
from studio.core.actor import Actor, Role
from studio.core.errors import PermissionDeniedError, ValidationError
from studio.core.studio import Studio
from studio.sync import admin, peer
from studio.sync.host import Host, ProxyFront
from studio.sync.tls import certificate_file_fingerprint, fingerprint
from tests.sync.harness import HostThread

ME = Actor("local:host", "Hana", Role.OWNER)


def _name(common: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common)])


def _proxy_certificate(folder: Path) -> tuple[Path, Path, bytes]:
    """A leaf for ``localhost`` issued by a CA of its own: (cert.pem, key.pem, leaf DER)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Team CA"))
        .issuer_name(_name("Team CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("localhost"))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=30))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("localhost")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    cert_path, key_path = folder / "proxy-cert.pem", folder / "proxy-key.pem"
    cert_path.write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path, leaf.public_bytes(serialization.Encoding.DER)


class TlsProxy:
    """A TLS-terminating TCP relay on 127.0.0.1 (as nginx ``proxy_pass`` with websockets
    upgrade headers would be, minus the header rewriting) to ``upstream_port``."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.upstream_port = 0
        self.connections = 0
        self._ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self._ctx.load_cert_chain(cert, key)
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self._relay, "127.0.0.1", 0, ssl=self._ctx), self.loop
        ).result(10)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _relay(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.connections += 1
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            writer.close()
            return

        async def pipe(src: asyncio.StreamReader, dst: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError, ConnectionError):
                while data := await src.read(65536):
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError, RuntimeError):
                dst.close()

        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    def stop(self) -> None:
        async def close() -> None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 5)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
        self.loop.close()


@pytest.fixture
def host_home(tmp_path: Path) -> Path:
    home = tmp_path / "host"
    with Studio(home) as s:
        entry = s.create_space("Team Board")
        with s.open_space(entry.slug) as space:
            space.apply(c.CreateAsset(name="Hero", media_kind=c.MediaKindName.IMAGE), ME)
    return home


@pytest.fixture
def proxied(host_home: Path, tmp_path: Path) -> Iterator[tuple[HostThread, TlsProxy, bytes]]:
    cert, key, der = _proxy_certificate(tmp_path)
    proxy = TlsProxy(cert, key)
    front = ProxyFront(f"localhost:{proxy.port}", fingerprint(der))
    try:
        host = HostThread(host_home, ["team-board"], proxy=front)
    except BaseException:
        proxy.stop()
        raise
    proxy.upstream_port = host.port
    try:
        yield host, proxy, der
    finally:
        host.stop()
        proxy.stop()


def test_a_peer_joins_and_works_through_a_tls_terminating_proxy(
    proxied: tuple[HostThread, TlsProxy, bytes], tmp_path: Path
) -> None:
    host, proxy, der = proxied
    with Studio(host.home) as s:
        invite = admin.make_invite(s, "team-board", "editor", 3_600_000)
    # the invite sends peers to the proxy and pins the proxy's certificate
    assert (invite.host, invite.port) == ("localhost", proxy.port)
    assert invite.fingerprint == fingerprint(der)
    pia = tmp_path / "pia"
    with Studio(pia) as s:
        slug = asyncio.run(peer.join(s, invite.link(), "Pia", timeout=20)).slug
        made = asyncio.run(
            peer.send(
                s,
                slug,
                [
                    c.command_to_json(
                        c.CreateAsset(name="Via proxy", media_kind=c.MediaKindName.AUDIO)
                    )
                ],
                timeout=20,
            )
        )
    asset_id = made["created"]["asset_id"]
    with Studio(host.home) as s, s.open_space("team-board") as space:
        assert space.asset(asset_id).name == "Via proxy"
    with Studio(pia) as s, s.open_space(slug) as replica:
        assert replica.asset(asset_id).name == "Via proxy"
    assert proxy.connections >= 2  # the certificate fetch, then the session


def test_the_host_listens_without_tls_only_when_a_proxy_fronts_it(
    proxied: tuple[HostThread, TlsProxy, bytes],
) -> None:
    host, _proxy, _der = proxied
    request = (
        f"GET /nothing HTTP/1.1\r\nHost: 127.0.0.1:{host.port}\r\nUpgrade: websocket\r\n"
        "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
        "Sec-WebSocket-Version: 13\r\n\r\n"
    )
    with socket.create_connection(("127.0.0.1", host.port), timeout=5) as raw:
        raw.sendall(request.encode())
        status = int(raw.recv(4096).split(b" ", 2)[1])
    assert status == 404  # plain HTTP answered: no such space (and no state)
    # a foreign Host is still refused before anything else
    with socket.create_connection(("127.0.0.1", host.port), timeout=5) as raw:
        raw.sendall(request.replace("127.0.0.1", "evil.example").encode())
        assert int(raw.recv(4096).split(b" ", 2)[1]) == 403


def test_an_invite_pinning_another_certificate_is_refused_at_the_proxy(
    proxied: tuple[HostThread, TlsProxy, bytes], tmp_path: Path
) -> None:
    host, _proxy, _der = proxied
    with Studio(host.home) as s:
        invite = admin.make_invite(s, "team-board", "editor", 3_600_000)
    wrong = type(invite)(invite.host, invite.port, invite.space_id, invite.token, "0" * 64)
    with (
        Studio(tmp_path / "mallory") as s,
        pytest.raises(PermissionDeniedError, match="fingerprint"),
    ):
        asyncio.run(peer.join(s, wrong.link(), "Mallory", timeout=20))


def test_a_plain_listener_on_another_interface_is_refused(host_home: Path) -> None:
    front = ProxyFront("studio.example:443", "a" * 64)
    with Studio(host_home) as s, pytest.raises(ValidationError, match=r"127\.0\.0\.1"):
        Host(s, ["team-board"], host="0.0.0.0", proxy=front)


def test_proxy_fronts_and_certificate_files_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="HOST:PORT"):
        ProxyFront("studio.example", "a" * 64)
    with pytest.raises(ValidationError, match="fingerprint"):
        ProxyFront("studio.example:443", "not-hex")
    cert, _key, der = _proxy_certificate(tmp_path)
    (tmp_path / "proxy.der").write_bytes(der)
    assert certificate_file_fingerprint(cert) == fingerprint(der)
    assert certificate_file_fingerprint(tmp_path / "proxy.der") == fingerprint(der)
    (tmp_path / "junk.pem").write_bytes(b"hello")
    with pytest.raises(ValidationError, match="certificate"):
        certificate_file_fingerprint(tmp_path / "junk.pem")


def test_serve_refuses_half_a_proxy_setup(
    host_home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(
        ["--home", str(host_home), "serve", "team-board", "--behind-proxy", "studio.example:443"]
    )
    assert code != 0
    assert "--behind-proxy and --proxy-cert go together" in capsys.readouterr().err
