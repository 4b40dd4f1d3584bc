"""The per-user ledger: state as a fold of entries, and the decision for each command.

``decide(state, command, now)`` is pure: it returns the ledger records the command causes
(none for a repeated operation). ``evolve(state, entry)`` folds one entry into the state.
The billing worker runs both live; replay runs ``evolve`` alone over the ledger topic, and
because the live state is itself nothing but that fold, replay reproduces it exactly.

Idempotency, by ``operation_id`` (chosen by the command's producer):

* an operation already decided (applied *or* rejected) with the same payload digest is a
  no-op: ``decide`` returns ``[]``;
* the same operation id with another digest is answered once with
  ``ledger.operation_rejected`` (``conflicting_duplicate``), naming both digests; the
  original entry stands;
* an entry whose operation is already in the state (only possible when two workers decided
  the same command, e.g. a zombie after a rebalance) is skipped by the fold and counted in
  :attr:`BillingState.duplicate_entries`, so a balance never counts an operation twice.

The balance is therefore the sum of the amounts of the entries the fold applied, which is
every entry except such duplicates; ``balance_after`` on each entry is checked against the
fold and disagreements are counted in :attr:`BillingState.balance_mismatches` (always 0
when one writer decides per user).

For throughput, ``evolve`` updates the state object in place and returns it (a fold over
millions of entries cannot copy a dict per entry); ``decide`` never mutates its input.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, Protocol, TypeAlias, TypedDict, cast

from actors.billing import operations, policy
from actors.billing.pricing import PRICE_TABLES, PriceTable, PricingError, price
from actors.billing.quantities import charge_problem
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
from events.catalog import BillingCommand, LedgerRecord
from events.envelope import Envelope, EnvelopeFields, caused_by, event_type, payload_digest

PRODUCER: Final = "billing"
ZERO: Final = Decimal(0)

# Rejection reasons: events.billing.REJECTION_REASONS.
CONFLICTING_DUPLICATE: Final = "conflicting_duplicate"
BALANCE_TOO_LOW: Final = "balance_too_low"
REFUND_WINDOW_EXPIRED: Final = "refund_window_expired"
UNKNOWN_PAYMENT: Final = "unknown_payment"
ALREADY_REFUNDED: Final = "already_refunded"
NOT_REFUNDED: Final = "not_refunded"
INVALID_AMOUNT: Final = "invalid_amount"
NOT_PAYER: Final = "not_payer"  # someone else asked to refund this payment
ALREADY_GRANTED: Final = "already_granted"  # a second starter credit, other op id
ALREADY_CREDITED: Final = "already_credited"  # a payment credited under another op id
UNPRICED: Final = "unpriced"  # usage with no price in the table (unknown model...)
OPERATION_EXPIRED: Final = "operation_expired"  # older than the operation-id window
NOT_PRIVILEGED: Final = "not_privileged"  # an admin operation by an id not configured as admin

Entry: TypeAlias = LedgerRecord

OPERATION_RETENTION: Final = timedelta(days=30)
"""How long an operation id is remembered after its entry (at least; at most twice that).

Operation ids are kept in two generations: when a folded entry is :data:`OPERATION_RETENTION`
past the start of the current generation, the previous one is dropped and the current one
becomes the previous; the start of the dropped-to generation is the state's ``horizon``.
Every operation whose entry occurred at or after the horizon is still remembered.

A command that could only be a repeat of a forgotten operation is refused instead
(``operation_expired``): a usage charge, top-up, reservation or release whose own
``occurred_at`` is before the horizon. Any earlier decision of the same command happened at
or after its ``occurred_at`` (producers derive the command, its time included, from what it
is about, so a retry carries the same time), hence at or after the horizon, hence is still
remembered: an operation is never applied twice. Payments, refunds, refund reversals,
``refunded_payment`` debits and the starter credit do not depend on remembered ids at all:
the state keeps their facts for good (each payment, whether and by which operation it is
refunded; whether the starter credit was granted), and those rules refuse a repeat under any
operation id.
"""
EXPIRABLE_COMMANDS: Final = (
    UsageChargeRequested,
    AdminTopUpRequested,
    UsageReserveRequested,
    ReservationReleaseRequested,
)


@dataclass(slots=True)
class PaymentState:
    """A credited Stars payment, as the ledger knows it."""

    charge_id: str
    stars: int
    credited: Decimal
    paid_at: datetime
    refunded: bool = False
    refund_operation: str | None = None
    """The operation whose debit refunded it (a reversal must name this one)."""


@dataclass(slots=True)
class Hold:
    """An open reservation: ``amount`` held until settled, released or ``expires_at``."""

    amount: Decimal
    expires_at: datetime


@dataclass(slots=True)
class BillingState:
    """One user's billing state: the fold of their ledger entries."""

    balance: Decimal = ZERO
    operations: dict[str, str] = field(default_factory=dict)
    """Operation ids of the current generation -> the payload digest that decided them."""
    previous_operations: dict[str, str] = field(default_factory=dict)
    """The previous generation (see :data:`OPERATION_RETENTION`)."""
    generation_started: datetime | None = None
    rotate_at: datetime | None = None
    """When the next generation starts (``generation_started`` + the window)."""
    horizon: datetime | None = None
    """Operations whose entries occurred before this may be forgotten (``None``: none is)."""
    conflicts: set[tuple[str, str]] = field(default_factory=set)
    """(operation id, digest) pairs already answered with ``conflicting_duplicate``."""
    payments: dict[str, PaymentState] = field(default_factory=dict)
    reservations: dict[str, Hold] = field(default_factory=dict)
    starter_granted: bool = False
    entries: int = 0
    duplicate_entries: int = 0
    balance_mismatches: int = 0
    last_entry_at: datetime | None = None

    def digest_of(self, operation_id: str) -> str | None:
        """The digest that decided ``operation_id``, if it is remembered."""
        found = self.operations.get(operation_id)
        return found if found is not None else self.previous_operations.get(operation_id)

    def held(self, at: datetime) -> Decimal:
        """What open reservations hold at ``at`` (an expired one holds nothing)."""
        return sum((h.amount for h in self.reservations.values() if h.expires_at > at), ZERO)

    def available(self, at: datetime) -> Decimal:
        """The balance minus what running turns hold: what may still be spent or refunded."""
        return self.balance - self.held(at) if self.reservations else self.balance

    def copy(self) -> BillingState:
        return BillingState(
            balance=self.balance,
            operations=dict(self.operations),
            previous_operations=dict(self.previous_operations),
            generation_started=self.generation_started,
            rotate_at=self.rotate_at,
            horizon=self.horizon,
            conflicts=set(self.conflicts),
            payments={
                k: PaymentState(
                    p.charge_id, p.stars, p.credited, p.paid_at, p.refunded, p.refund_operation
                )
                for k, p in self.payments.items()
            },
            reservations={k: Hold(h.amount, h.expires_at) for k, h in self.reservations.items()},
            starter_granted=self.starter_granted,
            entries=self.entries,
            duplicate_entries=self.duplicate_entries,
            balance_mismatches=self.balance_mismatches,
            last_entry_at=self.last_entry_at,
        )


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


# --------------------------------------------------------------------------- decide


def decide(
    state: BillingState,
    command: BillingCommand,
    now: datetime,
    *,
    tables: tuple[PriceTable, ...] = PRICE_TABLES,
    privileged: frozenset[int] = frozenset(),
) -> list[Entry]:
    """The ledger records ``command`` causes in ``state`` at ``now`` (``[]``: a repeat).

    ``privileged``: the user ids allowed admin operations (``PRIVILEGED_USER_IDS``); an
    admin top-up naming any other id is refused (``not_privileged``), whoever wrote it to
    the commands topic. Empty (the default): every admin operation is refused.

    Time rules use the command's own ``occurred_at`` (when the user acted or the usage
    happened), so the answer does not depend on how late the command is processed; ``now``
    only stamps the entries.
    """
    digest = payload_digest(command)
    op = command.operation_id
    known = state.digest_of(op)
    if known is not None:
        if known == digest or (op, digest) in state.conflicts:
            return []
        return [
            _rejected(
                state,
                command,
                digest,
                now,
                CONFLICTING_DUPLICATE,
                f"operation {op} was already decided with digest {known}; "
                f"this command has digest {digest}",
                label=f"conflict:{digest}",
            )
        ]
    horizon = state.horizon
    if (
        horizon is not None
        and command.occurred_at < horizon
        and isinstance(command, EXPIRABLE_COMMANDS)
    ):
        detail = (
            f"operation {op} occurred at {command.occurred_at:%Y-%m-%d %H:%M:%S}, before "
            f"{horizon:%Y-%m-%d %H:%M:%S}: older than the {OPERATION_RETENTION.days}-day "
            "window in which operation ids are remembered, so it cannot be told from a repeat"
        )
        return [_rejected(state, command, digest, now, OPERATION_EXPIRED, detail)]
    if isinstance(command, UsageChargeRequested):
        return [_usage(state, command, digest, now, tables)]
    if isinstance(command, UsageReserveRequested):
        return [_reserve(state, command, digest, now)]
    if isinstance(command, ReservationReleaseRequested):
        return [_release(state, command, digest, now)]
    if isinstance(command, RefundedPaymentDebitRequested):
        return [_refunded_payment(state, command, digest, now)]
    if isinstance(command, StarterCreditRequested):
        return [_starter(state, command, digest, now)]
    if isinstance(command, PaymentCreditRequested):
        return [_payment(state, command, digest, now)]
    if isinstance(command, RefundDebitRequested):
        return [_refund(state, command, digest, now)]
    if isinstance(command, RefundReversalRequested):
        return [_reversal(state, command, digest, now)]
    if isinstance(command, AdminTopUpRequested):
        if command.admin_user_id not in privileged:
            detail = f"user {command.admin_user_id} is not a privileged user"
            return [_rejected(state, command, digest, now, NOT_PRIVILEGED, detail)]
        return [_top_up(state, command, digest, now)]
    raise TypeError(f"not a billing command: {type(command).__name__}")


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


def _rejected(
    state: BillingState,
    command: BillingCommand,
    digest: str,
    now: datetime,
    reason: str,
    detail: str,
    *,
    label: str = "ledger",
) -> OperationRejected:
    return OperationRejected(
        **_envelope(command, now, label),
        **_common(state, command, digest, ZERO),
        command_type=event_type(type(command)),
        reason=reason,
        detail=detail,
    )


def _usage(
    state: BillingState,
    command: UsageChargeRequested,
    digest: str,
    now: datetime,
    tables: tuple[PriceTable, ...],
) -> Entry:
    problem = charge_problem(command.usage, command.tool_quantities)
    if problem:
        return _rejected(state, command, digest, now, INVALID_AMOUNT, problem)
    try:
        priced = price(
            at=command.occurred_at,
            model=command.model,
            usage=command.usage,
            tool_quantities=command.tool_quantities,
            tables=tables,
        )
    except PricingError as exc:
        return _rejected(state, command, digest, now, UNPRICED, str(exc))
    except ArithmeticError as exc:  # decimal.InvalidOperation, Overflow...: never raise
        return _rejected(state, command, digest, now, INVALID_AMOUNT, f"cannot be priced: {exc!r}")
    if not priced.total.is_finite():
        return _rejected(state, command, digest, now, INVALID_AMOUNT, f"priced at {priced.total}")
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
    )


def _reserve(
    state: BillingState, command: UsageReserveRequested, digest: str, now: datetime
) -> Entry:
    problem = policy.reservation_problem(command.amount)
    if problem:
        return _rejected(state, command, digest, now, INVALID_AMOUNT, problem)
    return UsageReserved(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, ZERO),
        reservation_id=command.reservation_id,
        reserved=command.amount,
        expires_at=command.occurred_at + policy.RESERVATION_TTL,
        thread_key=command.thread_key,
        turn_id=command.turn_id,
    )


def _release(
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


def _refunded_payment(
    state: BillingState, command: RefundedPaymentDebitRequested, digest: str, now: datetime
) -> Entry:
    """Telegram refunded the payment already: debit it unless it is already refunded (the
    bot's own ``/refund`` is confirmed by the same service message)."""
    charge = command.telegram_payment_charge_id
    payment = state.payments.get(charge)
    if payment is None:
        detail = f"no payment {charge} was credited to this user"
        return _rejected(state, command, digest, now, UNKNOWN_PAYMENT, detail)
    if payment.refunded:
        detail = f"payment {charge} is already refunded ({payment.refund_operation})"
        return _rejected(state, command, digest, now, ALREADY_REFUNDED, detail)
    return RefundedPaymentDebited(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, -payment.credited),
        telegram_payment_charge_id=charge,
        stars=payment.stars,
    )


def _starter(
    state: BillingState, command: StarterCreditRequested, digest: str, now: datetime
) -> Entry:
    if state.starter_granted:
        return _rejected(
            state, command, digest, now, ALREADY_GRANTED, "the starter credit is granted once"
        )
    return StarterCreditGranted(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, policy.STARTER_CREDIT),
    )


def _payment(
    state: BillingState, command: PaymentCreditRequested, digest: str, now: datetime
) -> Entry:
    charge = command.telegram_payment_charge_id
    if charge in state.payments:
        return _rejected(
            state, command, digest, now, ALREADY_CREDITED, f"payment {charge} is already credited"
        )
    problem = policy.stars_amount_problem(command.stars) or policy.margin_problem(
        command.owner_margin
    )
    if problem:
        return _rejected(state, command, digest, now, INVALID_AMOUNT, problem)
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


def _refund(
    state: BillingState, command: RefundDebitRequested, digest: str, now: datetime
) -> Entry:
    charge = command.telegram_payment_charge_id
    payment = state.payments.get(charge)
    if payment is None:
        return _rejected(
            state,
            command,
            digest,
            now,
            UNKNOWN_PAYMENT,
            f"no payment {charge} was made by you (only the payer can refund a payment)",
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
        return _rejected(state, command, digest, now, reason, detail)
    return RefundDebited(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, -payment.credited),
        telegram_payment_charge_id=charge,
        stars=payment.stars,
    )


def _reversal(
    state: BillingState, command: RefundReversalRequested, digest: str, now: datetime
) -> Entry:
    charge = command.telegram_payment_charge_id
    payment = state.payments.get(charge)
    if payment is None:
        return _rejected(state, command, digest, now, UNKNOWN_PAYMENT, f"no payment {charge}")
    refund = payment.refund_operation
    if not payment.refunded or refund is None or op_reverses(command.operation_id) != refund:
        return _rejected(
            state,
            command,
            digest,
            now,
            NOT_REFUNDED,
            f"payment {charge} has no refund debit {op_reverses(command.operation_id)}",
        )
    return RefundReversed(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, payment.credited),
        telegram_payment_charge_id=charge,
    )


def _top_up(state: BillingState, command: AdminTopUpRequested, digest: str, now: datetime) -> Entry:
    problem = policy.admin_amount_problem(command.amount)
    if problem:
        return _rejected(state, command, digest, now, INVALID_AMOUNT, problem)
    return AdminToppedUp(
        **_envelope(command, now, "ledger"),
        **_common(state, command, digest, command.amount),
        admin_user_id=command.admin_user_id,
        reason=command.reason,
    )


def op_reverses(reversal_operation_id: str) -> str:
    """The refund operation a ``refund-reversal:...`` operation id names."""
    return reversal_operation_id.removeprefix(operations.refund_reversal(""))
