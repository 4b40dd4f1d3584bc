"""``/clear``: delete the current forum topic, or every topic of the chat, after the
requester confirms (the rules are in :mod:`actors.gateway.clear`).

On *Yes* each target topic is deleted with ``deleteForumTopic`` first; a topic Telegram no
longer has counts as deleted. Then, for each deleted topic, the thread is told its topic is
gone (``thread.new_conversation_requested`` with ``topic_deleted``): the thread actor
cancels a running turn (charging its partial usage), ends the thread's state and sends
nothing more to it. The records are durable before the press is confirmed, and their ids
derive from the confirmation message, so a redelivered press deletes nothing twice and
writes each record once.
"""

from __future__ import annotations

import logging
from typing import Final

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError, TelegramBadRequest
from aiogram.methods import DeleteForumTopic
from aiogram.types import (
    CallbackQuery,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from actors.gateway import clear
from actors.gateway.commands import topic_deleted
from actors.texts import Language, say
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.senders import sender_profile, topic_of
from infra.gateway.services import GatewayServices

log = logging.getLogger(__name__)

GONE: Final = ("message thread not found", "topic_id_invalid", "topic_deleted")
"""Telegram's descriptions of a topic that no longer exists (already deleted)."""


def confirm_keyboard(language: Language, requester_id: int, scope: int) -> InlineKeyboardMarkup:
    yes = clear.callback_data(requester_id, scope, "yes")
    no = clear.callback_data(requester_id, scope, "no")
    return InlineKeyboardMarkup(
        inline_keyboard=[
            [
                InlineKeyboardButton(text=say(language, "clear.yes"), callback_data=yes),
                InlineKeyboardButton(text=say(language, "clear.cancel"), callback_data=no),
            ]
        ]
    )


class _Topics:
    """What the ``/clear`` handlers share: permission checks and the deletions."""

    def __init__(self, ctx: GatewayContext, services: GatewayServices) -> None:
        self.ctx = ctx
        self.services = services

    async def may_clear(self, chat_id: int, chat_type: str, user_id: int) -> bool:
        private = chat_type == "private"
        privileged = self.ctx.is_privileged(user_id)
        status: str | None = None
        if not (private or privileged):
            member = await self.ctx.bot.get_chat_member(chat_id, user_id)
            status = member.status
        return clear.may_clear(private=private, member_status=status, privileged=privileged)

    async def targets(self, chat_id: int, scope: int) -> list[int]:
        known: list[int] = []
        if scope == clear.ALL_TOPICS:
            known = await self.services.topics_of(chat_id, timeout=self.ctx.view_timeout)
        return clear.targets(scope, known)

    async def delete(self, chat_id: int, topics: list[int]) -> clear.ClearOutcome:
        deleted: list[int] = []
        failed: list[tuple[int, str]] = []
        for topic in topics:
            try:
                call = DeleteForumTopic(chat_id=chat_id, message_thread_id=topic)
                await self.services.replies.deliver(call.as_(self.ctx.bot))
            except TelegramBadRequest as exc:
                if any(marker in exc.message.lower() for marker in GONE):
                    deleted.append(topic)
                else:
                    failed.append((topic, exc.message))
            except TelegramAPIError as exc:
                failed.append((topic, exc.message))
            else:
                deleted.append(topic)
        return clear.ClearOutcome(tuple(deleted), tuple(failed))

    async def end_threads(
        self, query: CallbackQuery, message: Message, deleted: tuple[int, ...]
    ) -> None:
        user_id = query.from_user.id
        by_admin = message.chat.type != "private"
        for topic in deleted:
            await self.services.inbox.command(
                topic_deleted(
                    chat_id=message.chat.id,
                    message_thread_id=topic,
                    user_id=user_id,
                    by_admin=by_admin,
                    confirmation_id=message.message_id,
                    confirmation_sent_at=message.date,
                    received_at=self.ctx.clock(),
                )
            )


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="topics")
    topics = _Topics(ctx, services)

    def answer(message: Message, text: str, markup: InlineKeyboardMarkup | None = None) -> None:
        services.replies.send(message.answer(text, reply_markup=markup), what="clear")

    @router.message(bot_command("clear"))
    async def clear_command(message: Message) -> None:
        profile = sender_profile(message)
        if profile is None:
            return
        chat = message.chat
        lang = await services.language_of(message.from_user, timeout=ctx.view_timeout)
        if not await topics.may_clear(chat.id, chat.type, profile.id):
            answer(message, say(lang, "clear.refused"))
            return
        scope = clear.scope_of(topic_of(message))
        targets = await topics.targets(chat.id, scope)  # unreadable: the error router says so
        if not targets:
            answer(message, say(lang, "clear.no_topics"))
            return
        text = clear.confirm_text(lang, scope, len(targets))
        answer(message, text, confirm_keyboard(lang, profile.id, scope))

    @router.callback_query(F.data.startswith(clear.CALLBACK_PREFIX))
    async def confirmed(query: CallbackQuery) -> None:
        choice = clear.parse_callback(query.data)
        message = query.message
        if choice is None or not isinstance(message, Message):
            services.replies.send(query.answer(), what="clear")
            return
        lang = await services.language_of(query.from_user, timeout=ctx.view_timeout)
        if query.from_user.id != choice.requester_id:
            not_yours = query.answer(say(lang, "clear.not_yours"), show_alert=True)
            services.replies.send(not_yours, what="clear")
            return
        if choice.answer == "no":
            services.replies.send(query.answer(), what="clear")
            services.replies.send(message.edit_text(say(lang, "clear.cancelled")), what="clear")
            return
        chat = message.chat
        if not await topics.may_clear(chat.id, chat.type, query.from_user.id):
            refused = query.answer(say(lang, "clear.refused"), show_alert=True)
            services.replies.send(refused, what="clear")
            return
        targets = await topics.targets(chat.id, choice.scope)
        outcome = await topics.delete(chat.id, targets)
        await topics.end_threads(query, message, outcome.deleted)
        log.info(
            "topics deleted",
            extra={"fields": {"chat_id": chat.id, "deleted": list(outcome.deleted)}},
        )
        text = clear.outcome_text(lang, outcome)
        services.replies.send(query.answer(text), what="clear")
        if choice.scope not in outcome.deleted:  # the confirmation still exists: show it there
            services.replies.send(message.edit_text(text), what="clear")

    return router
