"""Images made readable for Claude (Pillow, with pillow-heif for HEIC/HEIF).

JPEG, PNG, GIF and WebP within the Messages API's limits (5 MB, 8000 px a side) are kept as
they are. Anything else the user sends as an image (HEIC/HEIF from iPhones, BMP, TIFF), and
any image over those limits, is re-encoded: PNG when it has transparency, else JPEG, scaled
down until it fits. CPU-bound: call :func:`prepare_image` through ``asyncio.to_thread``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Final

from PIL import Image, UnidentifiedImageError
from pillow_heif import register_heif_opener

from actors.thread.content import MAX_IMAGE_BYTES

register_heif_opener()

MAX_SIDE: Final = 8000
READABLE_FORMATS: Final = {"JPEG": "image/jpeg", "PNG": "image/png", "GIF": "image/gif",
                           "WEBP": "image/webp"}  # fmt: skip
SOURCE_TYPES: Final = {"HEIF": "image/heic", "BMP": "image/bmp", "TIFF": "image/tiff",
                       "DIB": "image/bmp"}  # fmt: skip
TOKENS_CAP: Final = 1_600
"""The API scales large images to about 1.15 megapixels: about 1,600 tokens at most."""


class ImageError(ValueError):
    """The bytes are not an image Pillow can read (the message says why, for the user)."""


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes
    mime_type: str
    converted_from: str | None
    width: int
    height: int

    @property
    def tokens(self) -> int:
        return min(TOKENS_CAP, max(1, self.width * self.height // 750))


def prepare_image(data: bytes) -> PreparedImage:
    """``data`` as an image Claude reads (see the module docstring)."""
    try:
        with Image.open(io.BytesIO(data)) as image:  # reads the header only
            fmt = (image.format or "").upper()
            width, height = image.size
            if (
                fmt in READABLE_FORMATS
                and len(data) <= MAX_IMAGE_BYTES
                and max(width, height) <= MAX_SIDE
            ):
                return PreparedImage(data, READABLE_FORMATS[fmt], None, width, height)
            original = SOURCE_TYPES.get(fmt) or READABLE_FORMATS.get(fmt) or f"image/{fmt.lower()}"
            image.load()  # decoded only when it must be re-encoded
            return _reencode(image, original)
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as exc:
        raise ImageError(f"the image cannot be read ({type(exc).__name__}: {exc})") from None


def _reencode(image: Image.Image, original: str) -> PreparedImage:
    alpha = image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info
    converted = image.convert("RGBA" if alpha else "RGB")
    side = MAX_SIDE
    quality = 90
    while True:
        frame = converted.copy()
        frame.thumbnail((side, side))
        out = io.BytesIO()
        if alpha:
            frame.save(out, "PNG", optimize=True)
        else:
            frame.save(out, "JPEG", quality=quality)
        encoded = out.getvalue()
        if len(encoded) <= MAX_IMAGE_BYTES or side <= 512:
            mime = "image/png" if alpha else "image/jpeg"
            return PreparedImage(encoded, mime, original, frame.width, frame.height)
        side = int(side * 0.7)
        quality = max(70, quality - 5)
