"""``/announce`` (privileged): a preview with Send / Cancel, then the broadcaster sends it.

``/announce [to:ID,ID,...] <text>`` writes ``admin.announcement_requested`` (durable before
anything is shown) and answers with a preview: the exact message recipients will get, with
Send and Cancel buttons. Only the author's press counts; it writes
``admin.announcement_confirmed`` or ``admin.announcement_cancelled``, and the broadcaster
(:mod:`infra.broadcast.service`) does the rest.
"""

from __future__ import annotations

from aiogram import F, Router
from aiogram.types import (
    CallbackQuery,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
)

from actors.billing import replies
from actors.broadcast import buttons, texts
from actors.broadcast.announce_args import Announce, AnnounceRefused, is_stop, parse_announce
from actors.gateway.commands import PRODUCER
from actors.gateway.ids import telegram_record_id
from actors.texts import Language, say
from events.admin import (
    AnnouncementCancelled,
    AnnouncementConfirmed,
    AnnouncementRequested,
    AnnouncementStopRequested,
)
from events.broadcast import TextEntity
from events.catalog import ADMIN_EVENTS
from events.envelope import new_envelope
from events.ids import derived_id
from events.keys import GLOBAL_KEY
from infra.broadcast.telegram import entities_of
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.services import GatewayServices


def _entities(message: Message) -> list[TextEntity]:
    return [
        TextEntity(
            type=str(e.type),
            offset=e.offset,
            length=e.length,
            url=e.url,
            language=e.language,
            custom_emoji_id=e.custom_emoji_id,
        )
        for e in message.entities or ()
    ]


def _keyboard(lang: Language, author: int, announcement_id: str) -> InlineKeyboardMarkup:
    row = [
        InlineKeyboardButton(
            text=say(lang, f"broadcast.button_{action}"),
            callback_data=buttons.callback_data(action, author, announcement_id),
        )
        for action in buttons.ACTIONS
    ]
    return InlineKeyboardMarkup(inline_keyboard=[row])


def request_of(
    message: Message, author: int, lang: Language, parsed: Announce
) -> AnnouncementRequested:
    """The record of a ``/announce`` (its id derived from the message: a redelivered update
    writes the same record)."""
    record_id = telegram_record_id("announce", message.chat.id, message.message_id, message.date)
    return AnnouncementRequested(
        **new_envelope(key=GLOBAL_KEY, producer=PRODUCER, id=record_id, occurred_at=message.date),
        announcement_id=record_id,
        text=parsed.text,
        entities=parsed.entities,
        recipients=parsed.recipients,
        admin_user_id=author,
        chat_id=message.chat.id,
        language=lang,
    )


_SAID = {
    "send": "broadcast.queued",
    "cancel": "broadcast.cancelled",
    "stop": "broadcast.stop_requested",
}
"""What the author is told after each button."""


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="announce")

    def answer(message: Message, text: str) -> None:
        services.replies.send(message.answer(text, parse_mode=None), what="announce")

    @router.message(bot_command("announce"))
    async def announce(message: Message) -> None:
        user = message.from_user
        lang = await services.language_of(user, timeout=ctx.view_timeout)
        if user is None or not ctx.is_privileged(user.id):
            answer(message, replies.not_admin(lang))
            return
        if is_stop(message.text or ""):
            stop = AnnouncementStopRequested(
                **new_envelope(
                    key=GLOBAL_KEY,
                    producer=PRODUCER,
                    id=telegram_record_id(
                        "announce_stop", message.chat.id, message.message_id, message.date
                    ),
                    occurred_at=message.date,
                ),
                admin_user_id=user.id,
            )
            await ctx.publisher.publish(ADMIN_EVENTS, stop)
            answer(message, say(lang, "broadcast.stop_requested"))
            return
        try:
            parsed = parse_announce(message.text or "", _entities(message))
        except AnnounceRefused as refused:
            answer(message, refused.text(lang))
            return
        request = request_of(message, user.id, lang, parsed)
        await ctx.publisher.publish(ADMIN_EVENTS, request)
        await services.replies.deliver(
            message.answer(texts.preview_header(lang, parsed.recipients), parse_mode=None)
        )
        services.replies.send(
            message.answer(
                parsed.text,
                entities=entities_of(parsed.entities),
                parse_mode=None,
                reply_markup=_keyboard(lang, user.id, request.announcement_id),
            ),
            what="announce_preview",
        )

    @router.callback_query(F.data.startswith(buttons.PREFIX))
    async def decided(query: CallbackQuery) -> None:
        press = buttons.parse_press(query.data)
        lang = await services.language_of(query.from_user, timeout=ctx.view_timeout)
        if press is None:
            said = say(lang, "broadcast.unreadable_button")
            services.replies.send(query.answer(said, show_alert=True), what="announce")
            return
        presser = query.from_user.id
        if presser != press.author or not ctx.is_privileged(presser):
            said = say(lang, "broadcast.only_author")
            services.replies.send(query.answer(said, show_alert=True), what="announce")
            return
        aid = press.announcement_id
        envelope = new_envelope(
            key=GLOBAL_KEY, producer=PRODUCER, id=derived_id(aid, f"decision:{press.action}")
        )
        decision: AnnouncementConfirmed | AnnouncementCancelled | AnnouncementStopRequested
        if press.action == "stop":
            decision = AnnouncementStopRequested(
                **envelope, announcement_id=aid, admin_user_id=presser
            )
        elif press.action == "send":
            decision = AnnouncementConfirmed(**envelope, announcement_id=aid, admin_user_id=presser)
        else:
            decision = AnnouncementCancelled(**envelope, announcement_id=aid, admin_user_id=presser)
        await ctx.publisher.publish(ADMIN_EVENTS, decision)
        said = say(lang, _SAID[press.action])
        services.replies.send(query.answer(said), what="announce")
        shown = query.message
        if shown is not None and not isinstance(shown, InaccessibleMessage):
            services.replies.send(shown.edit_reply_markup(reply_markup=None), what="announce")
            services.replies.send(shown.answer(said, parse_mode=None), what="announce")

    return router
