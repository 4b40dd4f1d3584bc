"""Messages of every kind -> thread commands; edits -> edit commands; topics -> topic commands.

The catch-all router: it is included last, so commands, payments and admin handlers see
their updates first. Refused input (stickers, polls, files over 20 MB...) gets a reply.
"""

from __future__ import annotations

from aiogram import Router
from aiogram.types import Message, ReplyParameters, Update

from actors.gateway.commands import forum_topic_created_received, user_message_edit_received
from actors.gateway.normalize import Accepted, Ignored, Notice, Refused, TopicCreated, utc
from infra.gateway.context import GatewayContext
from infra.gateway.convert import normalize_message
from infra.gateway.metrics import REFUSED
from infra.gateway.services import GatewayServices


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="conversation")

    async def tell(message: Message, notices: tuple[Notice, ...]) -> None:
        if not notices:
            return
        lang = await services.language_of(message.from_user, timeout=ctx.view_timeout)
        for notice in notices:
            REFUSED.labels(reason=notice.kind).inc()
            services.replies.send(
                message.answer(
                    notice.text(lang),
                    reply_parameters=ReplyParameters(
                        message_id=message.message_id, allow_sending_without_reply=True
                    ),
                ),
                what=notice.kind,
            )

    @router.message()
    async def on_message(message: Message, event_update: Update) -> None:
        result = normalize_message(message)
        if isinstance(result, Accepted):
            await services.users.seen(result.message.sender, chat_id=message.chat.id)
            await services.inbox.message(result.message, update_id=event_update.update_id)
            await tell(message, result.notices)
        elif isinstance(result, Refused):
            await tell(message, result.notices)
        elif isinstance(result, TopicCreated):
            await services.inbox.command(
                forum_topic_created_received(result, received_at=ctx.clock())
            )
        else:
            assert isinstance(result, Ignored)

    @router.edited_message()
    async def on_edit(message: Message, event_update: Update) -> None:
        result = normalize_message(message)
        if not isinstance(result, Accepted):
            return
        edited_at = utc(message.edit_date) if message.edit_date else result.message.sent_at
        await services.inbox.command(
            user_message_edit_received(
                result.message,
                edited_at=edited_at,
                update_id=event_update.update_id,
                received_at=ctx.clock(),
            )
        )

    return router
