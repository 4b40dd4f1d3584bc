"""``/stop`` (and the stop button under a streamed draft) and ``/new``: thread commands the
thread actor decides on."""

from __future__ import annotations

from collections.abc import Callable

from aiogram import Router
from aiogram.types import Message, MessageGenerationStopped

from actors.gateway import replies
from actors.gateway.commands import new_conversation_requested, stop_requested
from actors.gateway.normalize import telegram_user
from events.catalog import ThreadInboxCommand
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.senders import sender_profile, topic_of
from infra.gateway.services import GatewayServices


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="thread_control")

    async def forward(message: Message, build: Callable[..., ThreadInboxCommand]) -> bool:
        """The sender's thread command built by ``build``, durable in the inbox; False
        for a message without a sender (nothing to do)."""
        profile = sender_profile(message)
        if profile is None:
            return False
        await services.users.seen(telegram_user(profile), chat_id=message.chat.id)
        await services.inbox.command(
            build(
                chat_id=message.chat.id,
                message_thread_id=topic_of(message),
                user_id=profile.id,
                message_id=message.message_id,
                sent_at=message.date,
                received_at=ctx.clock(),
            )
        )
        return True

    @router.message(bot_command("stop"))
    async def stop(message: Message) -> None:
        await forward(message, stop_requested)

    @router.stopped_message_generation()
    async def stop_button(event: MessageGenerationStopped) -> None:
        await services.inbox.command(
            stop_requested(
                chat_id=event.chat.id,
                message_thread_id=event.message_thread_id,
                user_id=event.chat.id if event.chat.type == "private" else 0,
                message_id=None,
                sent_at=ctx.clock(),
                received_at=ctx.clock(),
            )
        )

    @router.message(bot_command("new"))
    async def new(message: Message) -> None:
        if not await forward(message, new_conversation_requested):
            return
        lang = await services.language_of(message.from_user, timeout=ctx.view_timeout)
        services.replies.send(message.answer(replies.new_conversation(lang)), what="new")

    return router
