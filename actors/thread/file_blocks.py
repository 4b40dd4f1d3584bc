"""How a history file appears to the model, and what it costs in the context window.

* an image, PDF or text file with a live Files API upload: an ``image`` / ``document`` block
  referencing it (``source.type = "file"``), on every turn while it stays in the window;
  on a Gemini turn (which cannot read Claude's Files API) the same block with the file's
  bytes inline (``base64``, or the text) instead;
* a voice message or video note: its transcript, as text;
* audio, video and other documents (office files, archives): one line naming the file, its
  id and size, so the model can hand it to a tool (the sandbox, transcription);
* a file that could not be taken in (download failed, bytes deleted by retention): one line
  saying so and why, so the model tells the user instead of guessing.

Tokens: a text file by its estimated tokens (measured on intake), a PDF by its pages, an
image by its pixels (each as estimated on intake, ``FileNote.tokens``); the flat
:data:`FILE_TOKENS` when unknown.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Final

from actors.thread.state import FileNote

FILE_TOKENS: Final = 1_600
"""Tokens of a file whose size is unknown (about one page or one image)."""
LINE_TOKENS: Final = 40
"""Tokens of a file shown as one line (audio, video, documents, unavailable files)."""
ContentBlock = dict[str, Any]


def _size(note: FileNote) -> str:
    size = note.stored_size or note.file_size
    if size is None:
        return ""
    if size >= 1024 * 1024:
        return f", {size / (1024 * 1024):.1f} MB"
    return f", {max(1, size // 1024)} KB"


def _name(note: FileNote) -> str:
    return note.stored_name or note.file_name or note.kind.replace("_", " ")


def _duration(seconds: float | None) -> str:
    if not seconds:
        return ""
    whole = round(seconds)
    return f", {whole // 60}:{whole % 60:02d}"


def shown_as_reference(note: FileNote, now: datetime) -> bool:
    return note.stored_kind in ("image", "pdf", "text") and note.upload_live(now, 0.0)


def inline_blocks(note: FileNote, data: bytes) -> list[ContentBlock]:
    """An image, PDF or text file with its bytes in the request (base64, or the text)."""
    mime = note.stored_mime_type or "application/octet-stream"
    if note.stored_kind == "text":
        text = data.decode("utf-8", errors="replace")
        source = {"type": "text", "media_type": "text/plain", "data": text}
        return [{"type": "document", "source": source, "title": _name(note)}]
    source = {"type": "base64", "media_type": mime, "data": base64.b64encode(data).decode()}
    if note.stored_kind == "image":
        return [{"type": "image", "source": source}]
    return [{"type": "document", "source": source, "title": _name(note)}]


def note_blocks(
    note: FileNote,
    now: datetime,
    unavailable: Mapping[str, str] | None = None,
    inline: Mapping[str, bytes] | None = None,
) -> list[ContentBlock]:
    """The content blocks of one history file (see the module docstring); ``inline``: the
    bytes of files sent in the request itself rather than by Files API reference."""
    reason = (unavailable or {}).get(note.stored_id or "")
    if reason is not None:
        return [_text(f"[{_name(note)} (file id {note.id}) cannot be read: {reason}]")]
    data = (inline or {}).get(note.stored_id or "")
    if data is not None and note.stored_kind in ("image", "pdf", "text"):
        return inline_blocks(note, data)
    if note.stored_kind is not None and shown_as_reference(note, now):
        source = {"type": "file", "file_id": note.provider_file_id}
        if note.stored_kind == "image":
            return [{"type": "image", "source": source}]
        return [{"type": "document", "source": source, "title": _name(note)}]
    if note.transcript is not None:
        what = "video message" if note.kind == "video_note" else "voice message"
        return [_text(f"[{what}{_duration(note.duration_seconds)}, transcript]\n{note.transcript}")]
    if note.stored_id is not None and note.stored_kind in ("audio", "video", "document", "voice"):
        what = {"audio": "audio file", "video": "video", "voice": "voice message"}.get(
            note.stored_kind, "file"
        )
        return [
            _text(
                f"[{what} {_name(note)} (file id {note.id}{_size(note)}"
                f"{_duration(note.duration_seconds)}): stored; tools can read it]"
            )
        ]
    return []


def note_tokens(note: FileNote) -> int:
    """The tokens one history file adds to a request (an estimate on the safe side)."""
    if note.transcript is not None:
        return len(note.transcript) // 3 + LINE_TOKENS
    if note.stored_kind in ("audio", "video", "document", "voice"):
        return LINE_TOKENS
    return note.tokens if note.tokens is not None else FILE_TOKENS


def _text(text: str) -> ContentBlock:
    return {"type": "text", "text": text}
