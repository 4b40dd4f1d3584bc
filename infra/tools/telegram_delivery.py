"""``deliver_file``'s way into the chat: ``sendPhoto`` or ``sendDocument`` with the matching
chat action first (``upload_photo`` / ``upload_document``), a 429 waited out and network
errors retried a few times. A refusal is a :class:`ToolFailure` the model sees (never a
success it would report): ``rate_limited`` when flood control persists, ``provider_error``
for anything else, with Telegram's description."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any, Final

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.types import BufferedInputFile, Message

from actors.thread.tools.failure import ToolFailure
from actors.thread.tools.providers import DeliverAs, Delivered

log = logging.getLogger(__name__)

MAX_ATTEMPTS: Final = 4
MAX_WAIT: Final = 30.0
CAPTION_LIMIT: Final = 1024


class TelegramDelivery:
    """:class:`~actors.thread.tools.providers.DeliveryPort` on aiogram's Bot."""

    def __init__(
        self, bot: Bot, *, sleep: Callable[[float], Awaitable[Any]] = asyncio.sleep
    ) -> None:
        self.bot = bot
        self._sleep = sleep

    async def send(
        self,
        chat_id: int,
        thread_id: int | None,
        *,
        data: bytes,
        file_name: str,
        sent_as: DeliverAs,
        caption: str | None,
    ) -> Delivered:
        action = "upload_photo" if sent_as == "photo" else "upload_document"
        try:
            await self.bot.send_chat_action(
                chat_id=chat_id, action=action, message_thread_id=thread_id or None
            )
        except TelegramAPIError as exc:
            log.debug("chat action not shown: %s", exc)
        shown = caption[:CAPTION_LIMIT] if caption else None
        upload = BufferedInputFile(data, filename=file_name)
        message = await self._with_retries(
            lambda: (
                self.bot.send_photo(
                    chat_id=chat_id,
                    photo=upload,
                    caption=shown,
                    message_thread_id=thread_id or None,
                )
                if sent_as == "photo"
                else self.bot.send_document(
                    chat_id=chat_id,
                    document=upload,
                    caption=shown,
                    message_thread_id=thread_id or None,
                )
            )
        )
        if message.photo:
            file_id: str | None = message.photo[-1].file_id
        else:
            file_id = message.document.file_id if message.document else None
        return Delivered(message_id=message.message_id, sent_as=sent_as, telegram_file_id=file_id)

    async def _with_retries(self, call: Callable[[], Awaitable[Message]]) -> Message:
        for attempt in range(1, MAX_ATTEMPTS + 1):
            last = attempt == MAX_ATTEMPTS
            try:
                return await call()
            except TelegramRetryAfter as exc:
                if last:
                    raise ToolFailure(
                        "rate_limited", f"Telegram's flood control: {exc.message}"
                    ) from exc
                await self._sleep(min(float(exc.retry_after), MAX_WAIT))
            except (TelegramNetworkError, TelegramServerError) as exc:
                if last:
                    raise ToolFailure("provider_error", f"Telegram failed: {exc.message}") from exc
                await self._sleep(0.5 * attempt)
            except TelegramAPIError as exc:
                raise ToolFailure("provider_error", f"Telegram refused it: {exc.message}") from exc
        raise AssertionError("unreachable")
