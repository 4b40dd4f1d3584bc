"""The ``payments`` projection: invoices and Stars payments with their refund status.

A payment's owner (``user_id``) comes only from ``payment_succeeded``: refund records carry
the user who *asked*, and ``/refund`` accepts any charge id, so they never write it (someone
else's charge id must not move that payment to the requester). Likewise an invoice's owner
comes only from ``invoice_issued``, and the pre-checkout or payment of another user than the
one the payload names (a forwarded invoice; refused at pre-checkout) does not touch the
invoice row: its offset, from another partition, would hide the owner's own updates.

A refund request is keyed by the requester, so it may come from another partition than the
payment: it only writes ``refund_requested_at``/``_by`` under their own guard, never the
payment's ``status`` (``paid``, ``refunded``, ``refund_failed``) or its guard. A request the
billing declined (``refund_failed`` at stage ``declined``) changes nothing here; the ledger
holds the rejection and its reason. Refunds and refund errors come from the payer's partition.
"""

from __future__ import annotations

from typing import Any, Final

from events import payments as p
from projections.rows import Patch, RowOp
from projections.source import Source
from projections.tables import INVOICES, PAYMENTS

DECLINED: Final = "declined"
"""The ``RefundFailed`` stage of a request the billing refused (see the payments process)."""


def _invoice(payload: str, values: dict[str, Any], src: Source) -> Patch:
    return Patch(INVOICES.name, "row", (payload,), values, src.offset)


def _payment(charge_id: str, values: dict[str, Any], src: Source) -> Patch:
    return Patch(PAYMENTS.name, "row", (charge_id,), values, src.offset)


def invoice_issued(e: p.InvoiceIssued, src: Source) -> list[RowOp]:
    values = {
        "user_id": e.user_id,
        "chat_id": e.chat_id,
        "stars": e.stars,
        "currency": e.currency,
        "quoted_usd": e.quoted_usd,
        "owner_margin": e.owner_margin,
        "issued_at": e.occurred_at,
        "telegram_message_id": e.telegram_message_id,
    }
    return [_invoice(e.invoice_payload, values, src)]


def _issued_to(payload: str) -> int | None:
    """The user an invoice was issued to, from its payload (``<prefix>:<user id>:...``)."""
    parts = payload.split(":", 2)
    return int(parts[1]) if len(parts) > 2 and parts[1].isdigit() and len(parts[1]) <= 20 else None


def _someone_elses(payload: str, user_id: int) -> bool:
    issued_to = _issued_to(payload)
    return issued_to is not None and issued_to != user_id


def pre_checkout_answered(e: p.PreCheckoutAnswered, src: Source) -> list[RowOp]:
    if _someone_elses(e.invoice_payload, e.user_id):
        return []  # refused at pre-checkout; written by another user's partition: left out
    values = {
        "pre_checkout_at": e.occurred_at,
        "pre_checkout_ok": e.ok,
        "pre_checkout_error": e.error_message,
    }
    return [_invoice(e.invoice_payload, values, src)]


def payment_succeeded(e: p.PaymentSucceeded, src: Source) -> list[RowOp]:
    values = {
        "user_id": e.user_id,
        "invoice_payload": e.invoice_payload,
        "stars": e.stars,
        "currency": e.currency,
        "provider_payment_charge_id": e.provider_payment_charge_id,
        "paid_at": e.occurred_at,
        "status": "paid",
    }
    ops: list[RowOp] = [_payment(e.telegram_payment_charge_id, values, src)]
    if not _someone_elses(e.invoice_payload, e.user_id):
        ops.append(
            _invoice(e.invoice_payload, {"paid_charge_id": e.telegram_payment_charge_id}, src)
        )
    return ops


def refund_requested(e: p.RefundRequested, src: Source) -> list[RowOp]:
    values = {
        "refund_requested_at": e.occurred_at,
        "refund_requested_by": e.requested_by_user_id,
    }
    return [Patch(PAYMENTS.name, "request", (e.telegram_payment_charge_id,), values, src.offset)]


def refunded(e: p.Refunded, src: Source) -> list[RowOp]:
    values = {
        "refunded_at": e.occurred_at,
        "refunded_stars": e.stars,
        "status": "refunded",
    }
    return [_payment(e.telegram_payment_charge_id, values, src)]


def refund_failed(e: p.RefundFailed, src: Source) -> list[RowOp]:
    if e.stage == DECLINED:
        return []  # billing refused the request: the payment is unchanged (the ledger says why)
    values = {
        "refund_failed_at": e.occurred_at,
        "refund_failure_stage": e.stage,
        "refund_failure_reason": e.reason,
        "status": "refund_failed",
    }
    return [_payment(e.telegram_payment_charge_id, values, src)]
