"""Files API store: uploads with metadata, 24 h expiry, cursor pagination."""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

FILE_TTL = timedelta(hours=24)


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
    ) -> StoredFile:
        created = now or datetime.now(UTC)
        stored = StoredFile(
            id="file_" + secrets.token_hex(12),
            filename=filename,
            mime_type=mime_type,
            data=data,
            created_at=created,
            expires_at=created + FILE_TTL,
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
