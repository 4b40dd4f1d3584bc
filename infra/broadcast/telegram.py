"""One broadcast message through the Bot API, its answer translated for
:func:`actors.broadcast.outcomes.judge`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from aiogram import Bot
from aiogram.exceptions import (
    TelegramAPIError,
    TelegramForbiddenError,
    TelegramNetworkError,
    TelegramRetryAfter,
    TelegramServerError,
    TelegramUnauthorizedError,
)
from aiogram.types import InlineKeyboardMarkup, MessageEntity

from actors.broadcast.outcomes import Answer
from events.broadcast import TextEntity


@dataclass(frozen=True, slots=True)
class SendAnswer:
    answer: Answer
    message_id: int | None = None
    retry_after: int = 0
    detail: str = ""


def entities_of(entities: Sequence[TextEntity]) -> list[MessageEntity] | None:
    if not entities:
        return None
    return [
        MessageEntity(
            type=e.type,
            offset=e.offset,
            length=e.length,
            url=e.url,
            language=e.language,
            custom_emoji_id=e.custom_emoji_id,
        )
        for e in entities
    ]


async def send_text(
    bot: Bot,
    chat_id: int,
    text: str,
    entities: Sequence[TextEntity] = (),
    reply_markup: InlineKeyboardMarkup | None = None,
) -> SendAnswer:
    """``sendMessage``; a 401 (the bot's token is wrong) is raised, not judged: it is no
    recipient's fault and must stop the broadcast."""
    try:
        sent = await bot.send_message(
            chat_id,
            text,
            entities=entities_of(entities),
            parse_mode=None,
            reply_markup=reply_markup,
        )
    except TelegramRetryAfter as exc:
        return SendAnswer("flood", retry_after=int(exc.retry_after), detail=exc.message)
    except TelegramUnauthorizedError:
        raise
    except TelegramForbiddenError as exc:
        return SendAnswer("forbidden", detail=exc.message)
    except (TelegramNetworkError, TelegramServerError, TimeoutError) as exc:
        return SendAnswer("no_answer", detail=str(exc) or type(exc).__name__)
    except TelegramAPIError as exc:
        return SendAnswer("refused", detail=exc.message)
    return SendAnswer("ok", message_id=sent.message_id)
