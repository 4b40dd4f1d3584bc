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
from aiogram.filters import Command, CommandObject
from aiogram.types import (
    CallbackQuery,
    ForceReply,
    InaccessibleMessage,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LabeledPrice,
    Message,
    PreCheckoutQuery,
)

from actors.billing import payments, replies
from actors.billing.payments import (
    CALLBACK_PREFIX,
    CUSTOM_AMOUNT_PROMPT,
    InvoicePayload,
    PayloadError,
    check_pre_checkout,
    invoice_for,
    is_custom_amount_prompt,
    order_id_from,
    parse_custom_amount,
    parse_package_callback,
    parse_payload,
)
from actors.billing.policy import stars_to_usd
from actors.gateway import normalize
from actors.gateway import replies as gateway_replies
from actors.gateway.ids import telegram_record_id
from events.catalog import BILLING_COMMANDS, PAYMENTS_EVENTS
from events.envelope import new_envelope
from events.ids import new_id
from events.keys import user_key
from events.payments import InvoiceIssued, PaymentSucceeded, PreCheckoutAnswered
from infra.billing import commands
from infra.billing.views import MarginView
from infra.gateway.context import GatewayContext
from infra.gateway.convert import message_json
from infra.gateway.reads import read_view

log = logging.getLogger(__name__)

PRODUCER = "gateway"


class _Margins:
    """The margin view, connected on first use (the gateway builds routers from ctx only)."""

    def __init__(self, ctx: GatewayContext, view: MarginView | None) -> None:
        self._ctx = ctx
        self._view = view

    async def current(self) -> Decimal:
        return await read_view(
            self._read(), what="the current price", timeout=self._ctx.view_timeout
        )

    async def _read(self) -> Decimal:
        if self._view is None:
            self._view = await MarginView.connect(
                self._ctx.settings,
                topic_prefix=self._ctx.publisher.topic_prefix,
                broker=self._ctx.broker,
            )
        return await self._view.current()

    async def close(self) -> None:
        if self._view is not None:
            await self._view.close()


def _keyboard(owner_margin: Decimal) -> InlineKeyboardMarkup:
    *packages, (custom_label, custom_data) = payments.package_buttons(owner_margin)
    rows = [
        [
            InlineKeyboardButton(text=label, callback_data=data)
            for label, data in packages[i : i + 2]
        ]
        for i in range(0, len(packages), 2)
    ]
    rows.append([InlineKeyboardButton(text=custom_label, callback_data=custom_data)])
    return InlineKeyboardMarkup(inline_keyboard=rows)


def _topic(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


def build_router(ctx: GatewayContext, *, margins: MarginView | None = None) -> Router:
    router = Router(name="payments")
    margin_source = _Margins(ctx, margins)
    router.shutdown.register(margin_source.close)

    async def send_invoice(message: Message, user_id: int, stars: int) -> None:
        margin = await margin_source.current()
        invoice = invoice_for(user_id, stars, margin, order_id_from(new_id()))
        sent = await ctx.bot.send_invoice(
            chat_id=message.chat.id,
            message_thread_id=_topic(message),
            title=invoice.title,
            description=invoice.description,
            payload=invoice.payload.encode(),
            currency=invoice.currency,
            prices=[LabeledPrice(label=invoice.price_label, amount=invoice.stars)],
        )
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

    async def ask_custom_amount(message: Message, text: str = CUSTOM_AMOUNT_PROMPT) -> None:
        await message.answer(
            text if text == CUSTOM_AMOUNT_PROMPT else f"{CUSTOM_AMOUNT_PROMPT}\n\n{text}",
            reply_markup=ForceReply(force_reply=True, input_field_placeholder="e.g. 150"),
            parse_mode=None,
        )

    @router.message(Command("pay"))
    async def pay(message: Message, command: CommandObject) -> None:
        if message.from_user is None:
            return
        if command.args:
            try:
                stars = parse_custom_amount(command.args)
            except ValueError as exc:
                await message.answer(f"{exc}.", parse_mode=None)
                return
            await send_invoice(message, message.from_user.id, stars)
            return
        margin = await margin_source.current()
        await message.answer(replies.PAY_PROMPT, reply_markup=_keyboard(margin), parse_mode=None)

    async def answer_callback(query: CallbackQuery) -> None:
        try:
            await query.answer()
        except TelegramAPIError as exc:
            # Answered on an earlier delivery whose record did not reach the log: go on.
            log.info("callback answer failed", extra={"fields": {"error": str(exc)}})

    @router.callback_query(F.data.startswith(CALLBACK_PREFIX))
    async def package_chosen(query: CallbackQuery) -> None:
        try:
            stars = parse_package_callback(query.data or "")
        except ValueError:
            await query.answer("This button is not valid any more; use /pay.", show_alert=True)
            return
        await answer_callback(query)
        message = query.message
        if message is None or isinstance(message, InaccessibleMessage):
            return
        if stars is None:
            await ask_custom_amount(message)
        else:
            await send_invoice(message, query.from_user.id, stars)

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
        except ValueError as exc:
            await ask_custom_amount(message, replies.custom_amount_invalid(str(exc)))
            return
        await send_invoice(message, message.from_user.id, stars)

    @router.pre_checkout_query()
    async def pre_checkout(query: PreCheckoutQuery) -> None:
        verdict = check_pre_checkout(
            payload=query.invoice_payload,
            currency=query.currency,
            total_amount=query.total_amount,
            from_user_id=query.from_user.id,
        )
        try:
            await query.answer(ok=verdict.ok, error_message=verdict.error_message)
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
        user_id = message.from_user.id
        charge = paid.telegram_payment_charge_id
        try:
            payload: InvoicePayload | None = parse_payload(paid.invoice_payload)
        except PayloadError:
            payload = None  # paid, so recorded all the same (below), but not credited
        # The same charge always yields the same record ids and the same operation.
        record_id = telegram_record_id("payment", message.chat.id, message.message_id, message.date)
        succeeded = PaymentSucceeded(
            **new_envelope(
                key=user_key(user_id), producer=PRODUCER, id=record_id, occurred_at=message.date
            ),
            user_id=user_id,
            telegram_payment_charge_id=charge,
            provider_payment_charge_id=paid.provider_payment_charge_id or "",
            invoice_payload=paid.invoice_payload,
            stars=paid.total_amount,
            currency=paid.currency,
        )
        if payload is None:
            await ctx.publisher.publish(PAYMENTS_EVENTS, succeeded)
            log.error(
                "payment with an unreadable invoice payload recorded, not credited",
                extra={"fields": {"charge_id": charge, "stars": paid.total_amount}},
            )
            await message.answer(gateway_replies.payment_needs_support(charge), parse_mode=None)
            return
        credit = commands.payment_credit(
            user_id,
            charge,
            paid.total_amount,
            invoice_payload=paid.invoice_payload,
            owner_margin=payload.owner_margin,
            cause=succeeded,
            occurred_at=message.date,
        )
        await ctx.publisher.publish_all([(PAYMENTS_EVENTS, succeeded), (BILLING_COMMANDS, credit)])
        usd = stars_to_usd(paid.total_amount, payload.owner_margin)
        await message.answer(
            replies.payment_received(paid.total_amount, usd, charge), parse_mode=None
        )

    @router.message(F.refunded_payment)
    async def refunded_payment(message: Message) -> None:
        """Telegram refunded a payment (maybe outside the bot): the ledger debits it once."""
        refund = normalize.refunded_payment(message_json(message))
        if refund is None:
            return
        debit = commands.refunded_payment_debit(
            refund.user_id,
            refund.telegram_payment_charge_id,
            refund.stars,
            id=telegram_record_id(
                "refunded-payment", refund.chat_id, refund.message_id, message.date
            ),
            occurred_at=refund.sent_at,
        )
        await ctx.publisher.publish(BILLING_COMMANDS, debit)

    return router
