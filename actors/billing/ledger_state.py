"""A user's billing state (balance, payments, reservations, remembered operation ids) and the
rejection reasons; the fold (:mod:`actors.billing.ledger_fold`) builds it, decide
(:mod:`actors.billing.ledger`) reads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Final, TypeAlias

from events.billing import (
    AdminTopUpRequested,
    ReservationReleaseRequested,
    UsageChargeRequested,
    UsageReserveRequested,
)
from events.catalog import LedgerRecord

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
