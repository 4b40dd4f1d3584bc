"""``/balance``, ``/paysupport`` and ``/refund <transaction id>``.

``/balance`` is private: asked in a group, the report goes to the user's private chat with
the bot (the group only hears that it was sent, or how to open that chat).

``/refund`` publishes ``payments.refund_requested`` and the billing command
``billing.refund_debit_requested``; the billing actor decides (payer only, within 30 days,
balance covers the credit) and the payments process calls Telegram and tells the user the
outcome, including why a refund was refused.
"""

from __future__ import annotations

import logging

from aiogram import Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.methods import SendMessage
from aiogram.types import Message

from actors.billing import commands, replies
from actors.billing.payments import parse_refund_argument
from actors.gateway import replies as gateway_replies
from actors.gateway.commands import PRODUCER
from actors.gateway.ids import telegram_record_id
from actors.texts import Language
from events.catalog import BILLING_COMMANDS, PAYMENTS_EVENTS
from events.envelope import new_envelope
from events.keys import user_key
from events.payments import RefundRequested
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.reads import read_view
from infra.gateway.services import GatewayServices

log = logging.getLogger(__name__)

HISTORY_LINES = 10


async def balance_report(ctx: GatewayContext, language: Language, user_id: int) -> str:
    """The user's balance and recent operations (the views read within their timeout)."""
    amount = await read_view(
        ctx.balances.balance(user_id), what="view.balance", timeout=ctx.view_timeout
    )
    lines = (
        await read_view(
            ctx.balances.recent_operations(user_id, HISTORY_LINES),
            what="view.balance",
            timeout=ctx.view_timeout,
        )
        if amount is not None
        else []
    )
    return replies.balance_report(language, amount, lines)


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="billing")
    send = services.replies.send

    @router.message(bot_command("balance"))
    async def balance(message: Message) -> None:
        if message.from_user is None:
            return
        uid = message.from_user.id
        lang = await services.language_of(message.from_user, timeout=ctx.view_timeout)
        report = await balance_report(ctx, lang, uid)
        if message.chat.type == "private":
            send(message.answer(report, parse_mode=None), what="balance")
            return
        try:
            private = SendMessage(chat_id=uid, text=report, parse_mode=None)
            await services.replies.deliver(private.as_(ctx.bot))
        except TelegramAPIError as exc:
            log.info("balance not sent privately", extra={"fields": {"error": str(exc)}})
            text = gateway_replies.balance_needs_private_chat(lang)
        else:
            text = gateway_replies.balance_sent_privately(lang)
        send(message.reply(text, parse_mode=None), what="balance")

    @router.message(bot_command("paysupport"))
    async def paysupport(message: Message) -> None:
        lang = await services.language_of(message.from_user, timeout=ctx.view_timeout)
        send(message.answer(replies.paysupport(lang), parse_mode=None), what="paysupport")

    @router.message(bot_command("refund"))
    async def refund(message: Message, command: CommandObject) -> None:
        if message.from_user is None:
            return
        lang = await services.language_of(message.from_user, timeout=ctx.view_timeout)
        try:
            charge = parse_refund_argument(command.args)
        except ValueError:
            send(message.answer(replies.refund_usage(lang), parse_mode=None), what="refund")
            return
        uid = message.from_user.id
        record_id = telegram_record_id("refund", message.chat.id, message.message_id, message.date)
        requested = RefundRequested(
            **new_envelope(
                key=user_key(uid), producer=PRODUCER, id=record_id, occurred_at=message.date
            ),
            user_id=uid,
            telegram_payment_charge_id=charge,
            requested_by_user_id=uid,
        )
        debit = commands.refund_debit(
            uid,
            charge,
            requested_by=uid,
            request_id=record_id,
            producer=PRODUCER,
            cause=requested,
            occurred_at=message.date,
        )
        await ctx.publisher.publish_all([(PAYMENTS_EVENTS, requested), (BILLING_COMMANDS, debit)])
        text = replies.refund_requested(lang, charge)
        send(message.answer(text, parse_mode=None), what="refund")

    return router
