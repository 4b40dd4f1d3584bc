"""A user's billing state to and from its snapshot record (operation ids left out: they are
re-learnt from the ledger window, see :mod:`infra.billing.snapshots`)."""

from __future__ import annotations

from actors.billing.ledger_state import OPERATION_RETENTION, BillingState, Hold, PaymentState
from events.billing import ConflictSnapshot, HoldSnapshot, PaymentSnapshot, StateSnapshot


def to_snapshot(state: BillingState) -> StateSnapshot:
    return StateSnapshot(
        balance=state.balance,
        generation_started=state.generation_started,
        horizon=state.horizon,
        conflicts=tuple(
            ConflictSnapshot(operation_id=op, command_digest=digest)
            for op, digest in sorted(state.conflicts)
        ),
        payments=tuple(
            PaymentSnapshot(
                telegram_payment_charge_id=p.charge_id,
                stars=p.stars,
                credited=p.credited,
                paid_at=p.paid_at,
                refunded=p.refunded,
                refund_operation=p.refund_operation,
            )
            for p in state.payments.values()
        ),
        reservations=tuple(
            HoldSnapshot(reservation_id=rid, amount=h.amount, expires_at=h.expires_at)
            for rid, h in state.reservations.items()
        ),
        starter_granted=state.starter_granted,
        entries=state.entries,
        duplicate_entries=state.duplicate_entries,
        balance_mismatches=state.balance_mismatches,
        last_entry_at=state.last_entry_at,
    )


def from_snapshot(snapshot: StateSnapshot) -> BillingState:
    """The state a snapshot describes, with no operation ids yet."""
    return BillingState(
        balance=snapshot.balance,
        generation_started=snapshot.generation_started,
        rotate_at=(
            None
            if snapshot.generation_started is None
            else snapshot.generation_started + OPERATION_RETENTION
        ),
        horizon=snapshot.horizon,
        conflicts={(c.operation_id, c.command_digest) for c in snapshot.conflicts},
        payments={
            p.telegram_payment_charge_id: PaymentState(
                p.telegram_payment_charge_id,
                p.stars,
                p.credited,
                p.paid_at,
                p.refunded,
                p.refund_operation,
            )
            for p in snapshot.payments
        },
        reservations={
            h.reservation_id: Hold(h.amount, h.expires_at) for h in snapshot.reservations
        },
        starter_granted=snapshot.starter_granted,
        entries=snapshot.entries,
        duplicate_entries=snapshot.duplicate_entries,
        balance_mismatches=snapshot.balance_mismatches,
        last_entry_at=snapshot.last_entry_at,
    )
