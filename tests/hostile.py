"""Builders of hostile inputs, made at run time so no binary fixture lives in git."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

__all__ = ["write_blank_png"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def write_blank_png(path: Path, width: int, height: int, *, bit_depth: int = 8, colour_type: int = 0) -> Path:
    """An all-zero PNG of any size, streamed in blocks of rows: a 15,800² 16-bit bomb costs ~0.5 MB and no memory.

    ``colour_type`` 0 is grayscale, 2 RGB, 4 grayscale + alpha, 6 RGBA; ``bit_depth`` 8 or 16.
    """
    channels = {0: 1, 2: 3, 4: 2, 6: 4}[colour_type]
    row = b"\x00" * (1 + width * channels * bit_depth // 8)  # filter byte 0 + zero samples
    rows_per_block = max(1, (8 << 20) // len(row))
    compressor = zlib.compressobj(9)
    body = bytearray()
    for start in range(0, height, rows_per_block):
        body += compressor.compress(row * min(rows_per_block, height - start))
    body += compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", bytes(body)) + _chunk(b"IEND", b"")
    )
    return path
