"""Oversized or malformed metadata in JPEG, GIF, WebP and TIFF files: the import keeps
the file, keeps what it can of the metadata (truncated) or drops it with a note in the
variant's recipe, and never refuses or crashes. Every file is built here by its
format's rules (Pillow writes the image, the metadata is then made hostile)."""

from __future__ import annotations

import io
import struct
from pathlib import Path
from typing import Any

from PIL import Image, TiffImagePlugin

from studio.core.imports import import_files
from studio.core.space import Space
from studio.media.metadata import read_generation_info
from studio.media.provenance import xmp_packet
from tests.conftest import OWNER

MiB = 2**20
A1111 = (
    "a lighthouse in a storm\n"
    "Negative prompt: blurry\n"
    "Steps: 30, Sampler: Euler a, CFG scale: 7, Seed: 99, Size: 32x24, Model: sdxl"
)
DROPPED = "over the safety limit"


def _exif(text: str) -> Image.Exif:
    exif = Image.new("RGB", (1, 1)).getexif()
    exif.get_ifd(0x8769)[0x9286] = b"UNICODE\x00" + text.encode("utf-16-be")  # as piexif
    return exif


def _image(fmt: str, **save: Any) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buf, fmt, **save)
    return buf.getvalue()


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) & 1 else b"")


def webp(*, exif: bytes | None = None, xmp: bytes | None = None) -> bytes:
    """A lossless WebP (VP8X) with an EXIF and/or XMP chunk of any size, flagged."""
    plain = _image("WEBP", lossless=True)
    vp8x = plain[12:]
    assert vp8x[:4] == b"VP8L"
    flags = (0x08 if exif is not None else 0) | (0x04 if xmp is not None else 0)
    head = _riff_chunk(
        b"VP8X", bytes([flags, 0, 0, 0]) + (31).to_bytes(3, "little") + (23).to_bytes(3, "little")
    )
    body = b"WEBP" + head + vp8x
    if exif is not None:
        body += _riff_chunk(b"EXIF", exif)
    if xmp is not None:
        body += _riff_chunk(b"XMP ", xmp)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def jpeg_with(*segments: bytes, exif: Image.Exif | None = None) -> bytes:
    """A JPEG (A1111's EXIF if given) with more segments after SOI."""
    data = _image("JPEG", **({"exif": exif} if exif is not None else {}))
    return data[:2] + b"".join(segments) + data[2:]


def segment(marker: int, body: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(body) + 2) + body


def gif_with_comment(text: bytes) -> bytes:
    data = _image("GIF")
    flags = data[10]
    at = 13 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
    blocks = b"".join(
        bytes([len(text[i : i + 255])]) + text[i : i + 255] for i in range(0, len(text), 255)
    )
    return data[:at] + b"\x21\xfe" + blocks + b"\x00" + data[at:]


def tiff_with(tag: int, value: bytes) -> bytes:
    info = TiffImagePlugin.ImageFileDirectory_v2()
    info[tag] = value
    buf = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 40, 40)).save(buf, "TIFF", tiffinfo=info)
    return buf.getvalue()


def deep_forge_xmp(depth: int) -> bytes:
    """Our own XMP packet whose recipe JSON nests ``depth`` lists deep."""
    packet = xmp_packet(
        {"app": "forge-studio", "recipe": {"prompt": "p", "parameters": {"x": 1}}}, generated=True
    )
    return packet.replace(b"1}", b"[" * depth + b"]" * depth + b"}", 1)


def _import(space: Space, tmp_path: Path, files: dict[str, bytes]) -> list[dict[str, Any]]:
    paths = []
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
        paths.append(tmp_path / name)
    report = import_files(space, paths, OWNER)
    assert not report.refused, report.refused
    assert len(report.imported) == len(files)
    out = []
    for item, path in zip(report.imported, paths, strict=True):
        detail = space.variant_detail(item.variant_id)
        stored = space.media_dir / (detail.row.media_path or "")
        assert stored.read_bytes() == path.read_bytes()  # the file is kept as it came
        assert detail.row.thumb_path and detail.row.width == 32
        out.append(detail.recipe)
    return out


def test_oversized_metadata_never_refuses_the_import(space: Space, tmp_path: Path) -> None:
    """Before: each of these was refused ("more than 16 MiB of metadata…")."""
    big = 20 * MiB
    recipes = _import(
        space,
        tmp_path,
        {
            # a 20 MiB EXIF UserComment (its A1111 text is in the dropped chunk)
            "exif.webp": webp(exif=_exif(A1111 + "x" * (big // 2)).tobytes()),
            # a 20 MiB XMP packet beside a readable EXIF
            "xmp.webp": webp(exif=_exif(A1111).tobytes(), xmp=b"<x:xmpmeta>" + b"y" * big),
            # 70 MiB of extended-XMP APP1 segments (each at most 64 KiB: the total counts)
            "app1.jpg": jpeg_with(
                *[segment(0xE1, b"http://ns.adobe.com/xmp/extension/\x00" + b"z" * 65000)] * 1130,
                exif=_exif(A1111),
            ),
            "comment.gif": gif_with_comment(b"c" * big),
            "xmp.tiff": tiff_with(700, b"<x:xmpmeta>" + b"t" * big),
        },
    )
    by = dict(
        zip(["exif.webp", "xmp.webp", "app1.jpg", "comment.gif", "xmp.tiff"], recipes, strict=True)
    )
    for name, recipe in by.items():
        assert any(DROPPED in n for n in recipe["notes"]), name
    assert "source_tool" not in by["exif.webp"]  # the only copy of the prompt was dropped
    for name in ("xmp.webp", "app1.jpg"):  # what fits is still read
        assert by[name]["source_tool"] == "automatic1111", name
        assert by[name]["prompt"] == "a lighthouse in a storm"
        assert by[name]["parameters"]["Seed"] == 99
    assert any("20.0 MiB" in n for n in by["exif.webp"]["notes"])


def test_large_metadata_under_the_limit_is_kept_truncated(space: Space, tmp_path: Path) -> None:
    """A 6 MiB UserComment and a 6 MiB XMP (under the 16 MiB piece limit, over what the
    reader keeps): the prompt is cut to 8000 characters, the XMP dropped, each noted."""
    long_prompt = "a castle " * 700_000  # 6.3 MB of text, 12.6 MB as UTF-16
    (recipe,) = _import(
        space,
        tmp_path,
        {
            "long.webp": webp(
                exif=_exif(long_prompt + "\nSteps: 5, Seed: 3").tobytes(),
                xmp=b"<x/>" + b"q" * (6 * MiB),
            )
        },
    )
    assert recipe["source_tool"] == "automatic1111"
    assert len(recipe["prompt"]) == 8000 and recipe["prompt"].startswith("a castle a castle")
    assert recipe["parameters"]["Seed"] == 3
    notes = recipe["notes"]
    assert any("kept the first 8000" in n for n in notes)
    assert any("the XMP packet was 6 MiB; dropped" in n for n in notes)


def test_deeply_nested_json_in_a_comment_or_xmp(space: Space, tmp_path: Path) -> None:
    deep = b"[" * 100_000 + b"]" * 100_000
    recipes = _import(
        space,
        tmp_path,
        {
            "deep-com.jpg": jpeg_with(segment(0xFE, b'{"prompt": ' + deep[:60_000] + b"}")),
            "deep-xmp.webp": webp(exif=_exif(A1111).tobytes(), xmp=deep_forge_xmp(100_000)),
            "deep-com.gif": gif_with_comment(b'{"workflow": ' + deep + b"}"),
        },
    )
    assert "source_tool" not in recipes[0]  # a comment that is no A1111 text: nothing read
    assert recipes[1]["source_tool"] == "automatic1111"  # the XMP recipe is unreadable
    assert any("nested too deep" in n for n in recipes[1]["notes"])
    assert recipes[2] == {"operation": "import", "original_name": "deep-com.gif"}


def test_truncated_metadata_segments(space: Space, tmp_path: Path) -> None:
    """Metadata cut short inside a whole file: an EXIF whose directory points past its
    segment, an EXIF chunk of 10 bytes, an XMP packet cut mid-tag, a TIFF tag whose
    value lies past the end of the file."""
    exif = _exif(A1111).tobytes()
    cut_tiff = bytearray(tiff_with(270, b"d" * 5000))
    # point the ImageDescription's value past the end of the file
    ifd = struct.unpack_from("<I", cut_tiff, 4)[0]
    for i in range(struct.unpack_from("<H", cut_tiff, ifd)[0]):
        at = ifd + 2 + 12 * i
        if struct.unpack_from("<H", cut_tiff, at)[0] == 270:
            struct.pack_into("<I", cut_tiff, at + 8, len(cut_tiff) + 1000)
    recipes = _import(
        space,
        tmp_path,
        {
            "cut-exif.jpg": jpeg_with(segment(0xE1, exif[: len(exif) // 2])),
            "cut-ifd.jpg": jpeg_with(segment(0xE1, b"Exif\x00\x00II*\x00\xff\xff\x00\x00")),
            "cut-exif.webp": webp(exif=exif[:10], xmp=deep_forge_xmp(3)[:200]),
            "cut-tag.tiff": bytes(cut_tiff),
        },
    )
    for recipe in recipes:
        assert recipe["operation"] == "import" and "source_tool" not in recipe


def test_the_reader_alone_never_raises_on_a_cut_file(tmp_path: Path) -> None:
    """Cut anywhere (even inside the pixels), reading metadata answers, never raises."""
    files = {
        "a.jpg": (jpeg_with(exif=_exif(A1111)), "image/jpeg"),
        "a.webp": (webp(exif=_exif(A1111).tobytes()), "image/webp"),
        "a.gif": (gif_with_comment(b"hello"), "image/gif"),
        "a.tiff": (tiff_with(270, b"d" * 300), "image/tiff"),
    }
    for name, (data, mime) in files.items():
        for cut in (3, 13, 40, len(data) // 2, len(data) - 3):
            path = tmp_path / f"{cut}-{name}"
            path.write_bytes(data[:cut])
            found = read_generation_info(path, mime)
            assert found is None or isinstance(found.notes, tuple), (name, cut)
    whole = tmp_path / "whole.jpg"
    whole.write_bytes(files["a.jpg"][0])
    found = read_generation_info(whole, "image/jpeg")
    assert found is not None and found.source_tool == "automatic1111"
