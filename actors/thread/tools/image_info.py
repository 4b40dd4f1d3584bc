"""Facts read from image bytes without decoding them: type and pixel size (PNG, JPEG, GIF,
WebP headers). Pure; used to choose how a file is delivered and to describe images."""

from __future__ import annotations

import struct
from typing import Final

PHOTO_MAX_BYTES: Final = 10 * 1024 * 1024
"""Telegram's sendPhoto limit; bigger images go as documents."""
PHOTO_MAX_SIDES: Final = 10_000
"""Telegram refuses a photo whose width plus height exceeds this."""
PHOTO_MAX_RATIO: Final = 20
PHOTO_TYPES: Final = ("image/jpeg", "image/png", "image/webp")


def image_type(data: bytes) -> str | None:
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def _jpeg_size(data: bytes) -> tuple[int, int]:
    pos = 2
    while pos + 9 < len(data):
        if data[pos] != 0xFF:
            pos += 1
            continue
        marker = data[pos + 1]
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            pos += 2
            continue
        length = struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[pos + 5 : pos + 9])
            return int(width), int(height)
        pos += 2 + length
    return 0, 0


def _webp_size(data: bytes) -> tuple[int, int]:
    chunk = data[12:16]
    if chunk == b"VP8X" and len(data) >= 30:
        width = 1 + int.from_bytes(data[24:27], "little")
        height = 1 + int.from_bytes(data[27:30], "little")
        return width, height
    if chunk == b"VP8 " and len(data) >= 30:
        width, height = struct.unpack("<HH", data[26:30])
        return int(width) & 0x3FFF, int(height) & 0x3FFF
    if chunk == b"VP8L" and len(data) >= 25:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    return 0, 0


def image_dimensions(data: bytes) -> tuple[int, int]:
    """Width and height in pixels; ``(0, 0)`` when the bytes are no image we can read."""
    kind = image_type(data)
    if kind == "image/png" and len(data) >= 24:
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if kind == "image/gif" and len(data) >= 10:
        width, height = struct.unpack("<HH", data[6:10])
        return int(width), int(height)
    if kind == "image/jpeg":
        return _jpeg_size(data)
    if kind == "image/webp":
        return _webp_size(data)
    return 0, 0


def fits_as_photo(data: bytes) -> bool:
    """Whether Telegram takes these bytes as a photo (type, size, sides and ratio)."""
    if image_type(data) not in PHOTO_TYPES or len(data) > PHOTO_MAX_BYTES:
        return False
    width, height = image_dimensions(data)
    if not width or not height or width + height > PHOTO_MAX_SIDES:
        return False
    return max(width, height) / min(width, height) <= PHOTO_MAX_RATIO
