"""Builders for billing commands, used by every producer (gateway, payments, the thread and
users actors, tests, bench). Pure: records in, records out.

Every builder is one call of :func:`_command`, which fills the envelope (caused by ``cause``
when given, else new, with ``id`` when the caller derives one) and the operation id, derived
from what the operation is about (:mod:`actors.billing.operations`), so callers cannot get
idempotency wrong.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from typing import Any, TypeVar

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

C = TypeVar("C", bound=Envelope)


def _command(
    kind: Callable[..., C],
    user_id: int,
    producer: str,
    operation: Callable[[str], str],
    *,
    cause: Envelope | None,
    label: str | None,
    occurred_at: datetime | None,
    id: str | None = None,
    **fields: Any,
) -> C:
    """A ``kind`` command about ``user_id``: keyed by the user, caused by ``cause`` (named
    ``label``) or new (with ``id`` when given); ``operation(record id)`` is its operation id."""
    key = user_key(user_id)
    env: EnvelopeFields
    if cause is not None:
        env = caused_by(cause, producer=producer, key=key, label=label, occurred_at=occurred_at)
    else:
        env = new_envelope(key=key, producer=producer, id=id, occurred_at=occurred_at)
    return kind(**env, operation_id=operation(env["id"]), user_id=user_id, **fields)


def starter_credit(
    user_id: int,
    *,
    producer: str = "users-actor",
    cause: Envelope | None = None,
    occurred_at: datetime | None = None,
) -> StarterCreditRequested:
    return _command(
        StarterCreditRequested,
        user_id,
        producer,
        lambda _: operations.starter(user_id),
        cause=cause,
        label="starter",
        occurred_at=occurred_at,
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
    return _command(
        UsageChargeRequested,
        user_id,
        producer,
        lambda _: operation_id or operations.usage(event_id),
        cause=cause,
        label=f"charge:{event_id}",
        occurred_at=occurred_at,
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
    return _command(
        UsageReserveRequested,
        user_id,
        producer,
        lambda _: operations.reserve(reservation_id),
        cause=cause,
        label=operations.reserve(reservation_id),
        occurred_at=occurred_at,
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
    return _command(
        ReservationReleaseRequested,
        user_id,
        producer,
        lambda _: operations.release(reservation_id),
        cause=cause,
        label=operations.release(reservation_id),
        occurred_at=occurred_at,
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
    return _command(
        RefundedPaymentDebitRequested,
        user_id,
        producer,
        lambda _: operations.refunded_payment(charge_id),
        cause=cause,
        label="refunded-payment",
        id=id,
        occurred_at=occurred_at,
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
    return _command(
        PaymentCreditRequested,
        user_id,
        producer,
        lambda _: operations.payment(charge_id),
        cause=cause,
        label="payment-credit",
        occurred_at=occurred_at,
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
    return _command(
        RefundDebitRequested,
        user_id,
        producer,
        lambda own_id: operations.refund(charge_id, request_id or own_id),
        cause=cause,
        label="refund-debit",
        occurred_at=occurred_at,
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
    return _command(
        RefundReversalRequested,
        user_id,
        producer,
        lambda _: operations.refund_reversal(refund_operation_id),
        cause=cause,
        label="refund-reversal",
        occurred_at=occurred_at,
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
    return _command(
        AdminTopUpRequested,
        user_id,
        producer,
        operations.top_up,
        cause=None,
        label=None,
        id=request_id,
        occurred_at=occurred_at,
        amount=amount,
        admin_user_id=admin_user_id,
        reason=reason,
    )
