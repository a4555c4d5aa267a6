"""Is an image file cut off? A cheap check of where it ends, affordable for every photo of a folder when it opens
(nothing is decoded): a PNG ends with its IEND chunk, a JPEG with its end-of-image marker FF D9. A copy that was
interrupted or is still running fails it; a file that passes may still be damaged inside (the decoder finds that),
and other formats are not judged. Only files the decoders refuse are judged cut off: data after a JPEG's end (a
phone's trailer, zero padding) or a PNG that lacks only its IEND chunk is fine.
"""

from __future__ import annotations

import os
from typing import BinaryIO

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
IEND_CHUNK = b"\x00\x00\x00\x00IEND\xaeB`\x82"  # a PNG's last 12 bytes
JPEG_START, JPEG_END, JPEG_SCAN = b"\xff\xd8", b"\xff\xd9", 0xDA
JPEG_PADDING = b"\x00\xff \t\r\n"  # what some writers leave after a JPEG's end marker
TAIL_BYTES = 4096  # read from a JPEG's end: its end marker followed by padding
HEAD_BYTES = 1 << 20  # a JPEG's segments before its first scan (EXIF at most 64 kB each) lie within this
_CHUNK = 1 << 20
ENDS_EARLY = "ends early (truncated, or still being copied?): copy it again once it is complete."


def ends_early(f: BinaryIO) -> bool:
    """True when the PNG or JPEG readable from the binary file `f` is cut off; False when it is complete or not
    judged (another format, or a structure this check does not follow). Reads its first and last bytes only, unless
    a JPEG has data after its end marker or a PNG does not end with IEND (then its markers or chunks are followed)."""
    start = f.read(len(PNG_SIGNATURE))
    size = f.seek(0, os.SEEK_END)
    if start.startswith(PNG_SIGNATURE):
        return _png_ends_early(f, size)
    if start.startswith(JPEG_START):
        return _jpeg_ends_early(f, size)
    return False


def _tail(f: BinaryIO, size: int, n: int) -> bytes:
    f.seek(max(0, size - n))
    return f.read(n)


def _png_ends_early(f: BinaryIO, size: int) -> bool:
    """Cut off: a chunk runs past the end of the file, or one that follows is not a chunk (the zeros of a file still
    being written); a PNG whose chunks end cleanly before an IEND is decoded all the same, so it is not judged."""
    if _tail(f, size, len(IEND_CHUNK)) == IEND_CHUNK:
        return False
    pos = len(PNG_SIGNATURE)
    while pos + 8 <= size:
        f.seek(pos)
        header = f.read(8)
        kind = header[4:]
        if len(header) < 8 or not kind.isalpha():
            return True
        if kind == b"IEND":
            return False  # data after the image: fine
        pos += 12 + int.from_bytes(header[:4], "big")  # length, type, data, CRC
    return pos != size


def _jpeg_ends_early(f: BinaryIO, size: int) -> bool:
    """Cut off: no end marker after the image's first scan (entropy-coded data never holds FF D9). Data after the
    end marker is fine: cameras and phones add trailers, and some writers pad with zeros."""
    if _tail(f, size, TAIL_BYTES).rstrip(JPEG_PADDING).endswith(JPEG_END):
        return False
    f.seek(0)
    scan = _first_scan(f.read(HEAD_BYTES))
    if scan is None:
        return False  # not followed: the decoder judges it
    f.seek(scan)
    last = b""
    while block := f.read(_CHUNK):
        if JPEG_END in last + block:
            return False
        last = block[-1:]
    return True


def _first_scan(head: bytes) -> int | None:
    """The offset of the first start-of-scan marker, found by following the segments from the start; None when it
    is not within `head` or a segment is not where one should be."""
    pos = len(JPEG_START)
    while pos + 4 <= len(head):
        if head[pos] != 0xFF:
            return None
        marker = head[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
        elif marker == JPEG_SCAN:
            return pos
        elif marker == 0x01 or 0xD0 <= marker <= 0xD7:  # markers without a length
            pos += 2
        else:
            pos += 2 + int.from_bytes(head[pos + 2:pos + 4], "big")
    return None
