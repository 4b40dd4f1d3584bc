"""The ledger's fold: ``evolve(state, entry)`` folds one entry into a user's state in place.

Live decisions, snapshot restores and replay all fold with this one function (see
:mod:`actors.billing.ledger` for the idempotency rules it enforces: an operation already in
the state is skipped and counted, a ``balance_after`` that disagrees is counted).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal
from typing import Final, Protocol, cast

from actors.billing import operations
from actors.billing.ledger_state import (
    CONFLICTING_DUPLICATE,
    OPERATION_RETENTION,
    BillingState,
    Hold,
    PaymentState,
)
from events.billing import (
    OperationRejected,
    PaymentCredited,
    RefundDebited,
    RefundedPaymentDebited,
    RefundReversed,
    ReservationReleased,
    StarterCreditGranted,
    UsageDebited,
    UsageReserved,
)
from events.envelope import event_type

# --------------------------------------------------------------------------- evolve


class Foldable(Protocol):
    """What the fold reads of every entry: the full records and the slim ones of
    :mod:`actors.billing.fold_records` (same tags, fewer fields, faster to decode)."""

    @property
    def key(self) -> str: ...
    @property
    def operation_id(self) -> str: ...
    @property
    def command_digest(self) -> str: ...
    @property
    def amount(self) -> Decimal: ...
    @property
    def balance_after(self) -> Decimal: ...
    @property
    def occurred_at(self) -> datetime: ...


class _Rejection(Foldable, Protocol):
    @property
    def reason(self) -> str: ...


class _OfPayment(Foldable, Protocol):
    @property
    def telegram_payment_charge_id(self) -> str: ...


class _PaymentLike(_OfPayment, Protocol):
    @property
    def stars(self) -> int: ...


class _OfReservation(Foldable, Protocol):
    @property
    def reservation_id(self) -> str | None: ...


class _Reserved(_OfReservation, Protocol):
    @property
    def reserved(self) -> Decimal: ...
    @property
    def expires_at(self) -> datetime: ...


_KIND_BY_TAG: Final = {
    event_type(OperationRejected): "rejected",
    event_type(PaymentCredited): "payment",
    event_type(RefundDebited): "refund",
    event_type(RefundedPaymentDebited): "refund",
    event_type(RefundReversed): "reversal",
    event_type(StarterCreditGranted): "starter",
    event_type(UsageDebited): "usage",
    event_type(UsageReserved): "reserve",
    event_type(ReservationReleased): "release",
}
_kinds: dict[type, str] = {}


def _kind(cls: type) -> str:
    kind = _kinds.get(cls)
    if kind is None:
        tag = cls.__struct_config__.tag  # type: ignore[attr-defined]
        kind = _kinds[cls] = _KIND_BY_TAG.get(tag, "")
    return kind


def _rotate(state: BillingState, at: datetime) -> None:
    """Start a new generation of operation ids at ``at`` (see :data:`OPERATION_RETENTION`)."""
    started = state.generation_started
    if started is not None and at < started + OPERATION_RETENTION:
        return
    if started is not None:
        state.previous_operations = state.operations
        state.operations = {}
        # never lowered: a restore may have raised it past what it re-learnt
        state.horizon = started if state.horizon is None else max(started, state.horizon)
        if state.conflicts:
            state.conflicts = {c for c in state.conflicts if state.digest_of(c[0]) is not None}
    state.generation_started = at
    state.rotate_at = at + OPERATION_RETENTION


def restore_operation(state: BillingState, entry: Foldable) -> None:
    """Re-learn the operation id of an entry a state snapshot already covers (its amount
    and facts are in the snapshot): into the generation its time belongs to, or nowhere if
    it is before the horizon."""
    if _kind(type(entry)) == "rejected" and cast(_Rejection, entry).reason == (
        CONFLICTING_DUPLICATE
    ):
        return  # conflicts are part of the snapshot
    at = entry.occurred_at
    started, horizon = state.generation_started, state.horizon
    if started is not None and at >= started:
        state.operations[entry.operation_id] = entry.command_digest
    elif horizon is None or at >= horizon:
        state.previous_operations[entry.operation_id] = entry.command_digest


def _refused_by_fold(state: BillingState, kind: str, entry: Foldable) -> bool:
    """Whether the payment rules refuse this entry although its operation is new: a
    second credit or refund of one payment, a reversal of another refund than the current
    one (two writers deciding concurrently, whatever operation ids they used)."""
    if kind == "payment":
        return cast(_OfPayment, entry).telegram_payment_charge_id in state.payments
    payment = state.payments.get(cast(_OfPayment, entry).telegram_payment_charge_id)
    if kind == "refund":
        return payment is None or payment.refunded
    # a reversal
    return (
        payment is None
        or not payment.refunded
        or payment.refund_operation is None
        or entry.operation_id != operations.refund_reversal(payment.refund_operation)
    )


def evolve(state: BillingState, entry: Foldable) -> BillingState:
    """Fold one ledger entry into ``state`` (in place) and return it."""
    kind = _kind(type(entry))
    if kind == "rejected" and cast(_Rejection, entry).reason == CONFLICTING_DUPLICATE:
        pair = (entry.operation_id, entry.command_digest)
        if pair in state.conflicts:
            state.duplicate_entries += 1
        else:
            state.conflicts.add(pair)
            state.entries += 1
        return state
    op = entry.operation_id
    if op in state.operations or op in state.previous_operations:
        state.duplicate_entries += 1
        return state
    at = entry.occurred_at
    rotate_at = state.rotate_at
    if rotate_at is None or at >= rotate_at:
        _rotate(state, at)
    state.operations[op] = entry.command_digest
    if state.reservations:
        _expire(state, at)
    if (kind == "payment" or kind == "refund" or kind == "reversal") and _refused_by_fold(
        state, kind, entry
    ):
        state.duplicate_entries += 1
        return state
    balance = state.balance + entry.amount
    state.balance = balance
    state.entries += 1
    state.last_entry_at = at
    if entry.balance_after != balance:
        state.balance_mismatches += 1
    if not kind or kind == "rejected":
        return state
    if kind == "usage":
        reservation = entry.reservation_id  # type: ignore[attr-defined]
        if reservation is not None:
            state.reservations.pop(reservation, None)
    elif kind == "payment":
        paid = cast(_PaymentLike, entry)
        charge = paid.telegram_payment_charge_id
        state.payments[charge] = PaymentState(charge, paid.stars, paid.amount, paid.occurred_at)
    elif kind == "refund" or kind == "reversal":
        payment = state.payments[cast(_OfPayment, entry).telegram_payment_charge_id]
        payment.refunded = kind == "refund"
        payment.refund_operation = op if kind == "refund" else None
    elif kind == "reserve":
        held = cast(_Reserved, entry)
        if held.expires_at > at:
            state.reservations[cast(str, held.reservation_id)] = Hold(
                held.reserved, held.expires_at
            )
    elif kind == "release":
        state.reservations.pop(cast(str, cast(_OfReservation, entry).reservation_id), None)
    elif kind == "starter":
        state.starter_granted = True
    return state


def _expire(state: BillingState, at: datetime) -> None:
    """Reservations stop holding at their ``expires_at``; the fold forgets them then."""
    expired = [rid for rid, hold in state.reservations.items() if hold.expires_at <= at]
    for rid in expired:
        del state.reservations[rid]


def fold(entries: Iterable[Foldable], state: BillingState | None = None) -> BillingState:
    """The state after ``entries`` (from an empty state unless one is given)."""
    result = state if state is not None else BillingState()
    for entry in entries:
        evolve(result, entry)
    return result
