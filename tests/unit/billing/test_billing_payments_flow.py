from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from actors.billing import payments
from actors.billing.payments import InvoicePayload, check_pre_checkout, parse_payload

ORDER = "0123456789abcdef0123456789abcdef"


@given(
    st.integers(1, 2**53),
    st.integers(1, 2500),
    st.sampled_from((Decimal(0), Decimal("0.1"), Decimal("0.125"), Decimal("0.4999"))),
)
def test_invoice_payload_round_trips_and_fits_telegram_limit(
    uid: int, stars: int, margin: Decimal
) -> None:
    """The payload names user, order, stars and margin, parses back, and is <= 128 bytes."""
    payload = InvoicePayload(uid, ORDER, stars, margin)
    text = payload.encode()
    assert len(text.encode()) <= 128
    assert parse_payload(text) == payload


def test_packages_and_custom_button() -> None:
    """/pay offers 10, 50, 100, 250, 500 Stars with their USD value, then a custom amount."""
    buttons = payments.package_buttons("en", Decimal(0))
    assert [data for _, data in buttons] == [
        "pay:10",
        "pay:50",
        "pay:100",
        "pay:250",
        "pay:500",
        "pay:custom",
    ]
    assert "$0.65" in buttons[2][0]
    assert payments.parse_package_callback("pay:250") == 250
    assert payments.parse_package_callback("pay:custom") is None
    for bad in ("pay:11", "pay:", "x:10", "pay:-1"):
        with pytest.raises(ValueError):
            payments.parse_package_callback(bad)


def test_custom_amount_accepts_1_to_2500_whole_stars() -> None:
    """Custom amounts: whole numbers 1..2500, else a message saying what is accepted."""
    assert payments.parse_custom_amount(" 42 ") == 42
    assert payments.parse_custom_amount("2500") == 2500
    assert payments.parse_custom_amount("1⭐") == 1
    for bad, words in (("0", "between"), ("2501", "between"), ("1.5", "whole"), ("ten", "number")):
        with pytest.raises(ValueError, match=words):
            payments.parse_custom_amount(bad)


def test_invoice_quotes_usd_at_the_current_margin() -> None:
    """The invoice is in XTR for the stars asked, quoting stars x 0.013 x (1-k)."""
    invoice = payments.invoice_for("en", 7, 100, Decimal("0.1"), ORDER)
    assert (invoice.currency, invoice.stars, invoice.quoted_usd) == ("XTR", 100, Decimal("0.52"))
    assert invoice.payload.owner_margin == Decimal("0.1")
    assert len(invoice.title) <= 32
    russian = payments.invoice_for("ru", 7, 100, Decimal("0.1"), ORDER)
    assert russian.payload == invoice.payload
    assert russian.title != invoice.title
    assert len(russian.title) <= 32
    with pytest.raises(ValueError):
        payments.invoice_for("en", 7, 0, Decimal(0), ORDER)


def test_pre_checkout_accepts_only_our_payload_for_the_payer_in_xtr_at_the_quoted_amount() -> None:
    """Payload, payer, currency and amount are checked, each refusal with a clear message."""
    payload = InvoicePayload(7, ORDER, 100, Decimal(0)).encode()
    ok = check_pre_checkout("en", payload=payload, currency="XTR", total_amount=100, from_user_id=7)
    assert ok.ok
    assert ok.payload is not None
    refusals = [
        check_pre_checkout("en", payload="junk", currency="XTR", total_amount=100, from_user_id=7),
        check_pre_checkout("en", payload=payload, currency="XTR", total_amount=100, from_user_id=8),
        check_pre_checkout("en", payload=payload, currency="USD", total_amount=100, from_user_id=7),
        check_pre_checkout("en", payload=payload, currency="XTR", total_amount=99, from_user_id=7),
    ]
    for verdict in refusals:
        assert not verdict.ok
        assert verdict.error_message
    assert len({v.error_message for v in refusals}) == 4


def test_refund_argument_is_required() -> None:
    """/refund without a transaction id answers with its usage."""
    assert payments.parse_refund_argument(" stx123 ") == "stx123"
    with pytest.raises(ValueError, match="usage"):
        payments.parse_refund_argument("")
