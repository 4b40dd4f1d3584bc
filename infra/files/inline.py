"""A Gemini turn's files, read from the store to be sent inline.

Gemini cannot read Claude's Files API, so a turn on a Gemini model carries the bytes of the
images, PDFs and text files its request keeps (the history the context window holds) in the
request itself, read from the thread's file store on each turn (nothing is uploaded and
nothing recorded). The whole request must stay under Gemini's inline limit: files are taken
newest first while they fit in :data:`INLINE_BUDGET_BYTES`; an older one beyond it, or one
that cannot be read, is reported to the model as unreadable with the reason.
"""

from __future__ import annotations

from typing import Final

from actors.thread.file_store import FileBytesDeleted, FileNotFound, FileStore, StoreUnavailable
from actors.thread.state import FileNote

INLINE_BUDGET_BYTES: Final = 18 * 1024 * 1024
"""Bytes of files one Gemini request carries inline at most (Gemini takes requests up to
20 MB inline; the rest is the conversation)."""


async def read_inline(
    store: FileStore,
    thread_key: str,
    notes: list[FileNote],
    requester_id: int,
    unavailable: dict[str, str],
) -> dict[str, bytes]:
    """Stored file id -> bytes for ``notes`` (oldest first, as the history keeps them);
    files that cannot be sent get their reason in ``unavailable``."""
    inline: dict[str, bytes] = {}
    used = 0
    for note in reversed(notes):
        stored_id = note.stored_id
        if stored_id is None or stored_id in inline or stored_id in unavailable:
            continue
        owner = note.owner_user_id or requester_id  # read as the one who sent it
        try:
            data = await store.read(stored_id, thread_key=thread_key, user_id=owner)
        except FileBytesDeleted as exc:
            unavailable[stored_id] = str(exc)
            continue
        except (FileNotFound, StoreUnavailable) as exc:
            unavailable[stored_id] = f"it could not be attached right now ({exc})"
            continue
        if used + len(data) > INLINE_BUDGET_BYTES:
            unavailable[stored_id] = (
                "it does not fit in this request beside the newer files "
                f"({INLINE_BUDGET_BYTES // (1024 * 1024)} MB in all)"
            )
            continue
        used += len(data)
        inline[stored_id] = data
    return inline
