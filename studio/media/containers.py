"""Bounds on audio/video container metadata, checked before FFmpeg reads the file.

FFmpeg's demuxers read metadata whole into memory when they open a file: Matroska
attachments, tags and cues; FLAC metadata blocks (cover pictures); WAV chunks other
than the samples (an ``id3 `` chunk with cover art…). A small walk over the file's
top-level structure adds those up and refuses a file whose metadata is over
``META_TOTAL_MAX``, before any decoder sees it. (MP3 ID3 tags are bounded by
``sniff``, MP4/MOV/M4A index boxes by ``probe``.)
"""

from __future__ import annotations

import struct
from typing import BinaryIO

from studio.media.kinds import MediaError
from studio.media.structure import META_TOTAL_MAX

__all__ = ["check_container"]

_MAX_ELEMENTS = 100_000


def _too_much(what: str) -> MediaError:
    return MediaError(
        "bomb",
        f"the {what} file carries more than {META_TOTAL_MAX // 1024**2} MiB of metadata, "
        "over the safety limit",
    )


def check_container(f: BinaryIO, ext: str, size: int, what: str) -> None:
    """Raise MediaError('bomb') if the container's metadata is over the limit."""
    if ext == "flac":
        meta = _flac_metadata(f)
    elif ext == "wav":
        meta = _riff_metadata(f, size)
    elif ext == "webm":
        meta = _ebml_metadata(f, size)
    else:
        return
    if meta > META_TOTAL_MAX:
        raise _too_much(what)


def _flac_metadata(f: BinaryIO) -> int:
    f.seek(0)
    head = f.read(10)
    offset = 0
    if head.startswith(b"ID3") and len(head) == 10:  # sniff bounded the tag itself
        offset = 10 + ((head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9])
    f.seek(offset)
    if f.read(4) != b"fLaC":
        return 0
    total = 0
    for _ in range(_MAX_ELEMENTS):
        block = f.read(4)
        if len(block) < 4:
            break
        length = int.from_bytes(block[1:4], "big")
        total += length
        if block[0] & 0x80 or total > META_TOTAL_MAX:  # the last block, or enough
            break
        f.seek(length, 1)
    return total


def _riff_metadata(f: BinaryIO, size: int) -> int:
    f.seek(12)
    pos = 12
    total = 0
    for _ in range(_MAX_ELEMENTS):
        header = f.read(8)
        if len(header) < 8:
            break
        kind, length = struct.unpack("<4sI", header)
        if kind != b"data":
            total += min(length, size - pos)
            if total > META_TOTAL_MAX:
                break
        pos += 8 + length + (length & 1)
        if pos >= size:
            break
        f.seek(pos)
    return total


# Matroska: top-level children of the Segment that demuxers keep in memory.
_SEGMENT = 0x18538067
_CLUSTER = 0x1F43B675
_VOID = 0xEC
_MEDIA_FREE = {_CLUSTER, _VOID, 0xBF}  # clusters hold the media; Void/CRC are filler


def _vint(f: BinaryIO, *, keep_marker: bool) -> tuple[int, int] | None:
    """An EBML variable-length integer: (value, bytes read); value -1 for 'unknown'."""
    first = f.read(1)
    if not first:
        return None
    b = first[0]
    length = 1
    while length <= 8 and not b & (0x80 >> (length - 1)):
        length += 1
    if length > 8:
        return None
    rest = f.read(length - 1)
    if len(rest) < length - 1:
        return None
    value = b if keep_marker else b & (0xFF >> length)
    for byte in rest:
        value = (value << 8) | byte
    if not keep_marker and value == (1 << (7 * length)) - 1:
        return -1, length  # all ones: size unknown (live streams)
    return value, length


def _ebml_metadata(f: BinaryIO, size: int) -> int:
    f.seek(0)
    total = 0
    pos = 0
    in_segment = False
    for _ in range(_MAX_ELEMENTS):
        f.seek(pos)
        ident = _vint(f, keep_marker=True)
        length = _vint(f, keep_marker=False)
        if ident is None or length is None:
            break
        body = pos + ident[1] + length[1]
        if ident[0] == _SEGMENT and not in_segment:
            in_segment = True
            pos = body  # walk the Segment's children
            continue
        if length[0] < 0:
            break  # an element of unknown size (a live cluster): can't skip it
        if in_segment and ident[0] not in _MEDIA_FREE:
            total += min(length[0], size - body)
            if total > META_TOTAL_MAX:
                break
        pos = body + length[0]
        if pos >= size:
            break
    return total
