"""The ledger record each billing command becomes: one builder per command kind, applying
that command's rules to the user's state (or refusing it with ``ledger.operation_rejected``).

Pure; :func:`actors.billing.ledger.decide` picks the builder after the checks every command
shares (a repeated or conflicting operation id, an expired one).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import TypedDict

from actors.billing import operations, policy
from actors.billing.ledger_state import (
    ALREADY_CREDITED,
    ALREADY_GRANTED,
    ALREADY_REFUNDED,
    INVALID_AMOUNT,
    NOT_REFUNDED,
    PRODUCER,
    UNKNOWN_PAYMENT,
    UNPRICED,
    ZERO,
    BillingState,
    Entry,
)
from actors.billing.pricing import PriceTable, PricingError, price
from actors.billing.quantities import charge_problem
from actors.billing.subsidy import NO_SUBSIDY, SubsidySchedule
from actors.texts.refusal import Refusal
from events.billing import (
    AdminToppedUp,
    AdminTopUpRequested,
    OperationRejected,
    PaymentCredited,
    PaymentCreditRequested,
    RefundDebited,
    RefundDebitRequested,
    RefundedPaymentDebited,
    RefundedPaymentDebitRequested,
    RefundReversalRequested,
    RefundReversed,
    ReservationReleased,
    ReservationReleaseRequested,
    StarterCreditGranted,
    StarterCreditRequested,
    UsageChargeRequested,
    UsageDebited,
    UsageReserved,
    UsageReserveRequested,
)
from events.catalog import BillingCommand
from events.envelope import Envelope, EnvelopeFields, caused_by, event_type


class _EntryFields(TypedDict):
    operation_id: str
    user_id: int
    amount: Decimal
    balance_after: Decimal
    command_id: str
    command_digest: str


def _envelope(command: Envelope, now: datetime, label: str) -> EnvelopeFields:
    return caused_by(command, producer=PRODUCER, label=label, occurred_at=now)


def _common(
    state: BillingState, command: BillingCommand, digest: str, amount: Decimal
) -> _EntryFields:
    return _EntryFields(
        operation_id=command.operation_id,
        user_id=command.user_id,
        amount=amount,
        balance_after=state.balance + amount,
        command_id=command.id,
        command_digest=digest,
    )


def rejected(
    state: BillingState,
    command: BillingCommand,
    digest: str,
    now: datetime,
    reason: str,
    detail: str | Refusal,
    *,
    label: str = "ledger",
) -> OperationRejected:
    """The refusal of ``command``; a :class:`Refusal` detail keeps its values (the reply
    words them in the user's language)."""
    values = detail.plain_values() if isinstance(detail, Refusal) and detail.values else None
    return OperationRejected(
        **_envelope(command, now, label),
        **_common(state, command, digest, ZERO),
        command_type=event_type(type(command)),
        reason=reason,
        detail=str(detail),
        detail_values=values,
    )


def usage(
    state: BillingState,
    command: UsageChargeRequested,
    digest: str,
    now: datetime,
    tables: tuple[PriceTable, ...],
    subsidy: SubsidySchedule = NO_SUBSIDY,
) -> Entry:
    problem = charge_problem(command.usage, command.tool_quantities)
    if problem:
        return rejected(state, command, digest, now, INVALID_AMOUNT, problem)
    subsidized = subsidy.subsidized_at(command.occurred_at)
    try:
        priced = price(
            at=command.occurred_at,
            model=command.model,
            usage=command.usage,
            tool_quantities=command.tool_quantities,
            tables=tables,
            cache_writes_charged=not subsidized,
        )
    except PricingError as exc:
        return rejected(state, command, digest, now, UNPRICED, str(exc))
    except ArithmeticError as exc:  # decimal.InvalidOperation, Overflow...: never raise
        return rejected(state, command, digest, now, INVALID_AMOUNT, f"cannot be priced: {exc!r}")
    if not priced.total.is_finite():
        return rejected(state, command, digest, now, INVALID_AMOUNT, f"priced at {priced.total}")
    return UsageDebited(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, -priced.total),
        price_version=priced.version,
        source=command.source,
        source_event_id=command.source_event_id,
        thread_key=command.thread_key,
        turn_id=command.turn_id,
        model=command.model,
        usage=command.usage,
        tool_name=command.tool_name,
        tool_quantities=command.tool_quantities,
        lines=priced.lines,
        reservation_id=command.reservation_id,
        cache_writes_subsidized=subsidized
        and any(line.item.endswith("/subsidy") for line in priced.lines),
    )


def reserve(
    state: BillingState, command: UsageReserveRequested, digest: str, now: datetime
) -> Entry:
    problem = policy.reservation_problem(command.amount)
    if problem:
        return rejected(state, command, digest, now, INVALID_AMOUNT, problem)
    return UsageReserved(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, ZERO),
        reservation_id=command.reservation_id,
        reserved=command.amount,
        expires_at=command.occurred_at + policy.RESERVATION_TTL,
        thread_key=command.thread_key,
        turn_id=command.turn_id,
    )


def release(
    state: BillingState, command: ReservationReleaseRequested, digest: str, now: datetime
) -> Entry:
    hold = state.reservations.get(command.reservation_id)
    return ReservationReleased(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, ZERO),
        reservation_id=command.reservation_id,
        released=ZERO if hold is None else hold.amount,
        reason=command.reason,
    )


def refunded_payment(
    state: BillingState, command: RefundedPaymentDebitRequested, digest: str, now: datetime
) -> Entry:
    """Telegram refunded the payment already: debit it unless it is already refunded (the
    bot's own ``/refund`` is confirmed by the same service message)."""
    charge = command.telegram_payment_charge_id
    payment = state.payments.get(charge)
    if payment is None:
        detail = f"no payment {charge} was credited to this user"
        return rejected(state, command, digest, now, UNKNOWN_PAYMENT, detail)
    if payment.refunded:
        detail = f"payment {charge} is already refunded ({payment.refund_operation})"
        return rejected(state, command, digest, now, ALREADY_REFUNDED, detail)
    return RefundedPaymentDebited(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, -payment.credited),
        telegram_payment_charge_id=charge,
        stars=payment.stars,
    )


def starter(
    state: BillingState, command: StarterCreditRequested, digest: str, now: datetime
) -> Entry:
    if state.starter_granted:
        return rejected(
            state, command, digest, now, ALREADY_GRANTED, "the starter credit is granted once"
        )
    return StarterCreditGranted(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, policy.STARTER_CREDIT),
    )


def payment(
    state: BillingState, command: PaymentCreditRequested, digest: str, now: datetime
) -> Entry:
    charge = command.telegram_payment_charge_id
    if charge in state.payments:
        return rejected(
            state, command, digest, now, ALREADY_CREDITED, f"payment {charge} is already credited"
        )
    problem = policy.stars_amount_problem(command.stars) or policy.margin_problem(
        command.owner_margin
    )
    if problem:
        return rejected(state, command, digest, now, INVALID_AMOUNT, problem)
    amount = policy.stars_to_usd(command.stars, command.owner_margin)
    return PaymentCredited(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, amount),
        telegram_payment_charge_id=charge,
        stars=command.stars,
        usd_per_star=policy.USD_PER_STAR,
        withdrawal_fee=policy.WITHDRAWAL_FEE,
        topics_fee=policy.TOPICS_FEE,
        owner_margin=command.owner_margin,
    )


def refund(state: BillingState, command: RefundDebitRequested, digest: str, now: datetime) -> Entry:
    charge = command.telegram_payment_charge_id
    payment = state.payments.get(charge)
    if payment is None:
        return rejected(
            state,
            command,
            digest,
            now,
            UNKNOWN_PAYMENT,
            Refusal("refusal_detail.unknown_payment", charge_id=charge),
        )
    problem = policy.refund_problem(
        payer_id=command.user_id,
        requested_by=command.requested_by_user_id,
        paid_at=payment.paid_at,
        requested_at=command.occurred_at,
        credited=payment.credited,
        balance=state.available(command.occurred_at),
        already_refunded=payment.refunded,
    )
    if problem is not None:
        reason, detail = problem
        return rejected(state, command, digest, now, reason, detail)
    return RefundDebited(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, -payment.credited),
        telegram_payment_charge_id=charge,
        stars=payment.stars,
    )


def reversal(
    state: BillingState, command: RefundReversalRequested, digest: str, now: datetime
) -> Entry:
    charge = command.telegram_payment_charge_id
    payment = state.payments.get(charge)
    if payment is None:
        return rejected(state, command, digest, now, UNKNOWN_PAYMENT, f"no payment {charge}")
    refund = payment.refund_operation
    reverses = operations.reversed_refund(command.operation_id)
    if not payment.refunded or refund is None or reverses != refund:
        return rejected(
            state,
            command,
            digest,
            now,
            NOT_REFUNDED,
            f"payment {charge} has no refund debit {reverses}",
        )
    return RefundReversed(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, payment.credited),
        telegram_payment_charge_id=charge,
    )


def top_up(state: BillingState, command: AdminTopUpRequested, digest: str, now: datetime) -> Entry:
    problem = policy.admin_amount_problem(command.amount)
    if problem:
        return rejected(state, command, digest, now, INVALID_AMOUNT, problem)
    return AdminToppedUp(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, command.amount),
        admin_user_id=command.admin_user_id,
        reason=command.reason,
    )
