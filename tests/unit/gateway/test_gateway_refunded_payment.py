"""The refunded_payment service message is read for the ledger, not ignored."""

from __future__ import annotations

from datetime import UTC, datetime

from actors.gateway.normalize import Ignored, normalize
from actors.gateway.refunds import refunded_payment

REFUND = {
    "message_id": 77,
    "date": 1_780_000_000,
    "chat": {"id": 5001, "type": "private"},
    "from": {"id": 5001, "is_bot": False, "first_name": "P"},
    "refunded_payment": {
        "currency": "XTR",
        "total_amount": 50,
        "invoice_payload": "xtr1:5001:" + "a" * 32 + ":50:0",
        "telegram_payment_charge_id": "stxOUT",
    },
}


def test_a_refunded_payment_names_the_payer_the_charge_and_the_stars() -> None:
    """What the ledger needs to debit the refund, from Telegram's JSON."""
    refund = refunded_payment(REFUND)
    assert refund is not None
    assert (refund.user_id, refund.chat_id, refund.message_id) == (5001, 5001, 77)
    assert (refund.telegram_payment_charge_id, refund.stars) == ("stxOUT", 50)
    assert refund.sent_at == datetime.fromtimestamp(1_780_000_000, UTC)
    assert isinstance(normalize(REFUND), Ignored)  # still no conversation message


def test_other_messages_and_other_currencies_are_not_refunds() -> None:
    """Only a Stars refund becomes a debit; anything malformed is None, never an error."""
    assert refunded_payment({"message_id": 1, "date": 1, "chat": {"id": 1}, "text": "hi"}) is None
    other = {**REFUND, "refunded_payment": {**REFUND["refunded_payment"], "currency": "USD"}}  # type: ignore[dict-item]
    assert refunded_payment(other) is None
    broken = {**REFUND, "refunded_payment": {"currency": "XTR"}}
    assert refunded_payment(broken) is None
