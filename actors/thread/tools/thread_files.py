"""The thread's files as the file tools see them: lookup by id, kind, content blocks, PDF pages.

A file's id is the one the thread's history keeps for each attachment (:attr:`FileNote.id`:
our file store id once the file was stored, Telegram's id for an attachment received before
the store); ``list_files`` shows them to the model. The bytes are read through the tool
context's :class:`FilesPort` (the file store, bound to this thread and user).
"""

from __future__ import annotations

import base64
import io
import re
from collections.abc import Sequence
from typing import TYPE_CHECKING, Final, Literal, TypeAlias

from actors.thread.content import IMAGE_TYPES, MAX_IMAGE_BYTES, TEXT_SUFFIXES, TEXT_TYPES
from actors.thread.state import FileNote
from actors.thread.tools.base import ToolContext, ToolFailure

if TYPE_CHECKING:
    from pypdf import PdfReader

FileKind: TypeAlias = Literal["image", "pdf", "text", "other"]
MAX_PAGES: Final = 100
"""Pages one analyze_pdf call may send (the API's own limit for a PDF)."""
_STORED_KINDS: Final[dict[str, FileKind]] = {"image": "image", "pdf": "pdf", "text": "text"}
_RANGE: Final = re.compile(r"^\s*(\d{1,5})\s*(?:-\s*(\d{1,5})\s*)?$")


def kind_of(note: FileNote) -> FileKind:
    stored = _STORED_KINDS.get(note.stored_kind or "")
    if stored is not None:
        return stored
    mime = (note.stored_mime_type or note.mime_type or "").lower()
    name = (note.file_name or "").lower()
    if note.kind == "photo" or mime in IMAGE_TYPES:
        return "image"
    if mime == "application/pdf" or name.endswith(".pdf"):
        return "pdf"
    if mime.startswith(TEXT_TYPES) or name.endswith(TEXT_SUFFIXES):
        return "text"
    return "other"


def label(note: FileNote) -> str:
    return note.stored_name or note.file_name or f"{note.kind} {note.id[:8]}"


def find_file(ctx: ToolContext, file_id: object) -> FileNote:
    """The thread's file with this id (the newest, if sent twice)."""
    if not isinstance(file_id, str) or not file_id.strip():
        raise ToolFailure("invalid_input", "file_id must be one of the ids list_files shows")
    for note in reversed(ctx.files):
        if file_id.strip() in (note.id, note.file_id):
            return note
    raise ToolFailure(
        "not_found",
        f"no file {file_id!r} in this conversation; call list_files for the ids",
    )


def require_kind(note: FileNote, wanted: FileKind) -> None:
    found = kind_of(note)
    if found != wanted:
        raise ToolFailure("invalid_input", f"{label(note)} is not {_article(wanted)} ({found})")


def _article(kind: FileKind) -> str:
    return {"image": "an image", "pdf": "a PDF", "text": "a text file", "other": "a file"}[kind]


async def read_bytes(ctx: ToolContext, note: FileNote, limit: int) -> bytes:
    if note.file_size is not None and note.file_size > limit:
        raise ToolFailure("invalid_input", f"{label(note)} is over {limit // (1024 * 1024)} MB")
    data = await ctx.file_store.read(note)
    if len(data) > limit:
        raise ToolFailure("invalid_input", f"{label(note)} is over {limit // (1024 * 1024)} MB")
    return data


def image_block(data: bytes, note: FileNote) -> dict[str, object]:
    if len(data) > MAX_IMAGE_BYTES:
        raise ToolFailure("invalid_input", f"{label(note)} is over 5 MB")
    mime = (note.mime_type or "").lower()
    return {
        "type": "image",
        "source": {
            "type": "base64",
            "media_type": mime if mime in IMAGE_TYPES else sniff_image(data),
            "data": base64.b64encode(data).decode(),
        },
    }


def pdf_block(data: bytes, title: str) -> dict[str, object]:
    return {
        "type": "document",
        "source": {
            "type": "base64",
            "media_type": "application/pdf",
            "data": base64.b64encode(data).decode(),
        },
        "title": title,
    }


def sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"


def parse_pages(spec: object, total: int) -> list[int]:
    """``"all"``, ``"3"``, ``"1-3, 7"`` -> 1-based page numbers in order, no repeats.

    Raises :class:`ToolFailure` (``invalid_input``) for anything else, a page outside
    ``1..total``, a backwards range, or more than :data:`MAX_PAGES` pages.
    """
    text = "all" if spec is None else spec
    if not isinstance(text, str) or not text.strip():
        raise ToolFailure("invalid_input", 'pages must be "all" or like "1-3, 7"')
    if text.strip().lower() == "all":
        pages = list(range(1, total + 1))
    else:
        pages = []
        for part in text.split(","):
            match = _RANGE.match(part)
            if match is None:
                raise ToolFailure("invalid_input", f"{part.strip()!r} is not a page or range")
            first = int(match.group(1))
            last = int(match.group(2) or first)
            if first < 1 or last > total or first > last:
                raise ToolFailure(
                    "invalid_input", f"pages {part.strip()} are outside 1-{total} or backwards"
                )
            pages.extend(p for p in range(first, last + 1) if p not in pages)
    if len(pages) > MAX_PAGES:
        raise ToolFailure("invalid_input", f"at most {MAX_PAGES} pages per call; choose fewer")
    return pages


def _reader(data: bytes) -> tuple[PdfReader, int]:
    # pypdf is imported on the first PDF, not with the tools (a start's CPU)
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        reader = PdfReader(io.BytesIO(data))
        return reader, len(reader.pages)
    except (PdfReadError, ValueError, OSError) as exc:
        raise ToolFailure("invalid_input", f"the PDF cannot be read: {exc}") from None


def pdf_page_count(data: bytes) -> int:
    return _reader(data)[1]


def pdf_pages(data: bytes, spec: object) -> tuple[bytes, list[int], int]:
    """A PDF with only the selected pages: (bytes, pages kept, pages in the original)."""
    reader, total = _reader(data)
    pages = parse_pages(spec, total)
    if pages == list(range(1, total + 1)):
        return data, pages, total
    from pypdf import PdfWriter

    writer = PdfWriter()
    for page in pages:
        writer.add_page(reader.pages[page - 1])
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue(), pages, total


def describe(notes: Sequence[FileNote]) -> list[dict[str, object]]:
    return [
        {
            "file_id": note.id,
            "name": label(note),
            "kind": kind_of(note),
            "mime_type": note.stored_mime_type or note.mime_type,
            "size_bytes": note.stored_size or note.file_size,
        }
        for note in notes
    ]
