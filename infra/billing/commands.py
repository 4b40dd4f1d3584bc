"""Builders for billing commands, used by every producer (gateway, payments, tests, bench).

Each builder fills the envelope and derives the operation id from what the operation is
about (:mod:`actors.billing.operations`), so callers cannot get idempotency wrong.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from actors.billing import operations
from events.billing import (
    AdminTopUpRequested,
    PaymentCreditRequested,
    RefundDebitRequested,
    RefundedPaymentDebitRequested,
    RefundReversalRequested,
    ReservationReleaseRequested,
    StarterCreditRequested,
    UsageChargeRequested,
    UsageReserveRequested,
)
from events.envelope import Envelope, EnvelopeFields, caused_by, new_envelope
from events.ids import new_id
from events.keys import user_key
from events.usage import ModelId, ToolQuantities, Usage


def _envelope(
    user_id: int,
    producer: str,
    *,
    cause: Envelope | None,
    label: str | None,
    id: str | None,
    occurred_at: datetime | None,
) -> EnvelopeFields:
    key = user_key(user_id)
    if cause is not None:
        return caused_by(cause, producer=producer, key=key, label=label, occurred_at=occurred_at)
    return new_envelope(key=key, producer=producer, id=id, occurred_at=occurred_at)


def starter_credit(
    user_id: int,
    *,
    producer: str = "users-actor",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> StarterCreditRequested:
    env = _envelope(
        user_id, producer, cause=cause, label="starter", id=None, occurred_at=occurred_at
    )
    return StarterCreditRequested(
        **env,
        operation_id=operations.starter(user_id),
        user_id=user_id,
    )


def usage_charge(
    user_id: int,
    *,
    source_event_id: str | None = None,
    thread_key: str = "0:0",
    model: ModelId | None = None,
    usage: Usage | None = None,
    tool_name: str | None = None,
    tool_quantities: ToolQuantities | None = None,
    source: str = "model_call",
    turn_id: str | None = None,
    producer: str = "thread-actor",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
    operation_id: str | None = None,
    reservation_id: str | None = None,
) -> UsageChargeRequested:
    event_id = source_event_id or new_id()
    env = _envelope(
        user_id, producer, cause=cause, label=f"charge:{event_id}", id=None, occurred_at=occurred_at
    )
    return UsageChargeRequested(
        **env,
        operation_id=operation_id or operations.usage(event_id),
        user_id=user_id,
        source=source,
        source_event_id=event_id,
        thread_key=thread_key,
        turn_id=turn_id,
        model=model,
        usage=usage,
        tool_name=tool_name,
        tool_quantities=tool_quantities,
        reservation_id=reservation_id,
    )


def usage_reserve(
    user_id: int,
    reservation_id: str,
    amount: Decimal,
    *,
    thread_key: str = "0:0",
    turn_id: str | None = None,
    producer: str = "thread-actor",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> UsageReserveRequested:
    env = _envelope(
        user_id,
        producer,
        cause=cause,
        label=operations.reserve(reservation_id),
        id=None,
        occurred_at=occurred_at,
    )
    return UsageReserveRequested(
        **env,
        operation_id=operations.reserve(reservation_id),
        user_id=user_id,
        reservation_id=reservation_id,
        amount=amount,
        thread_key=thread_key,
        turn_id=turn_id,
    )


def reservation_release(
    user_id: int,
    reservation_id: str,
    reason: str = "turn_failed",
    *,
    producer: str = "thread-actor",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> ReservationReleaseRequested:
    env = _envelope(
        user_id,
        producer,
        cause=cause,
        label=operations.release(reservation_id),
        id=None,
        occurred_at=occurred_at,
    )
    return ReservationReleaseRequested(
        **env,
        operation_id=operations.release(reservation_id),
        user_id=user_id,
        reservation_id=reservation_id,
        reason=reason,
    )


def refunded_payment_debit(
    user_id: int,
    charge_id: str,
    stars: int,
    *,
    producer: str = "gateway",
    id: str | None = None,
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> RefundedPaymentDebitRequested:
    """A ``refunded_payment`` service message (``id``: derived from the message, so a
    redelivered update yields the same record)."""
    env = _envelope(
        user_id, producer, cause=cause, label="refunded-payment", id=id, occurred_at=occurred_at
    )
    return RefundedPaymentDebitRequested(
        **env,
        operation_id=operations.refunded_payment(charge_id),
        user_id=user_id,
        telegram_payment_charge_id=charge_id,
        stars=stars,
    )


def payment_credit(
    user_id: int,
    charge_id: str,
    stars: int,
    *,
    invoice_payload: str,
    owner_margin: Decimal,
    producer: str = "gateway",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> PaymentCreditRequested:
    env = _envelope(
        user_id, producer, cause=cause, label="payment-credit", id=None, occurred_at=occurred_at
    )
    return PaymentCreditRequested(
        **env,
        operation_id=operations.payment(charge_id),
        user_id=user_id,
        telegram_payment_charge_id=charge_id,
        stars=stars,
        invoice_payload=invoice_payload,
        owner_margin=owner_margin,
    )


def refund_debit(
    user_id: int,
    charge_id: str,
    *,
    requested_by: int | None = None,
    request_id: str | None = None,
    producer: str = "gateway",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> RefundDebitRequested:
    """``request_id`` names the /refund request (default: this command's own id)."""
    env = _envelope(
        user_id, producer, cause=cause, label="refund-debit", id=None, occurred_at=occurred_at
    )
    request = request_id or env["id"]
    return RefundDebitRequested(
        **env,
        operation_id=operations.refund(charge_id, request),
        user_id=user_id,
        telegram_payment_charge_id=charge_id,
        requested_by_user_id=user_id if requested_by is None else requested_by,
    )


def refund_reversal(
    user_id: int,
    charge_id: str,
    refund_operation_id: str,
    reason: str,
    *,
    producer: str = "payments",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> RefundReversalRequested:
    env = _envelope(
        user_id, producer, cause=cause, label="refund-reversal", id=None, occurred_at=occurred_at
    )
    return RefundReversalRequested(
        **env,
        operation_id=operations.refund_reversal(refund_operation_id),
        user_id=user_id,
        telegram_payment_charge_id=charge_id,
        reason=reason,
    )


def admin_top_up(
    user_id: int,
    amount: Decimal,
    admin_user_id: int,
    *,
    reason: str = "",
    request_id: str | None = None,
    producer: str = "gateway",
    occurred_at: datetime | None = None,
) -> AdminTopUpRequested:
    """``request_id`` names the admin's request (default: this command's own id)."""
    env = _envelope(
        user_id, producer, cause=None, label=None, id=request_id, occurred_at=occurred_at
    )
    return AdminTopUpRequested(
        **env,
        operation_id=operations.top_up(env["id"]),
        user_id=user_id,
        amount=amount,
        admin_user_id=admin_user_id,
        reason=reason,
    )
