"""Files a tool produces (a chart the code drew, an image, a rendered formula): what the tool
returns (:class:`ProducedFile`), and the helpers to name and type them. The runtime stores each
one as a generated file of the thread (``thread.file_generated``) and tells the model its
id, so ``list_files``, ``preview_file`` and ``deliver_file`` reach it like a user's file."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final

from actors.thread.file_store import sanitize_name
from actors.thread.tools.image_info import image_type

TYPES_BY_SUFFIX: Final[dict[str, str]] = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".svg": "image/svg+xml",
    ".pdf": "application/pdf",
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".txt": "text/plain",
    ".md": "text/markdown",
    ".json": "application/json",
    ".html": "text/html",
    ".xml": "application/xml",
    ".py": "text/x-python",
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    ".mp3": "audio/mpeg",
    ".wav": "audio/wav",
    ".ogg": "audio/ogg",
    ".mp4": "video/mp4",
}


@dataclass(frozen=True, slots=True)
class ProducedFile:
    """A file a tool produced; ``preview`` is a short text about it (first lines, size)."""

    name: str
    mime_type: str
    data: bytes
    preview: str | None = None


def safe_name(raw: str, fallback: str = "file") -> str:
    """A file name without folders or special characters (the file store's rule)."""
    return sanitize_name(raw, fallback)


def unique_names(names: Iterable[str]) -> list[str]:
    """``names`` with repeats numbered (``a.png``, ``a_2.png``)."""
    seen: set[str] = set()
    out: list[str] = []
    for name in names:
        candidate, number = name, 1
        stem, dot, suffix = name.rpartition(".")
        while candidate in seen:
            number += 1
            candidate = f"{stem}_{number}.{suffix}" if dot else f"{name}_{number}"
        seen.add(candidate)
        out.append(candidate)
    return out


def mime_of(name: str, data: bytes) -> str:
    """The type of a produced file: its image header if it has one, else its suffix."""
    sniffed = image_type(data)
    if sniffed is not None:
        return sniffed
    lowered = name.lower()
    for suffix, mime in TYPES_BY_SUFFIX.items():
        if lowered.endswith(suffix):
            return mime
    return "application/octet-stream"


def text_preview(data: bytes, mime: str, chars: int = 300) -> str | None:
    """The first characters of a text file (``None`` for other types)."""
    if not (mime.startswith("text/") or mime in ("application/json", "application/xml")):
        return None
    text = data[: chars * 4].decode("utf-8", errors="replace")
    return text[:chars] + ("…" if len(data) > chars else "")


def stored_kind(mime_type: str) -> str:
    """The file store's kind of a produced file, from its type."""
    mime = mime_type.lower()
    if mime.startswith("image/") and mime != "image/svg+xml":
        return "image"
    if mime == "application/pdf":
        return "pdf"
    if mime.startswith("text/") or mime in ("application/json", "application/xml"):
        return "text"
    if mime.startswith("audio/"):
        return "audio"
    if mime.startswith("video/"):
        return "video"
    return "document"
