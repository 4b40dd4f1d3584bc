"""Uploads to the Claude Files API (``anthropic`` SDK, ``client.files``).

A file is uploaded with a 24 h lifetime (``expires_in_seconds``); the response's
``expires_at`` is what the thread records (``thread.file_uploaded``), and the turn uploads it
again once that has passed. Transient failures (429, 5xx, connection) are retried by the SDK
(two retries); what still fails raises :class:`UploadFailed` with a message for the user.

The SDK (seconds of CPU to import) is loaded on the first upload, not at start: built from an
SDK client, or from a function that makes one (the process's, ``Root.claude``) on first use.
"""

from __future__ import annotations

import asyncio
import importlib
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    import anthropic

UPLOAD_TTL_SECONDS: Final = 24 * 3600
UPLOAD_TIMEOUT: Final = 120.0
UPLOAD_RETRIES: Final = 2


class UploadFailed(Exception):
    """The Files API did not take the file (``str(exc)`` says why)."""


@dataclass(frozen=True, slots=True)
class Uploaded:
    file_id: str
    uploaded_at: datetime
    expires_at: datetime


class ClaudeFiles:
    def __init__(
        self, client: anthropic.AsyncAnthropic | Callable[[], anthropic.AsyncAnthropic]
    ) -> None:
        self._make = client if callable(client) else lambda: client
        self._client: anthropic.AsyncAnthropic | None = None

    async def _uploader(self) -> anthropic.AsyncAnthropic:
        if self._client is None:
            if "anthropic" not in sys.modules:
                # imported in a thread: the event loop serves the other turns meanwhile
                await asyncio.to_thread(importlib.import_module, "anthropic")
            client = self._make()
            self._client = client.with_options(max_retries=UPLOAD_RETRIES, timeout=UPLOAD_TIMEOUT)
        return self._client

    async def upload(self, name: str, data: bytes, mime_type: str) -> Uploaded:
        uploader = await self._uploader()
        import anthropic

        try:
            meta = await uploader.files.upload(
                file=(name, data, mime_type), expires_in_seconds=UPLOAD_TTL_SECONDS
            )
        except anthropic.APIStatusError as exc:
            raise UploadFailed(f"the Files API answered {exc.status_code}: {exc.message}") from exc
        except anthropic.APIError as exc:
            raise UploadFailed(f"the Files API could not be reached: {exc}") from exc
        created = meta.created_at if meta.created_at.tzinfo else meta.created_at.replace(tzinfo=UTC)
        expires = meta.expires_at or created + timedelta(seconds=UPLOAD_TTL_SECONDS)
        return Uploaded(
            meta.id, created, expires if expires.tzinfo else expires.replace(tzinfo=UTC)
        )
