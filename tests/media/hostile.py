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
