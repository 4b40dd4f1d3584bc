"""``/pay`` with Telegram Stars: packages, custom amount, invoice, pre-checkout, payment.

Handlers translate; the rules live in :mod:`actors.billing.payments` and
:mod:`actors.billing.policy`. A successful payment publishes ``payments.payment_succeeded``
and the billing command ``billing.payment_credit_requested`` (operation
``payment:{charge id}``), so a payment delivered twice is credited once.

The custom amount is asked with a ForceReply prompt; the user's reply *to that prompt* is
the answer, so the conversation state lives in the chat and survives any restart.
"""

from __future__ import annotations

import logging
from decimal import Decimal

from aiogram import F, Router
from aiogram.exceptions import TelegramAPIError
from aiogram.filters import CommandObject
from aiogram.methods import SendInvoice
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
    SuccessfulPayment,
    User,
)

from actors.billing import commands, payments, replies
from actors.billing.payments import (
    CALLBACK_PREFIX,
    InvoicePayload,
    PayloadError,
    amount_invalid,
    check_pre_checkout,
    custom_amount_prompt,
    invoice_for,
    is_custom_amount_prompt,
    order_id_from,
    parse_custom_amount,
    parse_package_callback,
    parse_payload,
)
from actors.billing.policy import stars_to_usd
from actors.gateway import refunds
from actors.gateway import replies as gateway_replies
from actors.gateway.commands import PRODUCER
from actors.gateway.ids import telegram_record_id
from actors.texts import Language, say
from events.catalog import BILLING_COMMANDS, PAYMENTS_EVENTS
from events.envelope import new_envelope
from events.ids import new_id
from events.keys import user_key
from events.payments import InvoiceIssued, PaymentSucceeded, PreCheckoutAnswered
from infra.gateway.command_menu import bot_command
from infra.gateway.context import GatewayContext
from infra.gateway.convert import message_json
from infra.gateway.senders import topic_of
from infra.gateway.services import GatewayServices

log = logging.getLogger(__name__)


def _keyboard(language: Language, owner_margin: Decimal) -> InlineKeyboardMarkup:
    *packages, (custom_label, custom_data) = payments.package_buttons(language, owner_margin)
    rows = [
        [
            InlineKeyboardButton(text=label, callback_data=data)
            for label, data in packages[i : i + 2]
        ]
        for i in range(0, len(packages), 2)
    ]
    rows.append([InlineKeyboardButton(text=custom_label, callback_data=custom_data)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


class Invoices:
    """Sends Stars invoices (and records each) and asks for custom amounts."""

    def __init__(self, ctx: GatewayContext, services: GatewayServices) -> None:
        self.ctx = ctx
        self.services = services

    async def language(self, user: User | None) -> Language:
        return await self.services.language_of(user, timeout=self.ctx.view_timeout)

    async def send(self, message: Message, user: User, stars: int) -> None:
        ctx = self.ctx
        user_id = user.id
        margin = await self.services.billing.margin()
        lang = await self.language(user)
        invoice = invoice_for(lang, user_id, stars, margin, order_id_from(new_id()))
        call = SendInvoice(
            chat_id=message.chat.id,
            message_thread_id=topic_of(message),
            title=invoice.title,
            description=invoice.description,
            payload=invoice.payload.encode(),
            currency=invoice.currency,
            prices=[LabeledPrice(label=invoice.price_label, amount=invoice.stars)],
        )
        sent = await self.services.replies.deliver(call.as_(ctx.bot))
        await ctx.publisher.publish(
            PAYMENTS_EVENTS,
            InvoiceIssued(
                **new_envelope(key=user_key(user_id), producer=PRODUCER, occurred_at=ctx.clock()),
                user_id=user_id,
                chat_id=message.chat.id,
                invoice_payload=invoice.payload.encode(),
                stars=stars,
                currency=invoice.currency,
                quoted_usd=invoice.quoted_usd,
                owner_margin=margin,
                telegram_message_id=sent.message_id,
            ),
        )

    def ask_custom_amount(self, message: Message, language: Language, problem: str = "") -> None:
        """The custom amount question (after ``problem``, what was wrong with the last
        answer, if any)."""
        question = custom_amount_prompt(language)
        placeholder = say(language, "billing.custom_placeholder")
        prompt = message.answer(
            f"{question}\n\n{problem}" if problem else question,
            reply_markup=ForceReply(force_reply=True, input_field_placeholder=placeholder),
            parse_mode=None,
        )
        self.services.replies.send(prompt, what="custom_amount")


def add_invoice_handlers(router: Router, invoices: Invoices) -> None:
    """``/pay``, its package buttons and the reply to the custom amount prompt."""
    services = invoices.services
    send = services.replies.send

    @router.message(bot_command("pay"))
    async def pay(message: Message, command: CommandObject) -> None:
        if message.from_user is None:
            return
        lang = await invoices.language(message.from_user)
        if command.args:
            try:
                stars = parse_custom_amount(command.args)
            except ValueError:
                send(message.answer(amount_invalid(lang), parse_mode=None), what="pay")
                return
            await invoices.send(message, message.from_user, stars)
            return
        margin = await services.billing.margin()
        prompt = message.answer(
            replies.pay_prompt(lang), reply_markup=_keyboard(lang, margin), parse_mode=None
        )
        send(prompt, what="pay")

    @router.callback_query(F.data.startswith(CALLBACK_PREFIX))
    async def package_chosen(query: CallbackQuery) -> None:
        try:
            stars = parse_package_callback(query.data or "")
        except ValueError:
            lang = await invoices.language(query.from_user)
            stale = query.answer(replies.stale_button(lang), show_alert=True)
            send(stale, what="pay")
            return
        send(query.answer(), what="pay")
        message = query.message
        if message is None or isinstance(message, InaccessibleMessage):
            return
        if stars is None:
            invoices.ask_custom_amount(message, await invoices.language(query.from_user))
        else:
            await invoices.send(message, query.from_user, stars)

    @router.message(
        F.reply_to_message.from_user.is_bot,
        F.reply_to_message.text.func(is_custom_amount_prompt),
        F.text,
    )
    async def custom_amount(message: Message) -> None:
        if message.from_user is None or message.text is None:
            return
        try:
            stars = parse_custom_amount(message.text)
        except ValueError:
            lang = await invoices.language(message.from_user)
            invoices.ask_custom_amount(message, lang, amount_invalid(lang))
            return
        await invoices.send(message, message.from_user, stars)


def _payment_succeeded(message: Message, paid: SuccessfulPayment, user_id: int) -> PaymentSucceeded:
    """The record of ``message``'s successful payment: the same update (and charge) always
    yields the same record id."""
    record_id = telegram_record_id("payment", message.chat.id, message.message_id, message.date)
    return PaymentSucceeded(
        **new_envelope(
            key=user_key(user_id), producer=PRODUCER, id=record_id, occurred_at=message.date
        ),
        user_id=user_id,
        telegram_payment_charge_id=paid.telegram_payment_charge_id,
        provider_payment_charge_id=paid.provider_payment_charge_id or "",
        invoice_payload=paid.invoice_payload,
        stars=paid.total_amount,
        currency=paid.currency,
    )


async def record_payment(
    ctx: GatewayContext,
    services: GatewayServices,
    message: Message,
    paid: SuccessfulPayment,
    user_id: int,
) -> None:
    """Record a successful payment and ask the ledger to credit it (an unreadable invoice
    payload is recorded, not credited, and the user is sent to /paysupport)."""
    succeeded = _payment_succeeded(message, paid, user_id)
    charge, stars = succeeded.telegram_payment_charge_id, succeeded.stars
    lang = await services.language_of(message.from_user, timeout=ctx.view_timeout)
    try:
        payload: InvoicePayload | None = parse_payload(succeeded.invoice_payload)
    except PayloadError:
        payload = None
    if payload is None:
        await ctx.publisher.publish(PAYMENTS_EVENTS, succeeded)
        log.error(
            "payment with an unreadable invoice payload recorded, not credited",
            extra={"fields": {"charge_id": charge, "stars": stars}},
        )
        text = gateway_replies.payment_needs_support(lang, charge)
        services.replies.send(message.answer(text, parse_mode=None), what="payment")
        return
    credit = commands.payment_credit(
        succeeded.user_id,
        charge,
        stars,
        invoice_payload=succeeded.invoice_payload,
        owner_margin=payload.owner_margin,
        producer=PRODUCER,
        cause=succeeded,
        occurred_at=message.date,
    )
    await ctx.publisher.publish_all([(PAYMENTS_EVENTS, succeeded), (BILLING_COMMANDS, credit)])
    usd = stars_to_usd(stars, payload.owner_margin)
    text = replies.payment_received(lang, stars, usd, charge)
    services.replies.send(message.answer(text, parse_mode=None), what="payment")


def add_checkout_handlers(router: Router, ctx: GatewayContext, services: GatewayServices) -> None:
    """Pre-checkout answers, successful payments and refunded payments."""

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        lang = await services.language_of(query.from_user, timeout=ctx.view_timeout)
        verdict = check_pre_checkout(
            lang,
            payload=query.invoice_payload,
            currency=query.currency,
            total_amount=query.total_amount,
            from_user_id=query.from_user.id,
        )
        try:
            await services.replies.deliver(
                query.answer(ok=verdict.ok, error_message=verdict.error_message)
            )
        except TelegramAPIError as exc:
            # Answered on an earlier delivery whose record did not reach the log: the
            # record is still written (the update is confirmed only once it is).
            log.warning("pre-checkout answer failed", extra={"fields": {"error": str(exc)}})
        await ctx.publisher.publish(
            PAYMENTS_EVENTS,
            PreCheckoutAnswered(
                **new_envelope(
                    key=user_key(query.from_user.id), producer=PRODUCER, occurred_at=ctx.clock()
                ),
                user_id=query.from_user.id,
                pre_checkout_query_id=query.id,
                invoice_payload=query.invoice_payload,
                stars=query.total_amount,
                currency=query.currency,
                ok=verdict.ok,
                error_message=verdict.error_message,
            ),
        )

    @router.message(F.successful_payment)
    async def successful_payment(message: Message) -> None:
        paid = message.successful_payment
        if paid is None or message.from_user is None:
            return
        await record_payment(ctx, services, message, paid, message.from_user.id)

    @router.message(F.refunded_payment)
    async def refunded_payment(message: Message) -> None:
        """Telegram refunded a payment (maybe outside the bot): the ledger debits it once."""
        refund = refunds.refunded_payment(message_json(message))
        if refund is None:
            return
        debit = commands.refunded_payment_debit(
            refund.user_id,
            refund.telegram_payment_charge_id,
            refund.stars,
            producer=PRODUCER,
            id=telegram_record_id(
                "refunded-payment", refund.chat_id, refund.message_id, message.date
            ),
            occurred_at=refund.sent_at,
        )
        await ctx.publisher.publish(BILLING_COMMANDS, debit)


def build_router(ctx: GatewayContext, services: GatewayServices) -> Router:
    router = Router(name="payments")
    add_invoice_handlers(router, Invoices(ctx, services))
    add_checkout_handlers(router, ctx, services)
    return router
