"""Hostile media, generated (never committed): bombs, oversized metadata, glued streams."""

from __future__ import annotations

import io
import struct
import zlib
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png_with_chunks(width: int, height: int, *extra: bytes) -> bytes:
    """A grey PNG with ``extra`` chunks (built with :func:`png_chunk`) before IDAT."""
    row = b"\x00" + b"\x80" * width
    idat = zlib.compress(row * height, 9)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + b"".join(extra)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


def apng(canvas: tuple[int, int], frames: list[tuple[int, int, int, int]]) -> bytes:
    """An APNG whose fcTL chunks describe ``frames`` as (width, height, x, y); the pixel
    data is the default image only (enough for a header walk and Pillow's open)."""
    width, height = canvas
    chunks = [png_chunk(b"acTL", struct.pack(">II", len(frames), 0))]
    for seq, (w, h, x, y) in enumerate(frames):
        chunks.append(png_chunk(b"fcTL", struct.pack(">IIIIIHHBB", seq, w, h, x, y, 1, 10, 0, 0)))
    return png_with_chunks(width, height, *chunks)


def _gif_image_block(width: int, height: int) -> bytes:
    """Image descriptor + LZW data of a ``width`` x ``height`` frame, encoded by Pillow."""
    buf = io.BytesIO()
    Image.new("P", (width, height), 1).save(buf, "GIF")
    data = buf.getvalue()
    flags = data[10]
    pos = 13 + ((3 << ((flags & 7) + 1)) if flags & 0x80 else 0)
    while data[pos] == 0x21:  # skip extensions
        pos += 2
        while data[pos]:
            pos += 1 + data[pos]
        pos += 1
    assert data[pos] == 0x2C and data[-1] == 0x3B
    return data[pos:-1]


def gif(
    screen: tuple[int, int], frames: list[tuple[int, int, int, int]], comment: int = 0
) -> bytes:
    """An animated GIF: each frame is (x, y, w, h) in its descriptor, with pixel data for
    a frame of size ``screen`` (so a frame may claim more than its data holds);
    ``comment`` bytes of comment extension come before the first frame."""
    out = bytearray(b"GIF89a" + struct.pack("<HHBBB", *screen, 0x80, 0, 0) + b"\x00" * 3)
    out += b"\xff" * 3
    left = comment
    if left:
        out += b"\x21\xfe"
        while left:
            n = min(255, left)
            out += bytes([n]) + b"c" * n
            left -= n
        out += b"\x00"
    block = bytearray(_gif_image_block(*screen))
    for x, y, w, h in frames:
        out += b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # 100 ms
        struct.pack_into("<HHHH", block, 1, x, y, w, h)
        out += block
    return bytes(out + b";")


def webp_with_chunk(kind: bytes, size: int) -> bytes:
    """A small lossless WebP, made extended (VP8X) and given one ``kind`` chunk."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 30)).save(buf, "WEBP", lossless=True)
    data = buf.getvalue()
    image = data[12:]  # the VP8L chunk
    flags = {b"EXIF": 0x08, b"XMP ": 0x04, b"ICCP": 0x20}.get(kind, 0)
    vp8x = (
        b"VP8X" + struct.pack("<I", 10) + bytes([flags, 0, 0, 0]) + (15).to_bytes(3, "little") * 2
    )
    extra = kind + struct.pack("<I", size) + b"\x00" * size + (b"\x00" if size & 1 else b"")
    body = b"WEBP" + vp8x + image + extra
    return b"RIFF" + struct.pack("<I", len(body)) + body


def tiff_with_tag(path: Path, tag: int, size: int) -> Path:
    Image.new("L", (16, 16), 7).save(path, tiffinfo={tag: b"x" * size})
    return path


def flat_jpeg(width: int, height: int) -> bytes:
    """A valid greyscale baseline JPEG of any size, flat grey, ~0.4 bits per 8x8 block:
    a picture that costs ``width * height`` bytes to decode for a few MB on disk."""
    buf = io.BytesIO()
    Image.new("L", (8, 8), 128).save(buf, "JPEG", quality=75)  # standard Huffman tables
    data = buf.getvalue()
    sof = data.find(b"\xff\xc0")
    sos = data.find(b"\xff\xda")
    (sos_len,) = struct.unpack_from(">H", data, sos + 2)
    head = bytearray(data[: sos + 2 + sos_len])
    struct.pack_into(">HH", head, sof + 5, height, width)
    blocks = ((width + 7) // 8) * ((height + 7) // 8)
    # each block: DC difference 0 ("00") then end-of-block ("1010"); 4 blocks = 3 bytes
    return bytes(head) + b"\x28\xa2\x8a" * ((blocks + 3) // 4) + b"\xff\xd9"


def jpeg_with_segments(marker: int, count: int, size: int = 65533) -> bytes:
    """A small JPEG with ``count`` extra segments of ``marker`` (APPn/COM) after SOI."""
    buf = io.BytesIO()
    Image.new("RGB", (16, 16), (1, 2, 3)).save(buf, "JPEG")
    data = buf.getvalue()
    seg = bytes([0xFF, marker]) + struct.pack(">H", size + 2) + b"m" * size
    return data[:2] + seg * count + data[2:]


def jpeg_with_scans(scans: int) -> bytes:
    """A baseline JPEG followed by ``scans`` more (empty) scans before EOI."""
    data = flat_jpeg(16, 16)
    sos = data.find(b"\xff\xda")
    (sos_len,) = struct.unpack_from(">H", data, sos + 2)
    header = data[sos : sos + 2 + sos_len]
    return data[:-2] + (header + b"\x28\xa2\x8a") * scans + b"\xff\xd9"


def mjpeg_mov(path: Path, jpeg: bytes, width: int, height: int, frames: int = 2) -> Path:
    """A QuickTime file of ``frames`` copies of one JPEG, muxed without re-encoding."""
    with av.open(str(path), "w", format="mov") as out:
        stream = out.add_stream("mjpeg", rate=25)
        stream.width, stream.height, stream.pix_fmt = width, height, "yuvj420p"
        for i in range(frames):
            packet = av.Packet(jpeg)
            packet.stream = stream
            packet.pts = packet.dts = i
            packet.time_base = Fraction(1, 25)
            out.mux(packet)
    return path


def _ebml(ident: bytes, body: bytes) -> bytes:
    return ident + b"\x01" + len(body).to_bytes(7, "big") + body


def webm_with_attachment(webm: bytes, size: int) -> bytes:
    """``webm`` with an Attachments element of ``size`` bytes at the start of its Segment
    (the Segment's 8-byte size grown to match; seek offsets are left as they were)."""
    attached = _ebml(
        b"\x61\xa7",  # AttachedFile
        _ebml(b"\x46\x6e", b"cover.bin")  # FileName
        + _ebml(b"\x46\x60", b"application/octet-stream")  # FileMimeType
        + _ebml(b"\x46\xae", b"\x01")  # FileUID
        + _ebml(b"\x46\x5c", bytes(size)),  # FileData
    )
    element = _ebml(b"\x19\x41\xa4\x69", attached)  # Attachments
    seg = webm.find(b"\x18\x53\x80\x67")
    assert seg > 0 and webm[seg + 4] == 0x01, "expected an 8-byte Segment size"
    old = int.from_bytes(webm[seg + 5 : seg + 12], "big")
    body = seg + 12
    grown = b"\x01" + (old + len(element)).to_bytes(7, "big")
    return webm[: seg + 4] + grown + element + webm[body:]


def flac_with_pictures(flac: bytes, count: int, size: int = 15 * 1024**2) -> bytes:
    """``flac`` with ``count`` PICTURE metadata blocks of ``size`` bytes after STREAMINFO."""
    assert flac[:4] == b"fLaC" and flac[4] & 0x7F == 0  # STREAMINFO first
    info_len = int.from_bytes(flac[5:8], "big")
    streaminfo = bytes([flac[4] & 0x7F]) + flac[5 : 8 + info_len]
    rest = flac[8 + info_len :]
    was_last = flac[4] & 0x80
    blocks = b""
    for i in range(count):
        last = was_last and i == count - 1
        blocks += bytes([0x86 if last else 0x06]) + size.to_bytes(3, "big") + bytes(size)
    return b"fLaC" + streaminfo + blocks + rest


def wav_with_chunk(wav: bytes, kind: bytes, size: int) -> bytes:
    """``wav`` with a ``kind`` chunk of ``size`` bytes before its data chunk."""
    body = wav[12:]
    chunk = kind + struct.pack("<I", size) + bytes(size) + (b"\x00" if size & 1 else b"")
    data_at = body.find(b"data")
    out = body[:data_at] + chunk + body[data_at:]
    return b"RIFF" + struct.pack("<I", 4 + len(out)) + b"WAVE" + out
