"""A ``refunded_payment`` service message, read for the ledger.

Pure: Telegram's JSON of the message in, a :class:`RefundedPayment` (or ``None``) out. The
conversation ignores the message (:mod:`.normalize` lists it among the service messages).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import msgspec

from actors.gateway.normalize import utc
from actors.gateway.telegram import TgUser
from events.money import STARS_CURRENCY


class _TgRefundedPayment(msgspec.Struct, frozen=True, kw_only=True):
    currency: str
    total_amount: int
    telegram_payment_charge_id: str
    invoice_payload: str = ""
    provider_payment_charge_id: str | None = None


class _TgRefundMessage(msgspec.Struct, frozen=True, kw_only=True, rename={"from_": "from"}):
    message_id: int
    date: int
    chat: Mapping[str, Any]
    from_: TgUser | None = None
    refunded_payment: _TgRefundedPayment


@dataclass(frozen=True, slots=True)
class RefundedPayment:
    """A ``refunded_payment`` service message: Telegram refunded a Stars payment (through
    the bot's own ``refundStarPayment`` or outside it). The ledger debits it once."""

    user_id: int
    chat_id: int
    message_id: int
    sent_at: datetime
    telegram_payment_charge_id: str
    stars: int


def refunded_payment(raw: Mapping[str, Any]) -> RefundedPayment | None:
    """The refund a service message reports, or ``None`` (not one, or not in Stars)."""
    if "refunded_payment" not in raw:
        return None
    try:
        msg = msgspec.convert(raw, _TgRefundMessage, strict=False)
    except msgspec.ValidationError:
        return None
    refund = msg.refunded_payment
    chat_id = msg.chat.get("id")
    if refund.currency != STARS_CURRENCY or not isinstance(chat_id, int):
        return None
    user_id = msg.from_.id if msg.from_ is not None else chat_id
    return RefundedPayment(
        user_id=user_id,
        chat_id=chat_id,
        message_id=msg.message_id,
        sent_at=utc(msg.date),
        telegram_payment_charge_id=refund.telegram_payment_charge_id,
        stars=refund.total_amount,
    )
