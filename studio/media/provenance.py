"""Provenance written into exported files, without touching their media data.

- PNG: two iTXt chunks before the image data: an XMP packet (with IPTC
  ``DigitalSourceType`` = trained algorithmic media for generated media) and
  ``forge-studio:recipe``, the compact JSON document. Chunks are copied as they are.
- JPEG: an APP1 XMP segment after the JFIF/EXIF segments (the scan is copied as is).
- WebP: an ``XMP `` chunk; a simple (VP8/VP8L) file becomes extended (``VP8X``).
- Audio (mutagen): ID3 ``TXXX:forge-studio:recipe`` (MP3, WAV), a Vorbis comment
  ``FORGE_STUDIO_RECIPE`` (FLAC, Ogg), an MP4 freeform atom (M4A).
- Video (PyAV): the container's ``forge_studio_recipe`` tag, streams remuxed unchanged.

A file that carries a C2PA manifest is copied byte for byte instead (any change would
break its signature); the export says so. :func:`read_container_recipe` reads the audio
and video tags back (images: :mod:`studio.media.metadata`).
"""

from __future__ import annotations

import json
import os
import shutil
import struct
import zlib
from collections.abc import Mapping
from html import escape as _html_escape
from pathlib import Path
from typing import Any, BinaryIO

from studio.media.metadata import (
    AV_KEY,
    FORGE_KEY,
    PNG_SIGNATURE,
    VORBIS_KEY,
    XMP_KEY,
    read_container_recipe,
)


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as XML entities (``xml.sax.saxutils.escape`` does the same,
    but importing it brings urllib.request and http.client: ~20 ms of the app's start)."""
    return _html_escape(text, quote=False)


__all__ = ["AV_KEY", "TRAINED_ALGORITHMIC", "read_container_recipe", "write_with_provenance"]

TRAINED_ALGORITHMIC = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
CHUNK = 1024 * 1024


class ProvenanceError(Exception):
    """The file could not be written with its provenance (one sentence)."""


def compact(doc: Mapping[str, Any]) -> str:
    return json.dumps(doc, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def xmp_packet(doc: Mapping[str, Any], *, generated: bool) -> bytes:
    """An XMP packet: IPTC DigitalSourceType (trained algorithmic media, for generated
    media only: of an imported file we know nothing to claim), the prompt as
    dc:description, and the JSON document as ``forge:recipe``."""
    source = (
        f"<Iptc4xmpExt:DigitalSourceType>{TRAINED_ALGORITHMIC}</Iptc4xmpExt:DigitalSourceType>"
        if generated
        else ""
    )
    recipe = doc.get("recipe")
    prompt = recipe.get("prompt") if isinstance(recipe, Mapping) else None
    description = (
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{escape(prompt)}</rdf:li>'
        "</rdf:Alt></dc:description>"
        if isinstance(prompt, str) and prompt
        else ""
    )
    body = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about=""'
        ' xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/"'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:forge="https://forge-studio.local/ns/1.0/">'
        f"{source}"
        f"{description}"
        f"<forge:recipe>{escape(compact(doc))}</forge:recipe>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>"
        '<?xpacket end="w"?>'
    )
    return body.encode("utf-8")


# --------------------------------------------------------------------------- PNG


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def itxt(key: str, text: str) -> bytes:
    """An uncompressed iTXt chunk."""
    return _png_chunk(b"iTXt", key.encode("latin-1") + b"\x00\x00\x00\x00\x00" + text.encode())


def _copy(src: BinaryIO, out: BinaryIO, n: int) -> None:
    while n > 0:
        data = src.read(min(CHUNK, n))
        if not data:
            raise ProvenanceError("the file ended early")
        out.write(data)
        n -= len(data)


def embed_png(src: BinaryIO, out: BinaryIO, xmp: bytes, recipe: str) -> None:
    if src.read(8) != PNG_SIGNATURE:
        raise ProvenanceError("it is not a PNG file")
    out.write(PNG_SIGNATURE)
    written = False
    while True:
        head = src.read(8)
        if len(head) < 8:
            raise ProvenanceError("the PNG file ended early")
        length, kind = struct.unpack(">I4s", head)
        if kind in (b"iTXt", b"tEXt", b"zTXt"):
            start = src.read(min(length, 80))
            key = start.split(b"\x00", 1)[0]
            if key in (XMP_KEY.encode(), FORGE_KEY.encode()):
                src.seek(length - len(start) + 4, 1)  # replaced by ours, however large
                continue
            out.write(head + start)
            _copy(src, out, length - len(start) + 4)
            continue
        if not written and kind in (b"IDAT", b"acTL", b"IEND"):
            out.write(itxt(XMP_KEY, xmp.decode()) + itxt(FORGE_KEY, recipe))
            written = True
        out.write(head)
        _copy(src, out, length + 4)
        if kind == b"IEND":
            return


# --------------------------------------------------------------------------- JPEG

XMP_NS = b"http://ns.adobe.com/xap/1.0/\x00"


def embed_jpeg(src: BinaryIO, out: BinaryIO, xmp: bytes) -> None:
    if src.read(2) != b"\xff\xd8":
        raise ProvenanceError("it is not a JPEG file")
    payload = XMP_NS + xmp
    if len(payload) + 2 > 0xFFFF:
        raise ProvenanceError("the recipe is too large for a JPEG XMP segment")
    out.write(b"\xff\xd8")
    ours = b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload
    while True:
        marker = src.read(2)
        if len(marker) < 2 or marker[0] != 0xFF:
            raise ProvenanceError("the JPEG file is damaged")
        if marker[1] in (0xE0, 0xE1):  # JFIF, EXIF, XMP: keep (but not an old XMP)
            size = struct.unpack(">H", src.read(2))[0]
            body = src.read(size - 2)
            if marker[1] == 0xE1 and body.startswith(XMP_NS):
                continue
            out.write(marker + struct.pack(">H", size) + body)
            continue
        out.write(ours)
        out.write(marker)
        shutil.copyfileobj(src, out, CHUNK)
        return


# --------------------------------------------------------------------------- WebP


def embed_webp(src: BinaryIO, out: BinaryIO, xmp: bytes, size: tuple[int, int]) -> None:
    head = src.read(12)
    if len(head) < 12 or head[:4] != b"RIFF" or head[8:] != b"WEBP":
        raise ProvenanceError("it is not a WebP file")
    chunks: list[tuple[bytes, bytes]] = []
    total = struct.unpack("<I", head[4:8])[0]
    if total > 512 * 2**20:
        raise ProvenanceError("the WebP file is too large to rewrite")
    while True:
        h = src.read(8)
        if len(h) < 8:
            break
        kind, n = h[:4], struct.unpack("<I", h[4:])[0]
        data = src.read(n + (n & 1))
        if kind != b"XMP ":
            chunks.append((kind, data[:n]))
    kinds = [k for k, _ in chunks]
    if b"VP8X" not in kinds:
        alpha = b"ALPH" in kinds or (
            b"VP8L" in kinds
            and len(chunks[kinds.index(b"VP8L")][1]) > 4
            and bool(chunks[kinds.index(b"VP8L")][1][4] & 0x10)
        )
        w, h_ = size
        flags = 0x10 if alpha else 0
        vp8x = (
            bytes([flags, 0, 0, 0]) + (w - 1).to_bytes(3, "little") + (h_ - 1).to_bytes(3, "little")
        )
        chunks.insert(0, (b"VP8X", vp8x))
    first = chunks[0][1]
    chunks[0] = (b"VP8X", bytes([first[0] | 0x04]) + first[1:])
    chunks.append((b"XMP ", xmp))
    body = b"".join(
        k + struct.pack("<I", len(d)) + d + (b"\x00" if len(d) & 1 else b"") for k, d in chunks
    )
    out.write(b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body)


# --------------------------------------------------------------------------- audio, video


def tag_audio(path: Path, mime: str, recipe: str) -> None:
    """Add the recipe to an audio file in place (``path`` is our copy)."""
    import mutagen
    from mutagen.id3 import ID3, TXXX
    from mutagen.mp4 import MP4FreeForm

    f = mutagen.File(path)
    if f is None:
        raise ProvenanceError("the audio format is not one we can tag")
    if mime in ("audio/mpeg", "audio/wav", "audio/x-wav", "audio/wave"):
        if f.tags is None:
            f.add_tags()
        tags = f.tags
        assert isinstance(tags, ID3)
        tags.add(TXXX(encoding=3, desc=FORGE_KEY, text=[recipe]))
    elif mime == "audio/mp4":
        if f.tags is None:
            f.add_tags()
        f.tags["----:com.forge-studio:recipe"] = [MP4FreeForm(recipe.encode())]
    else:  # FLAC, Ogg Vorbis/Opus: Vorbis comments
        if f.tags is None:
            f.add_tags()
        f.tags[VORBIS_KEY] = [recipe]
    f.save()


VIDEO_FORMATS = {"video/mp4": "mp4", "video/quicktime": "mov", "video/webm": "webm"}


def remux_video(src: Path, dest: Path, mime: str, recipe: str) -> None:
    """Copy every stream of ``src`` into ``dest`` unchanged (same container), with the
    recipe as a container tag."""
    import av

    fmt = VIDEO_FORMATS[mime]
    options = {"movflags": "use_metadata_tags"} if fmt in ("mov", "mp4") else {}
    with av.open(str(src)) as inp, av.open(str(dest), "w", format=fmt, options=options) as out:
        out.metadata.update(
            {k: v for k, v in inp.metadata.items() if k.lower() not in (AV_KEY, "encoder")}
        )
        out.metadata[AV_KEY] = recipe
        streams = {}
        for s in inp.streams:
            if s.type in ("video", "audio"):
                streams[s.index] = out.add_stream_from_template(s)
        for packet in inp.demux(*[inp.streams[i] for i in streams]):
            if packet.dts is None:
                continue
            packet.stream = streams[packet.stream.index]
            out.mux(packet)


# --------------------------------------------------------------------------- entry


def write_with_provenance(
    src: Path,
    dest: Path,
    mime: str,
    doc: Mapping[str, Any],
    *,
    generated: bool,
    size: tuple[int, int] | None = None,
    c2pa: bool = False,
) -> str:
    """Copy ``src`` to ``dest`` (which must not exist) with ``doc`` embedded; returns how
    (``embedded``, ``c2pa-kept``: copied byte for byte, ``copied``: a format we do not
    tag). ``dest`` is whole or absent when this returns or raises."""
    tmp = dest.with_name(f".{dest.name}.part")
    recipe = compact(doc)
    how = "embedded"
    try:
        if c2pa:
            shutil.copyfile(src, tmp)
            how = "c2pa-kept"
        elif mime in ("image/png", "image/jpeg", "image/webp"):
            xmp = xmp_packet(doc, generated=generated)
            with open(src, "rb") as f, open(tmp, "wb") as out:
                if mime == "image/png":
                    embed_png(f, out, xmp, recipe)
                elif mime == "image/jpeg":
                    embed_jpeg(f, out, xmp)
                else:
                    embed_webp(f, out, xmp, size or (1, 1))
        elif mime.startswith("audio/"):
            shutil.copyfile(src, tmp)
            try:
                tag_audio(tmp, mime, recipe)
            except ProvenanceError:
                how = "copied"
        elif mime in VIDEO_FORMATS:
            remux_video(src, tmp, mime, recipe)
        else:
            shutil.copyfile(src, tmp)
            how = "copied"
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.link(tmp, dest)
    except FileExistsError:
        raise ProvenanceError(f"{dest} already exists") from None
    except ProvenanceError:
        raise
    except Exception as exc:
        raise ProvenanceError(f"could not write {dest.name}: {str(exc)[:160]}") from exc
    finally:
        tmp.unlink(missing_ok=True)
    return how
