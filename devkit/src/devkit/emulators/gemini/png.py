"""Real, small, valid PNG files of a given size (zlib + struct), and the sizes Gemini's image
models answer per aspect ratio and image size."""

from __future__ import annotations

import struct
import zlib

# Gemini image models at image_size "1K" (width, height); 2K and 4K double and quadruple them,
# "512" halves them.
SIZES_1K: dict[str, tuple[int, int]] = {
    "1:1": (1024, 1024),
    "2:3": (848, 1264),
    "3:2": (1264, 848),
    "3:4": (896, 1200),
    "4:3": (1200, 896),
    "4:5": (928, 1152),
    "5:4": (1152, 928),
    "9:16": (768, 1376),
    "16:9": (1376, 768),
    "21:9": (1584, 672),
}
SCALES: dict[str, float] = {"512": 0.5, "1K": 1, "2K": 2, "4K": 4}


def image_dimensions(aspect_ratio: str, image_size: str) -> tuple[int, int]:
    """Width and height for a supported aspect ratio and size (KeyError otherwise)."""
    width, height = SIZES_1K[aspect_ratio]
    scale = SCALES[image_size]
    return int(width * scale), int(height * scale)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png_bytes(width: int, height: int, rgb: tuple[int, int, int] = (90, 140, 200)) -> bytes:
    """A solid-colour 8-bit RGB PNG (rows compressed one at a time: 4K stays fast)."""
    row = b"\x00" + bytes(rgb) * width
    compressor = zlib.compressobj(6)
    parts = [compressor.compress(row) for _ in range(height)]
    parts.append(compressor.flush())
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", b"".join(parts))
        + _chunk(b"IEND", b"")
    )


def png_size(data: bytes) -> tuple[int, int]:
    """Width and height from a PNG's IHDR (ValueError when it is no PNG)."""
    if not data.startswith(b"\x89PNG\r\n\x1a\n") or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)
