"""What the thread actor shows in Telegram: drafts while streaming, final messages, notices,
the typing action, topic names, and the downloads of user files.

* drafts (``sendMessageDraft``, private chats only) go through the per-chat
  :class:`~actors.thread.drafts.DraftGate`: about one per second, and none before a 429's
  ``retry_after`` has passed; a draft is a preview, so a skipped one loses nothing;
* answers are rendered from Markdown to text + message entities
  (:func:`actors.thread.markdown.render_markdown`) and sent with ``entities`` and no parse
  mode, so there is nothing to escape and nothing for Telegram to refuse; final answers are
  split at 4096 UTF-16 units, entities cut at a split closed and reopened
  (:func:`actors.thread.split.split_rendered`); a 429 is waited out (``retry_after``) and
  retried, as are network errors, a few times.

aiogram exceptions are translated here into :class:`TelegramOutputError`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import logging
import time
from collections.abc import Callable
from typing import Any, Final

import aiohttp
from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
)
from aiogram.methods import (
    EditForumTopic,
    GetFile,
    SendChatAction,
    SendMessage,
    SendMessageDraft,
)
from aiogram.methods.base import Response
from aiogram.types import Message, MessageEntity

from actors.thread.content import Readable
from actors.thread.drafts import DraftGate
from actors.thread.markdown import render_markdown
from actors.thread.split import TELEGRAM_LIMIT, split_plain, split_rendered, tail_rendered
from actors.thread.telegram_text import Rendered, concat

log = logging.getLogger(__name__)

MAX_SEND_ATTEMPTS: Final = 6
MAX_RETRY_AFTER: Final = 60.0
DOWNLOAD_TIMEOUT: Final = 60
"""Seconds one file download may take (20 MB at the Bot API's usual speed fits well)."""


# aiogram parses every answer as ``Response[<the method's result type>]``, a pydantic generic
# created on use and cached only weakly: unpinned, it is rebuilt (a full schema build of
# ``Message``, milliseconds of CPU) whenever the garbage collector has dropped it.
# ``Message`` itself is built first (aiogram's models are built on first use,
# infra.telegram_models): each model built after it reuses its schema instead of generating
# it again (these pins, the gateway's ``Response[list[Update]]`` and its dumps of messages in a
# process running both: ~0.2 s of a start's CPU).
Message.model_rebuild()
_PINNED_RESPONSE_TYPES: Final = tuple(
    Response[method.__returning__]  # type: ignore[name-defined]
    for method in (SendMessage, SendMessageDraft, SendChatAction, EditForumTopic, GetFile)
)


class TelegramOutputError(Exception):
    """Telegram refused a message for good (not a 429)."""


def message_entities(rendered: Rendered) -> list[MessageEntity] | None:
    """The Bot API entities of ``rendered`` (None when there are none)."""
    return [
        MessageEntity(type=e.type, offset=e.offset, length=e.length, url=e.url, language=e.language)
        for e in rendered.entities
    ] or None


class TelegramOutput:
    def __init__(
        self,
        bot: Bot,
        *,
        gate: DraftGate | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.gate = gate or DraftGate()
        self.clock = clock
        self._sleep = sleep

    # ------------------------------------------------------------------ drafts

    def draft_allowed(self, chat_id: int) -> bool:
        return self.gate.may_send(chat_id, self.clock())

    async def draft(
        self,
        chat_id: int,
        thread_id: int | None,
        draft_id: int,
        text: str,
        *,
        header: Rendered | None = None,
    ) -> bool:
        """Send a draft if the chat's gate allows it now; True if sent.

        ``header`` (the thinking quote and tool lines) goes above the tail of the answer so
        far (Markdown, rendered: an unclosed fence or ``**`` of a half-streamed answer shows
        as CommonMark reads it)."""
        now = self.clock()
        if not self.gate.may_send(chat_id, now):
            return False
        self.gate.sent(chat_id, now)
        shown = draft_view(text, header or Rendered(""))
        try:
            await self.bot.send_message_draft(
                chat_id=chat_id,
                draft_id=draft_id,
                message_thread_id=thread_id or None,
                text=shown.text,
                entities=message_entities(shown),
                parse_mode=None,
                can_stop=True,
            )
        except TelegramRetryAfter as exc:
            self.gate.retry_after(chat_id, self.clock(), float(exc.retry_after))
            return False
        except TelegramAPIError as exc:
            log.info("draft not shown", extra={"fields": {"chat_id": chat_id, "error": str(exc)}})
            return False
        return True

    # ------------------------------------------------------------------ messages

    async def send_answer(
        self, chat_id: int, thread_id: int | None, markdown: str, *, reply_to: int | None = None
    ) -> tuple[int, ...]:
        """The answer as one or more messages (text + entities); their ids."""
        ids: list[int] = []
        for part in split_rendered(render_markdown(markdown)):
            shown = part.strip()
            if shown.text:
                ids.append(
                    await self._send(chat_id, thread_id, shown, reply_to if not ids else None)
                )
        return tuple(ids)

    async def send_notice(
        self, chat_id: int, thread_id: int | None, text: str, *, reply_to: int | None = None
    ) -> tuple[int, ...]:
        """A short plain-text reply (rejections, confirmations)."""
        ids: list[int] = []
        for part in split_plain(text):
            ids.append(await self._send(chat_id, thread_id, Rendered(part), reply_to))
        return tuple(ids)

    async def _send(
        self, chat_id: int, thread_id: int | None, rendered: Rendered, reply_to: int | None
    ) -> int:
        """sendMessage, waiting out 429s and retrying network errors; any other refusal
        raises :class:`TelegramOutputError`."""
        attempt = 0
        while True:
            attempt += 1
            try:
                message = await self.bot.send_message(
                    chat_id=chat_id,
                    text=rendered.text,
                    entities=message_entities(rendered),
                    message_thread_id=thread_id or None,
                    parse_mode=None,
                    reply_to_message_id=reply_to,
                    allow_sending_without_reply=True if reply_to else None,
                )
                return message.message_id
            except TelegramRetryAfter as exc:
                if attempt >= MAX_SEND_ATTEMPTS:
                    raise TelegramOutputError(f"flood control: {exc.message}") from exc
                wait = min(float(exc.retry_after), MAX_RETRY_AFTER)
                self.gate.retry_after(chat_id, self.clock(), wait)
                await self._sleep(wait)
            except (TelegramNetworkError, TelegramServerError) as exc:
                if attempt >= 3:
                    raise TelegramOutputError(str(exc)) from exc
                await self._sleep(0.5 * attempt)
            except TelegramAPIError as exc:
                raise TelegramOutputError(str(exc)) from exc

    # ------------------------------------------------------------------ misc

    async def typing(self, chat_id: int, thread_id: int | None, action: str = "typing") -> None:
        try:
            await self.bot.send_chat_action(
                chat_id=chat_id, action=action, message_thread_id=thread_id or None
            )
        except TelegramAPIError as exc:
            log.debug("chat action not shown: %s", exc)

    async def keep_typing(
        self,
        chat_id: int,
        thread_id: int | None,
        *,
        every: float = 4.0,
        delay: float = 0.0,
        action: Callable[[], str] | None = None,
        changed: asyncio.Event | None = None,
    ) -> None:
        """Show a chat action until cancelled (Telegram shows one for ~5 s per call):
        ``action()`` names the current one (default 'typing'); setting ``changed`` re-sends
        at once (a tool with another action started)."""
        if delay > 0:
            await asyncio.sleep(delay)
        while True:
            await self.typing(chat_id, thread_id, action() if action is not None else "typing")
            if changed is None:
                await asyncio.sleep(every)
                continue
            changed.clear()
            # not asyncio.wait_for: on Python 3.11 it swallows a cancellation that arrives as
            # ``changed`` is set, and this loop would outlive its turn
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(every):
                    await changed.wait()

    async def rename_topic(self, chat_id: int, thread_id: int, name: str) -> bool:
        try:
            await self.bot.edit_forum_topic(chat_id=chat_id, message_thread_id=thread_id, name=name)
        except TelegramRetryAfter as exc:
            await self._sleep(min(float(exc.retry_after), MAX_RETRY_AFTER))
            try:
                await self.bot.edit_forum_topic(
                    chat_id=chat_id, message_thread_id=thread_id, name=name
                )
            except TelegramAPIError:
                return False
        except TelegramAPIError as exc:
            log.info("topic not renamed", extra={"fields": {"error": str(exc)}})
            return False
        return True

    async def file_block(self, readable: Readable) -> dict[str, Any] | None:
        """A Messages API content block for a user file. A file that cannot be fetched
        (Telegram refuses it, the download fails or times out) becomes a text block saying
        so, for this file only: the rest of the message is answered, and the answer can tell
        the user which file was not read. The error is logged (the bot token, part of the
        download URL, is redacted by the log filter and never put in the block)."""
        att = readable.attachment
        try:
            info = await self.bot.get_file(att.file_id)
            if info.file_path is None:
                return _missing_file(att.file_name, readable.kind)
            buffer = await self.bot.download_file(info.file_path, timeout=DOWNLOAD_TIMEOUT)
        except (TelegramAPIError, aiohttp.ClientError, TimeoutError) as exc:
            log.warning(
                "file not downloaded",
                extra={"fields": {"file_id": att.file_id, "error": f"{type(exc).__name__}: {exc}"}},
            )
            return _missing_file(att.file_name, readable.kind)
        if buffer is None:
            return _missing_file(att.file_name, readable.kind)
        data = buffer.read()
        if readable.kind == "image":
            media = (
                att.mime_type
                if att.mime_type and att.mime_type.startswith("image/")
                else (_sniff_image(data))
            )
            return {
                "type": "image",
                "source": {
                    "type": "base64",
                    "media_type": media,
                    "data": base64.b64encode(data).decode(),
                },
            }
        if readable.kind == "pdf":
            return {
                "type": "document",
                "source": {
                    "type": "base64",
                    "media_type": "application/pdf",
                    "data": base64.b64encode(data).decode(),
                },
                "title": att.file_name or "document.pdf",
            }
        text = data.decode("utf-8", errors="replace")
        return {"type": "text", "text": f"File {att.file_name or 'attached'}:\n```\n{text}\n```"}


def _missing_file(name: str | None, kind: str) -> dict[str, Any]:
    """What the model reads in place of a file that could not be downloaded."""
    label = f"The {kind} {name!r}" if name else f"An attached {kind}"
    return {
        "type": "text",
        "text": (
            f"[{label} could not be downloaded from Telegram, so its content is missing. "
            "Tell the user that this file could not be read and that they can send it again.]"
        ),
    }


DRAFT_ROOM: Final = TELEGRAM_LIMIT - 64
MIN_ANSWER_SHOWN: Final = 512


def draft_view(markdown: str, header: Rendered) -> Rendered:
    """A draft: ``header``, then as much of the end of the rendered answer as fits (the
    part being written), within Telegram's limit."""
    room = max(DRAFT_ROOM - header.length, MIN_ANSWER_SHOWN)
    body = render_markdown(markdown) if markdown.strip() else Rendered("")
    if body.length > room:
        body = tail_rendered(body, room)
    shown = concat([header, body])
    if shown.length > TELEGRAM_LIMIT:
        shown = tail_rendered(shown, TELEGRAM_LIMIT)
    return shown


def _sniff_image(data: bytes) -> str:
    if data.startswith(b"\x89PNG"):
        return "image/png"
    if data.startswith(b"GIF8"):
        return "image/gif"
    if data[8:12] == b"WEBP":
        return "image/webp"
    return "image/jpeg"
