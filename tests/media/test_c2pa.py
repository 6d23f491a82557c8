"""C2PA: a manifest signed here (a throwaway CA and signer made with ``cryptography``,
c2pa-python's Builder) is read on import, offline, as "present, issuer …"; without the
library (or with a manifest it cannot read) the details say "present"; an export keeps
the file byte for byte, so its signature still verifies."""

from __future__ import annotations

import datetime
import io
import json
import sys
from pathlib import Path

import pytest
from PIL import Image

from studio.core.exports import export_variants
from studio.core.imports import import_files
from studio.core.space import Space
from studio.media.metadata import read_generation_info
from tests.conftest import OWNER

c2pa = pytest.importorskip("c2pa")

MIMES = {"png": "image/png", "jpg": "image/jpeg", "webp": "image/webp"}
FORMATS = {"png": "PNG", "jpg": "JPEG", "webp": "WEBP"}
ISSUER = "Forge Test Signing Org"
VALID = f"present, issuer {ISSUER} (signature valid, issuer not checked against a trust list)"


def _signer() -> object:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)

    def name(org: str) -> x509.Name:
        return x509.Name(
            [
                x509.NameAttribute(NameOID.COMMON_NAME, org + " CN"),
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, org),
            ]
        )

    def cert(subject: str, key, issuer_name, issuer_key, ca: bool):  # type: ignore[no-untyped-def]
        builder = (
            x509.CertificateBuilder()
            .subject_name(name(subject))
            .issuer_name(issuer_name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        )
        if not ca:
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), False
            ).add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False
            )
        return builder.sign(issuer_key, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = cert("Forge Test CA", ca_key, name("Forge Test CA"), ca_key, True)
    key = ec.generate_private_key(ec.SECP256R1())
    leaf = cert(ISSUER, key, ca.subject, ca_key, False)
    chain = leaf.public_bytes(serialization.Encoding.PEM) + ca.public_bytes(
        serialization.Encoding.PEM
    )
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", chain, pem, None))


MANIFEST = {
    "claim_generator_info": [{"name": "forge-studio-tests", "version": "1"}],
    "title": "signed",
    "assertions": [
        {
            "label": "c2pa.actions",
            "data": {
                "actions": [
                    {
                        "action": "c2pa.created",
                        "digitalSourceType": "http://cv.iptc.org/newscodes/digitalsourcetype/"
                        "trainedAlgorithmicMedia",
                    }
                ]
            },
        }
    ],
}


@pytest.fixture(scope="module")
def signed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One signed file per format, signed offline."""
    signer = _signer()
    folder = tmp_path_factory.mktemp("c2pa")
    out = {}
    for ext, fmt in FORMATS.items():
        src = io.BytesIO()
        Image.new("RGB", (40, 30), (20, 90, 160)).save(src, fmt)
        src.seek(0)
        dest = io.BytesIO()
        with c2pa.Builder(json.dumps(MANIFEST)) as builder:
            builder.sign(signer, MIMES[ext], src, dest)
        path = folder / f"signed.{ext}"
        path.write_bytes(dest.getvalue())
        out[ext] = path
    return out


@pytest.mark.parametrize("ext", list(FORMATS))
def test_the_issuer_is_read_on_import(
    space: Space, signed: dict[str, Path], ext: str, tmp_path: Path
) -> None:
    report = import_files(space, [signed[ext]], OWNER)
    assert not report.refused
    vid = report.imported[0].variant_id
    assert space.variant_detail(vid).generation_provenance["c2pa"] == VALID
    [out] = export_variants(space, [vid], tmp_path / "out")  # byte for byte: still verifies
    assert out.how == "c2pa-kept" and out.path.read_bytes() == signed[ext].read_bytes()
    assert read_generation_info(out.path, MIMES[ext]).c2pa_detail == VALID  # type: ignore[union-attr]


def test_a_changed_file_is_reported_as_not_verifying(
    signed: dict[str, Path], tmp_path: Path
) -> None:
    data = bytearray(signed["png"].read_bytes())
    idat = data.index(b"IDAT")
    data[idat + 10] ^= 0xFF  # the pixels no longer match the manifest's hash
    path = tmp_path / "changed.png"
    path.write_bytes(bytes(data))
    found = read_generation_info(path, "image/png")
    assert found is not None and found.c2pa
    assert found.c2pa_detail == (f"present, issuer {ISSUER} (signature or content does not verify)")


def test_without_the_library_it_is_present(
    signed: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "c2pa", None)  # import c2pa now fails
    found = read_generation_info(signed["jpg"], "image/jpeg")
    assert found is not None and found.c2pa and found.c2pa_detail == "present"
    assert found.provenance_json()["c2pa"] == "present"


def test_a_manifest_the_library_cannot_read_is_present(tmp_path: Path) -> None:
    """A JUMBF-labelled APP11 segment that is no manifest: detected, not readable."""
    buf = io.BytesIO()
    Image.new("RGB", (8, 8)).save(buf, "JPEG")
    box = b"\x00\x00\x00\x20jumb\x00\x00\x00\x18jumdc2pa\x00\x11\x00\x10" + b"\x00" * 8
    seg = b"\xff\xeb" + (len(box) + 10).to_bytes(2, "big") + b"JP\x00\x01\x00\x00\x00\x01" + box
    path = tmp_path / "fake.jpg"
    data = buf.getvalue()
    path.write_bytes(data[:2] + seg + data[2:])
    found = read_generation_info(path, "image/jpeg")
    assert found is not None and found.c2pa and found.c2pa_detail == "present"
