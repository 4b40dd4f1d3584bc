"""Images made readable for Claude: HEIC/BMP/TIFF converted, readable ones kept as sent,
unreadable bytes refused with a reason."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from infra.files.images import ImageError, prepare_image


def _encoded(fmt: str, mode: str = "RGB", size: tuple[int, int] = (40, 30)) -> bytes:
    out = io.BytesIO()
    colour = (200, 30, 30, 128) if mode == "RGBA" else (200, 30, 30)
    Image.new(mode, size, colour).save(out, fmt)
    return out.getvalue()


@pytest.mark.parametrize(
    ("fmt", "mode", "mime", "original"),
    [
        ("HEIF", "RGB", "image/jpeg", "image/heic"),
        ("BMP", "RGB", "image/jpeg", "image/bmp"),
        ("TIFF", "RGB", "image/jpeg", "image/tiff"),
        ("TIFF", "RGBA", "image/png", "image/tiff"),
    ],
)
def test_formats_claude_cannot_read_are_converted(
    fmt: str, mode: str, mime: str, original: str
) -> None:
    """HEIC, BMP and TIFF become JPEG (PNG when transparent), same size, original named."""
    prepared = prepare_image(_encoded(fmt, mode))
    assert (prepared.mime_type, prepared.converted_from) == (mime, original)
    assert (prepared.width, prepared.height) == (40, 30)
    with Image.open(io.BytesIO(prepared.data)) as image:
        assert image.format == ("PNG" if mime == "image/png" else "JPEG")


def test_readable_images_are_kept_byte_for_byte() -> None:
    """A PNG within the limits is sent exactly as the user sent it."""
    data = _encoded("PNG")
    prepared = prepare_image(data)
    assert (prepared.data, prepared.mime_type, prepared.converted_from) == (data, "image/png", None)


def test_an_image_over_the_side_limit_is_scaled_down() -> None:
    """A 9000 px wide image is re-encoded within 8000 px."""
    prepared = prepare_image(_encoded("PNG", size=(9000, 10)))
    assert prepared.width <= 8000
    assert prepared.mime_type == "image/jpeg"


def test_bytes_that_are_no_image_are_refused_with_a_reason() -> None:
    """Garbage named .jpg is refused with a message, never a crash."""
    with pytest.raises(ImageError, match="cannot be read"):
        prepare_image(b"not an image at all")
