"""Files API store: uploads with metadata, expiry (``expires_in_seconds``, 1 h to 90 days;
24 h when not given), cursor pagination, and the content rules a message's file reference
must meet (an ``image`` block needs an image file, a ``document`` block a PDF or plain text).
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FILE_TTL = timedelta(hours=24)
MIN_EXPIRY_SECONDS = 3600
MAX_EXPIRY_SECONDS = 7_776_000
MAX_FILE_BYTES = 500 * 1024 * 1024
IMAGE_TYPES = ("image/jpeg", "image/png", "image/gif", "image/webp")
DOCUMENT_TYPES = ("application/pdf", "text/plain")
EXTENSIONS = {"application/pdf": ".pdf", "text/plain": ".txt", "image/png": ".png",
              "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp"}  # fmt: skip


def reference_error(block_type: str, stored: StoredFile) -> str | None:
    """Why a message block of ``block_type`` cannot reference ``stored`` (None: it can)."""
    mime = stored.mime_type.split(";")[0].strip().lower()
    if block_type == "image" and mime not in IMAGE_TYPES:
        return (
            f"messages: file {stored.id} has mime type {mime}; an image block needs one of "
            + ", ".join(IMAGE_TYPES)
        )
    if block_type == "document" and mime not in DOCUMENT_TYPES:
        return (
            f"messages: file {stored.id} has mime type {mime}; a document block needs "
            "application/pdf or text/plain"
        )
    return None


def rfc3339(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


@dataclass(slots=True)
class StoredFile:
    id: str
    filename: str
    mime_type: str
    data: bytes
    created_at: datetime
    expires_at: datetime
    downloadable: bool = False
    seq: int = 0

    def metadata(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": "file",
            "filename": self.filename,
            "mime_type": self.mime_type,
            "size_bytes": len(self.data),
            "created_at": rfc3339(self.created_at),
            "expires_at": rfc3339(self.expires_at),
            "downloadable": self.downloadable,
        }


@dataclass
class FileStore:
    files: dict[str, StoredFile] = field(default_factory=dict)
    _seq: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def add(
        self,
        data: bytes,
        filename: str,
        mime_type: str,
        *,
        downloadable: bool = False,
        now: datetime | None = None,
        expires_in: timedelta = FILE_TTL,
    ) -> StoredFile:
        created = now or datetime.now(UTC)
        if not filename:
            filename = "unnamed" + EXTENSIONS.get(mime_type, "")
        stored = StoredFile(
            id="file_" + secrets.token_hex(12),
            filename=filename,
            mime_type=mime_type,
            data=data,
            created_at=created,
            expires_at=created + expires_in,
            downloadable=downloadable,
            seq=next(self._seq),
        )
        self.files[stored.id] = stored
        return stored

    def live(self, file_id: str, now: datetime | None = None) -> StoredFile | None:
        """The file if it exists and has not expired."""
        stored = self.files.get(file_id)
        if stored is None or stored.expires_at <= (now or datetime.now(UTC)):
            return None
        return stored

    def page(self, limit: int, after: str | None) -> tuple[list[StoredFile], str | None]:
        """Newest first; `after` is the cursor returned as next_page."""
        now = datetime.now(UTC)
        ordered = sorted(
            (f for f in self.files.values() if f.expires_at > now), key=lambda f: -f.seq
        )
        if after is not None:
            ids = [f.id for f in ordered]
            ordered = ordered[ids.index(after) + 1 :] if after in ids else []
        page = ordered[:limit]
        more = len(ordered) > limit
        return page, (page[-1].id if more and page else None)
