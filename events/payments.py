"""Telegram Stars payments (topic ``bot.payments.events``, key user id).

Facts recorded by the payments handler; it turns them into billing commands
(``billing.payment_credit_requested`` on success, ``billing.refund_debit_requested`` on a
refund request) and calls ``refundStarPayment`` once the refund debit is in the ledger.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from events.envelope import Envelope


class InvoiceIssued(Envelope, tag="payments.invoice_issued", frozen=True, kw_only=True):
    """``/pay``: an invoice for ``stars`` (package or custom 1-2500) was sent; USD quoted."""

    v: Literal[1] = 1
    user_id: int
    chat_id: int
    invoice_payload: str
    stars: int
    currency: str = "XTR"
    quoted_usd: Decimal
    owner_margin: Decimal
    telegram_message_id: int | None = None


class PreCheckoutAnswered(
    Envelope, tag="payments.pre_checkout_answered", frozen=True, kw_only=True
):
    """The bot answered a pre-checkout query (``ok`` false carries the error shown)."""

    v: Literal[1] = 1
    user_id: int
    pre_checkout_query_id: str
    invoice_payload: str
    stars: int
    currency: str = "XTR"
    ok: bool
    error_message: str | None = None


class PaymentSucceeded(Envelope, tag="payments.payment_succeeded", frozen=True, kw_only=True):
    """Telegram confirmed a payment (``successful_payment``)."""

    v: Literal[1] = 1
    user_id: int
    telegram_payment_charge_id: str
    provider_payment_charge_id: str = ""
    invoice_payload: str
    stars: int
    currency: str = "XTR"


class RefundRequested(Envelope, tag="payments.refund_requested", frozen=True, kw_only=True):
    """``/refund <transaction id>`` was asked for (by the payer or an admin)."""

    v: Literal[1] = 1
    user_id: int
    telegram_payment_charge_id: str
    requested_by_user_id: int


class Refunded(Envelope, tag="payments.refunded", frozen=True, kw_only=True):
    """Telegram refunded the Stars (``refundStarPayment`` succeeded)."""

    v: Literal[1] = 1
    user_id: int
    telegram_payment_charge_id: str
    stars: int


class RefundFailed(Envelope, tag="payments.refund_failed", frozen=True, kw_only=True):
    """The refund did not happen: refused by billing (``declined``) or by Telegram (``error``)."""

    v: Literal[1] = 1
    user_id: int
    telegram_payment_charge_id: str
    stage: str
    reason: str
    detail: str = ""
