"""The payments read model: a payment's and an invoice's owner come only from their own
records, never from a refund request or a pre-checkout answer."""

from __future__ import annotations

import msgspec

from events import payments as p
from events.samples import sample
from projections.catalog import PROJECTIONS
from projections.changes import Changes
from projections.source import Source

OWNER = 1001
OTHER = 2002
CHARGE = "charge-of-the-owner"


def _apply(changes: Changes, record: object, offset: int, partition: int = 0) -> None:
    src = Source("bot.payments.events", partition, offset)
    changes.apply_all(PROJECTIONS["payments"].ops(record, src))


def test_refund_with_someone_elses_charge_id_keeps_the_payments_owner() -> None:
    """/refund by another user with my charge id (and its decline) leaves the row mine and
    paid; my own refund later (a smaller offset of my partition) still shows."""
    changes = Changes(PROJECTIONS["payments"].tables)
    paid = msgspec.structs.replace(
        sample(p.PaymentSucceeded), user_id=OWNER, telegram_payment_charge_id=CHARGE
    )
    _apply(changes, paid, 5, partition=1)
    asked = msgspec.structs.replace(
        sample(p.RefundRequested),
        user_id=OTHER,
        requested_by_user_id=OTHER,
        telegram_payment_charge_id=CHARGE,
    )
    _apply(changes, asked, 500, partition=2)
    declined = msgspec.structs.replace(
        sample(p.RefundFailed), user_id=OTHER, telegram_payment_charge_id=CHARGE, stage="declined"
    )
    _apply(changes, declined, 501, partition=2)
    (row,) = changes.rows("payments")
    assert (row["user_id"], row["status"], row["last_offset"]) == (OWNER, "paid", 5)
    assert row["refund_requested_by"] == OTHER  # who asked is still recorded
    assert row.get("refund_failure_stage") is None
    refunded = msgspec.structs.replace(
        sample(p.Refunded), user_id=OWNER, telegram_payment_charge_id=CHARGE
    )
    _apply(changes, refunded, 6, partition=1)
    (row,) = changes.rows("payments")
    assert (row["user_id"], row["status"]) == (OWNER, "refunded")


def test_a_refund_error_on_the_payers_partition_is_shown() -> None:
    """Telegram refusing the payer's refund marks the payment refund_failed with the stage."""
    changes = Changes(PROJECTIONS["payments"].tables)
    paid = msgspec.structs.replace(
        sample(p.PaymentSucceeded), user_id=OWNER, telegram_payment_charge_id=CHARGE
    )
    _apply(changes, paid, 1)
    failed = msgspec.structs.replace(
        sample(p.RefundFailed), user_id=OWNER, telegram_payment_charge_id=CHARGE, stage="error"
    )
    _apply(changes, failed, 2)
    (row,) = changes.rows("payments")
    assert (row["user_id"], row["status"], row["refund_failure_stage"]) == (
        OWNER,
        "refund_failed",
        "error",
    )


def test_refund_request_for_an_unknown_charge_has_no_owner() -> None:
    """A refund request for a charge id never paid creates no payment owned by the asker."""
    changes = Changes(PROJECTIONS["payments"].tables)
    asked = msgspec.structs.replace(
        sample(p.RefundRequested), user_id=OTHER, requested_by_user_id=OTHER
    )
    _apply(changes, asked, 1)
    (row,) = changes.rows("payments")
    assert row.get("user_id") is None


def test_pre_checkout_by_another_user_leaves_the_invoice_to_its_owner() -> None:
    """A forwarded invoice answered for someone else (another partition, a larger offset)
    neither relabels the invoice nor hides the owner's own pre-checkout and payment."""
    changes = Changes(PROJECTIONS["payments"].tables)
    payload = f"xtr1:{OWNER}:{'ab' * 16}:100:0.2"
    issued = msgspec.structs.replace(
        sample(p.InvoiceIssued), user_id=OWNER, invoice_payload=payload
    )
    _apply(changes, issued, 1, partition=1)
    answered = msgspec.structs.replace(
        sample(p.PreCheckoutAnswered), user_id=OTHER, invoice_payload=payload, ok=False
    )
    _apply(changes, answered, 900, partition=2)
    (row,) = changes.rows("invoices")
    assert (row["user_id"], row.get("pre_checkout_ok"), row["last_offset"]) == (OWNER, None, 1)
    mine = msgspec.structs.replace(answered, user_id=OWNER, ok=True)
    _apply(changes, mine, 2, partition=1)
    paid = msgspec.structs.replace(
        sample(p.PaymentSucceeded),
        user_id=OWNER,
        invoice_payload=payload,
        telegram_payment_charge_id=CHARGE,
    )
    _apply(changes, paid, 3, partition=1)
    (row,) = changes.rows("invoices")
    assert (row["user_id"], row["pre_checkout_ok"], row["paid_charge_id"]) == (OWNER, True, CHARGE)
