"""The host's self-signed certificate, and pinning it on the peer.

The host makes an EC P-256 key and a self-signed certificate on first use, kept in the
data folder (``sharing/host-cert.pem``, ``sharing/host-key.pem``, the key readable by
the owner only). An invite carries the SHA-256 fingerprint of the certificate (DER).

A peer never sends a secret on a connection it has not pinned: it first fetches the
certificate on a throw-away TLS connection (no secret sent), checks its fingerprint
against the invite, and from then on connects with an :class:`ssl.SSLContext` whose
only trust anchor is that very certificate, so a different certificate fails the
handshake itself — before the upgrade request, and the credential in its header, is
sent (FIELD-NOTES: "Pinning").
"""

from __future__ import annotations

import datetime
import hashlib
import hmac
import ipaddress
import os
import socket
import ssl
from dataclasses import dataclass
from pathlib import Path

from studio.core.errors import PermissionDeniedError, StorageError, ValidationError

CERT_NAME = "host-cert.pem"
KEY_NAME = "host-key.pem"
VALID_DAYS = 3650


@dataclass(frozen=True, slots=True)
class HostCertificate:
    cert_path: Path
    key_path: Path
    der: bytes

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.der)

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.cert_path, self.key_path)
        return ctx


def fingerprint(der: bytes) -> str:
    """SHA-256 of a certificate in DER form, lower-case hex."""
    return hashlib.sha256(der).hexdigest()


def check_fingerprint_text(text: str) -> None:
    """Refuse anything but 64 lower-case hex digits (a SHA-256 fingerprint)."""
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise ValidationError("a certificate fingerprint is 64 lower-case hex digits (SHA-256)")


def certificate_file_fingerprint(path: Path) -> str:
    """The fingerprint of the (first) certificate in a PEM or DER file, e.g. the one a
    TLS-terminating proxy presents."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise StorageError(f"could not read the certificate {path}: {exc.strerror}") from exc
    if b"-----BEGIN CERTIFICATE-----" in data:
        begin = data.index(b"-----BEGIN CERTIFICATE-----")
        end = data.find(b"-----END CERTIFICATE-----", begin)
        if end < 0:
            raise ValidationError(f"{path.name} holds a cut-off PEM certificate")
        pem = data[begin : end + len(b"-----END CERTIFICATE-----")].decode("ascii", "replace")
        try:
            der = ssl.PEM_cert_to_DER_cert(pem)
        except ValueError as exc:
            raise ValidationError(f"{path.name} is not a readable certificate") from exc
    else:
        der = data
    try:
        from cryptography import x509

        x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise ValidationError(f"{path.name} is not a PEM or DER certificate") from exc
    return fingerprint(der)


def host_certificate(folder: Path) -> HostCertificate:
    """The host's certificate in ``folder``, made on first use."""
    cert_path, key_path = folder / CERT_NAME, folder / KEY_NAME
    if not cert_path.exists() or not key_path.exists():
        _make(folder, cert_path, key_path)
    try:
        pem = cert_path.read_bytes()
        der = ssl.PEM_cert_to_DER_cert(pem.decode("ascii"))
    except (OSError, ValueError, UnicodeDecodeError) as exc:
        raise StorageError(f"the host certificate {cert_path} cannot be read: {exc}") from exc
    return HostCertificate(cert_path, key_path, der)


def _make(folder: Path, cert_path: Path, key_path: Path) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Forge Studio host")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=VALID_DAYS))
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.DNSName(socket.gethostname() or "localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    tmp_key = key_path.with_name(f".{key_path.name}.tmp")
    fd = os.open(tmp_key, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(key_pem)
    tmp_cert = cert_path.with_name(f".{cert_path.name}.tmp")
    tmp_cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    os.replace(tmp_key, key_path)
    os.replace(tmp_cert, cert_path)


def fetch_certificate(host: str, port: int, *, timeout: float = 5.0) -> bytes:
    """The certificate a host presents, read on a connection that sends nothing."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:
        with (
            socket.create_connection((host, port), timeout=timeout) as raw,
            ctx.wrap_socket(raw) as tls,
        ):
            der = tls.getpeercert(binary_form=True)
    except (OSError, ssl.SSLError) as exc:
        raise StorageError(f"could not reach the host {host}:{port}: {exc}") from exc
    if not der:
        raise PermissionDeniedError(f"the host {host}:{port} presented no certificate")
    return der


def check_fingerprint(der: bytes, expected: str) -> None:
    if not hmac.compare_digest(fingerprint(der), expected.lower()):
        raise PermissionDeniedError(
            "the host's certificate does not match the invite (wrong fingerprint): "
            "nothing was sent to it"
        )


def pinned_context(der: bytes) -> ssl.SSLContext:
    """A client context that trusts exactly this certificate and nothing else."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.check_hostname = False  # the pin is the identity, not a name
    ctx.verify_mode = ssl.CERT_REQUIRED
    # the pinned certificate may be a proxy's, issued by a CA: it is still the only
    # anchor (a chain need not reach a root the peer trusts, and no other cert passes)
    ctx.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    ctx.load_verify_locations(cadata=der)
    return ctx
